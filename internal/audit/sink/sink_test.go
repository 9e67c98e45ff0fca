package sink

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/audit"
	"github.com/palisade-sec/palisade/internal/finding"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 10_000_000, time.UTC)

// sampleAlerts are shaped like what the built-in rules raise from the
// ingest test's cluster-admin-to-anonymous binding.
func sampleAlerts() []Alert {
	return []Alert{
		{ID: "ALERT-5A1F00C0FFEE0001", Alert: audit.Alert{
			RuleID: "cluster-admin-binding", RuleName: "Binding to cluster-admin created", Kind: "rule",
			Severity: finding.SeverityCritical, MITRE: audit.MITRE{Tactics: []string{"TA0004"}, Techniques: []string{"T1098.006"}},
			Description: "A RoleBinding or ClusterRoleBinding granting cluster-admin was created.",
			Time:        t0, Cluster: "prod-eu", Actor: "mallory", SourceIPs: []string{"203.0.113.7"}, Verb: "create",
			Target:   audit.Target{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings", Name: "anon-admin"},
			Evidence: []string{"0b1c2d3e-0000-4000-8000-000000000001"},
			Playbook: []audit.Step{
				{Title: "Inspect the binding", Command: "kubectl get clusterrolebinding anon-admin -o yaml"},
				{Title: "Delete it if unexpected", Command: "kubectl delete clusterrolebinding anon-admin"},
				{Title: "Review what its subjects did", Command: "palisade audit replay <logs>"},
				{Title: "Rotate credentials"},
			},
			File: "builtin:rbac.yaml",
		}},
		{ID: "ALERT-5A1F00C0FFEE0002", Alert: audit.Alert{
			RuleID: "privileged-pod-then-runtime-alert", RuleName: "Privileged pod, then a runtime alert inside it", Kind: "sequence",
			Severity: finding.SeverityHigh, Message: "Terminal shell in container shop/web-0",
			Time: t0.Add(time.Minute), Cluster: "prod-eu", Actor: "system:falco:node-1", Verb: "falco",
			Target:   audit.Target{Resource: "pods", Namespace: "shop", Name: "web-0"},
			Evidence: []string{"0b1c2d3e-0000-4000-8000-000000000003", "falco-0d6b7c0e"},
		}},
	}
}

// captured is one HTTP request a test server received.
type captured struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// recorder is a loopback HTTP server that records requests and answers
// with the status code answer returns.
type recorder struct {
	mu     sync.Mutex
	reqs   []captured
	answer func(n int) (int, string)
	srv    *httptest.Server
}

func newRecorder(t *testing.T, answer func(n int) (int, string)) *recorder {
	r := &recorder{answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, captured{req.Method, req.URL.Path, req.Header.Clone(), body})
		n := len(r.reqs)
		r.mu.Unlock()
		code, msg := http.StatusOK, ""
		if r.answer != nil {
			code, msg = r.answer(n)
		}
		w.WriteHeader(code)
		io.WriteString(w, msg)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) requests() []captured {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]captured(nil), r.reqs...)
}

// render prints requests for a golden file: method, path, the headers
// named, and the body indented.
func render(t *testing.T, reqs []captured, headers ...string) string {
	var b strings.Builder
	for _, r := range reqs {
		b.WriteString(r.Method + " " + r.Path + "\n")
		sort.Strings(headers)
		for _, h := range headers {
			if v := r.Header.Get(h); v != "" {
				b.WriteString(h + ": " + v + "\n")
			}
		}
		var out bytes.Buffer
		if err := json.Indent(&out, r.Body, "", "  "); err != nil {
			t.Fatalf("body is not JSON: %v\n%s", err, r.Body)
		}
		b.WriteString(out.String() + "\n\n")
	}
	return b.String()
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from golden (-want +got):\n%s", path, diff)
	}
}

// TestGoldenFilesHaveTests fails on orphaned golden files.
func TestGoldenFilesHaveTests(t *testing.T) {
	known := map[string]bool{"webhook": true, "slack": true, "alertmanager": true, "thehive": true, "file": true,
		"posture-webhook": true, "posture-slack": true, "posture-alertmanager": true, "posture-thehive": true, "posture-file": true}
	names, _ := filepath.Glob("testdata/*.golden")
	for _, n := range names {
		if !known[strings.TrimSuffix(filepath.Base(n), ".golden")] {
			t.Errorf("orphaned golden file %s", n)
		}
	}
}
