package ingest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/audit"
	"github.com/palisade-sec/palisade/internal/audit/audittest"
	"github.com/palisade-sec/palisade/internal/audit/receiver"
	"github.com/palisade-sec/palisade/internal/bus"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// TestCorrelationSurvivesRestart runs the pipeline over steps 1 and 2 of
// the anonymous → binding → workload sequence, stops everything, starts a
// new bus, engine and pipeline on the same directories and feeds step 3:
// the sequence completes only when the correlation state was persisted.
func TestCorrelationSurvivesRestart(t *testing.T) {
	for _, persist := range []bool{true, false} {
		t.Run(fmt.Sprintf("persist=%v", persist), func(t *testing.T) {
			ctx := t.Context()
			busDir, statePath := t.TempDir(), filepath.Join(t.TempDir(), "correlation.json")
			st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "p.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			at := time.Now().UTC().Add(-10 * time.Minute)
			anon := `"user":{"username":"system:anonymous","groups":["system:unauthenticated"]},"sourceIPs":["198.51.100.9"],"annotations":{"authorization.k8s.io/decision":"allow"}`
			steps := []string{
				event("s1", at, anon+`,"verb":"get","requestURI":"/api/v1/namespaces","responseStatus":{"code":200},"objectRef":{"resource":"namespaces","apiVersion":"v1"}`),
				event("s2", at.Add(time.Minute), anon+`,"verb":"create","requestURI":"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings","responseStatus":{"code":201},
					"objectRef":{"resource":"clusterrolebindings","name":"b","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},
					"requestObject":{"metadata":{"name":"b"},"roleRef":{"kind":"ClusterRole","name":"edit"},"subjects":[{"kind":"ServiceAccount","namespace":"apps","name":"web"}]}`),
				event("s3", at.Add(2*time.Minute), `"user":{"username":"system:serviceaccount:apps:web","groups":["system:serviceaccounts"]},"sourceIPs":["10.0.0.5"],
					"annotations":{"authorization.k8s.io/decision":"allow"},"verb":"create","requestURI":"/api/v1/namespaces/apps/pods","responseStatus":{"code":201},
					"objectRef":{"resource":"pods","namespace":"apps","name":"p","apiVersion":"v1"},
					"requestObject":{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"busybox:1.37"}]}}`),
			}
			run(t, busDir, statePath, persist, st, steps[:2], 2)
			run(t, busDir, statePath, persist, st, steps[2:], 3)

			alerts, err := st.ListAlerts(ctx, store.AlertFilter{Cluster: "prod"})
			if err != nil {
				t.Fatal(err)
			}
			var evidence []string
			for _, a := range alerts {
				if a.RuleID == "anonymous-to-binding-to-workload" {
					evidence = a.EvidenceAuditIDs
				}
			}
			switch want := []string{"s1", "s2", "s3"}; {
			case persist && !slices.Equal(evidence, want):
				t.Errorf("sequence evidence = %v, want %v", evidence, want)
			case !persist && evidence != nil:
				t.Errorf("without saved state the sequence still completed (%v): the test does not test the state", evidence)
			}
		})
	}
}

func event(id string, at time.Time, fields string) string {
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":%q,"stage":"ResponseComplete","requestReceivedTimestamp":%q,"stageTimestamp":%q,%s}`,
		id, at.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano), fields)
}

// run is one life of the server's audit side: it opens the bus in dir,
// restores the engine's state, delivers events through the receiver, waits
// until the store holds want events, and shuts everything down.
func run(t *testing.T, dir, statePath string, persist bool, st store.Store, events []string, want int) {
	t.Helper()
	ctx := t.Context()
	b, err := bus.Open(ctx, bus.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	engine := audittest.Engine(t)
	runCtx, stop := context.WithCancel(ctx)
	stateDone := make(chan error, 1)
	if persist {
		state := audit.StateFile{Path: statePath}
		engine.LoadState(state, nil)
		go func() { stateDone <- engine.SaveState(runCtx, state, 20*time.Millisecond, nil) }()
	} else {
		stateDone <- nil
	}
	rc, err := receiver.New(receiver.Options{Publisher: b, Authenticate: func(*http.Request) (string, bool) { return "prod", true }})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	body := `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[` + strings.Join(events, ",") + `]}`
	rc.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, receiver.Path, strings.NewReader(body)))
	if rec.Code != http.StatusOK {
		t.Fatalf("receiver: %d %s", rec.Code, rec.Body)
	}
	p := &Pipeline{Bus: b, Store: st, Engine: engine}
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		evs, _ := st.QueryAuditEvents(ctx, store.AuditQuery{Cluster: "prod"})
		if n, err := b.Pending(ctx, Consumer); len(evs) == want && err == nil && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store holds %d events, want %d", len(evs), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-stateDone; err != nil {
		t.Fatal(err)
	}
}
