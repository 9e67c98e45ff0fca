package falcoevents_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/audit/audittest"
	"github.com/palisade-sec/palisade/internal/audit/falcoevents"
	"github.com/palisade-sec/palisade/internal/audit/ingest"
	"github.com/palisade-sec/palisade/internal/audit/receiver"
	"github.com/palisade-sec/palisade/internal/store"
)

const token = "falco-test-token-0123456789"

func authenticate(r *http.Request) (string, bool) {
	return "prod-eu", r.Header.Get("Authorization") == "Bearer "+token
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFalcoThroughPipeline runs the whole path on real parts: an audit
// batch with a privileged pod and Falco alerts POSTed over HTTP, the
// embedded bus, the audit pipeline with the built-in rules plus the Falco
// correlation, and SQLite. The shell in the privileged pod raises the
// correlation alert; Falco events are stored and searchable like audit
// events, and raise no other rule's alert.
func TestFalcoThroughPipeline(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	b, st := audittest.Stack(t)
	engine := audittest.Engine(t, falcoevents.Rules)

	auditRc, err := receiver.New(receiver.Options{Publisher: b, Authenticate: authenticate})
	if err != nil {
		t.Fatal(err)
	}
	falcoRc, err := falcoevents.New(falcoevents.Options{Publisher: b, Authenticate: authenticate})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+receiver.Path, auditRc)
	mux.Handle("POST "+falcoevents.Path, falcoRc)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	post := func(path, tok string, body []byte) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	batch := `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[` + strings.TrimSpace(string(read(t, "privileged-pod.json"))) + `]}`
	if code := post(receiver.Path, token, []byte(batch)); code != 200 {
		t.Fatalf("audit batch: HTTP %d", code)
	}
	if code := post(falcoevents.Path, "wrong", read(t, "terminal-shell.json")); code != 401 {
		t.Errorf("wrong token: HTTP %d, want 401", code)
	}
	if code := post(falcoevents.Path, token, []byte(`{"rule":"x"}`)); code != 400 {
		t.Errorf("bad alert: HTTP %d, want 400", code)
	}
	for _, f := range []string{"terminal-shell.json", "miner-pool.json", "terminal-shell.json", "legacy-no-namespace.json"} {
		if code := post(falcoevents.Path, token, read(t, f)); code != 200 {
			t.Fatalf("%s: HTTP %d", f, code)
		}
	}

	p := &ingest.Pipeline{Bus: b, Store: st, Engine: engine}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var evs []store.AuditEvent
	deadline := time.Now().Add(30 * time.Second)
	for len(evs) < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %d events stored, want 4 (1 audit + 3 distinct Falco)", len(evs))
		}
		time.Sleep(50 * time.Millisecond)
		if evs, err = st.QueryAuditEvents(ctx, store.AuditQuery{Cluster: "prod-eu"}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	<-done

	evs, _ = st.QueryAuditEvents(context.Background(), store.AuditQuery{Cluster: "prod-eu", Verb: falcoevents.Verb, Namespace: "shop"})
	if len(evs) != 2 {
		t.Errorf("%d Falco events in shop stored, want 2 (the resent alert is stored once)", len(evs))
	}
	alerts, err := st.ListAlerts(context.Background(), store.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var corrAlerts int
	for _, a := range alerts {
		switch a.RuleID {
		case "privileged-pod-then-runtime-alert":
			corrAlerts++
			if len(a.EvidenceAuditIDs) != 2 || a.EvidenceAuditIDs[0] != "7c1d9a52-0000-4000-8000-000000000003" ||
				!strings.HasPrefix(a.EvidenceAuditIDs[1], "falco-") {
				t.Errorf("correlation evidence = %v", a.EvidenceAuditIDs)
			}
		default:
			// Rules on the pod create are expected; none may fire on a Falco event.
			if slices.ContainsFunc(a.EvidenceAuditIDs, func(id string) bool { return strings.HasPrefix(id, "falco-") }) {
				t.Errorf("rule %s fired on a Falco event", a.RuleID)
			}
		}
	}
	// The shell and the miner are both in shop/web-0: one alert each.
	if corrAlerts != 2 {
		t.Errorf("%d correlation alerts, want 2; alerts: %v", corrAlerts, ruleIDs(alerts))
	}
}

func ruleIDs(as []store.Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.RuleID)
	}
	return out
}
