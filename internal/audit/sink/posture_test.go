package sink

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/store"
)

// postureFinding is shaped like what continuous posture stores for a
// privileged Deployment behind a NodePort (internal/posture/continuous).
func postureFinding() finding.Finding {
	return finding.Finding{
		ID: "PAL-0E1F2A3B4C5D6E7F", RuleID: "posture/internet-exposed-workload",
		Title: "Privileged workload reachable from outside the cluster", Severity: finding.SeverityCritical,
		Category: "exposure", Message: "Deployment shop/miner runs privileged containers and is reachable through Service shop/miner (NodePort).",
		Resource:    finding.Resource{Cluster: "prod-eu", Namespace: "shop", APIVersion: "apps/v1", Kind: "Deployment", Name: "miner"},
		Evidence:    []finding.Evidence{{Name: "path", Value: "Service shop/miner (NodePort)", Key: true}},
		Remediation: "Remove privileged: true, or stop exposing the workload outside the cluster.",
		Controls: []finding.Control{{Framework: "CIS-K8s-1.9", ID: "5.2.2"}, {Framework: "MITRE-ATT&CK", ID: "T1190"},
			{Framework: "MITRE-ATT&CK", ID: "T1611"}, {Framework: "MITRE-ATT&CK", ID: "TA0001"}},
		Status: finding.StatusOpen,
	}
}

func storedPostureAlert(t *testing.T, f finding.Finding) store.Alert {
	t.Helper()
	raw, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return store.Alert{ID: "posture-" + f.ID, RuleID: f.RuleID, Severity: f.Severity, Cluster: "prod-eu",
		Title: f.Title + ": Deployment shop/miner", CreatedAt: t0, UpdatedAt: t0.Add(2 * time.Minute), Raw: raw}
}

