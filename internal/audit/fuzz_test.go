package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the auto-detecting decoder, seeded
// with every supported envelope (plain lines, EventList, CloudWatch,
// Firehose, Lambda awslogs, GKE LogEntry, Pub/Sub push, AKS): it must never
// panic, and every emitted event must have been counted.
func FuzzDecode(f *testing.F) {
	// Seed with every real envelope sample there is; none is required.
	samples, _ := filepath.Glob(filepath.Join(envelopes, "*", "*"))
	for _, path := range samples {
		if b, err := os.ReadFile(path); err == nil && len(b) < 1<<20 {
			f.Add(b)
		}
	}
	for _, s := range []string{`{"kind":"Event"}`, `[]`, `[{"records":[{"category":"kube-audit","properties":{"log":"{}"}}]}]`,
		`{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","methodName":"io.k8s.core.v1.pods.exec.create","resourceName":"core/v1/namespaces/a/pods/b/exec"}}`,
		`{"message":{"data":"e30="}}`, "\x1f\x8b"} {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile(filepath.Join(envelopes, "..", "falco", "trace_files", "exec_pod.json")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		st, _ := Decode(t.Context(), bytes.NewReader(data), Source{Name: "fuzz"}, fixedNow, func(e *Event) error {
			n++
			_ = e.Value()
			return nil
		})
		if n != st.Events {
			t.Fatalf("emitted %d events, counted %d", n, st.Events)
		}
	})
}