func TestPostureAlert(t *testing.T) {
	t.Parallel()
	f := postureFinding()
	a, err := PostureAlert(storedPostureAlert(t, f))
	if err != nil {
		t.Fatal(err)
	}
	if !a.IsPosture() || a.Source != SourcePosture || a.Kind != PostureKind {
		t.Errorf("source %q kind %q: not a posture alert", a.Source, a.Kind)
	}
	if a.ID != "posture-"+f.ID || a.RuleID != f.RuleID || a.Severity != f.Severity || a.Cluster != "prod-eu" || a.Message != f.Message {
		t.Errorf("common fields: %+v", a.Alert)
	}
	if !a.Time.Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("time %v, want the alert's last update", a.Time)
	}
	if got, want := a.MITRE.Techniques, []string{"T1190", "T1611"}; !cmp.Equal(got, want) {
		t.Errorf("MITRE techniques %v, want %v", got, want)
	}
	if got := a.MITRE.Tactics; !cmp.Equal(got, []string{"TA0001"}) {
		t.Errorf("MITRE tactics %v", got)
	}
	want := &PostureDetail{FindingID: f.ID, Category: f.Category, Object: f.Resource, Evidence: f.Evidence,
		Remediation: f.Remediation, Controls: f.Controls}
	if diff := cmp.Diff(want, a.Posture); diff != "" {
		t.Errorf("posture detail (-want +got):\n%s", diff)
	}
	// On the wire it says where it comes from and round-trips.
	b, err := json.Marshal(&a)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"source":"posture"`) || !strings.Contains(string(b), `"evidence":[]`) {
		t.Errorf("encoded: %s", b)
	}
	var back Alert
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, back); diff != "" {
		t.Errorf("round trip (-sent +decoded):\n%s", diff)
	}

	for name, raw := range map[string]string{
		"not JSON":    `{"ruleId":`,
		"no check ID": `{"id":"PAL-1","title":"x"}`,
		"audit alert": `{"ruleId":"","ruleName":"Binding to cluster-admin created","kind":"rule"}`,
	} {
		sa := storedPostureAlert(t, f)
		sa.Raw = []byte(raw)
		if _, err := PostureAlert(sa); err == nil || !strings.Contains(err.Error(), sa.ID) {
			t.Errorf("%s: err = %v, want one naming alert %s", name, err, sa.ID)
		}
	}
}

// TestPostureSinks renders a posture alert through every sink: each shows
// the check, cluster, object, remediation and controls in its own terms
// (golden files posture-*.golden).
func TestPostureSinks(t *testing.T) {
	t.Parallel()
	a, err := PostureAlert(storedPostureAlert(t, postureFinding()))
	if err != nil {
		t.Fatal(err)
	}
	// A cluster-wide exposure names the cluster as its object.
	anon := finding.Finding{ID: "PAL-A0A0A0A0A0A0A0A0", RuleID: "posture/anonymous-api-access", Title: "Anonymous users can read the cluster",
		Severity: finding.SeverityCritical, Category: "exposure", Message: "An unauthenticated request listed namespaces.",
		Resource: finding.Resource{Cluster: "prod-eu", Kind: "Cluster", Name: "prod-eu"}, Status: finding.StatusOpen}
	b, err := PostureAlert(storedPostureAlert(t, anon))
	if err != nil {
		t.Fatal(err)
	}
	alerts := []Alert{a, b}
	for _, tc := range []struct {
		name    string
		sink    func(url string) (Sink, error)
		headers []string
	}{
		{"webhook", func(u string) (Sink, error) {
			return NewWebhook(WebhookOptions{Name: "soc", URL: u, Secret: "k", Now: fixedNow})
		}, []string{TimestampHeader, SignatureHeader}},
		{"slack", func(u string) (Sink, error) { return NewSlack(SlackOptions{Name: "oncall", URL: u}) }, nil},
		{"alertmanager", func(u string) (Sink, error) {
			return NewAlertmanager(AlertmanagerOptions{Name: "am", URL: u, ExternalURL: "https://palisade.example:8443", Now: fixedNow})
		}, nil},
		{"thehive", func(u string) (Sink, error) {
			return NewTheHive(TheHiveOptions{Name: "hive", URL: u, APIKey: "hive-api-key"})
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, func(int) (int, string) { return http.StatusOK, "" })
			s, err := tc.sink(rec.srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(t.Context(), alerts); err != nil {
				t.Fatal(err)
			}
			got := render(t, rec.requests(), tc.headers...)
			checkGolden(t, "posture-"+tc.name, got)
			for _, want := range []string{"posture/internet-exposed-workload", "prod-eu", "shop", "miner", "T1190"} {
				if !strings.Contains(got, want) {
					t.Errorf("%s delivery does not mention %q", tc.name, want)
				}
			}
		})
	}
	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "alerts.jsonl")
		f, err := NewFile(FileOptions{Name: "jsonl", Path: path})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Send(t.Context(), alerts); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(path)
		checkGolden(t, "posture-file", string(data))
	})
}

// TestSourceDefaultsToAudit: a message on the bus from before alerts had
// a source is an audit alert, and sinks say so.
func TestSourceDefaultsToAudit(t *testing.T) {
	t.Parallel()
	alerts := sampleAlerts()
	if alerts[0].Source != "" {
		t.Fatal("the sample audit alerts are meant to have no source")
	}
	rec := newRecorder(t, nil)
	w, _ := NewWebhook(WebhookOptions{Name: "plain", URL: rec.srv.URL})
	if err := w.Send(t.Context(), alerts); err != nil {
		t.Fatal(err)
	}
	var p WebhookPayload
	if err := json.Unmarshal(rec.requests()[0].Body, &p); err != nil {
		t.Fatal(err)
	}
	for _, a := range p.Alerts {
		if a.Source != SourceAudit || a.Posture != nil {
			t.Errorf("alert %s: source %q, posture %v", a.ID, a.Source, a.Posture)
		}
	}
	if alerts[0].Source != "" {
		t.Error("Send changed the caller's alerts")
	}
}
