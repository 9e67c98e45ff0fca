package policytest

import (
	"strings"
	"testing"
)

const suite = `apiVersion: palisade.dev/v1alpha1
kind: PolicyTest
policies: [p.yaml]
resources: [m.yaml]
results:
  - {policy: a, resources: [x], result: fail, request: {operation: UPDATE, oldResource: y}}
`

func TestParseSuite(t *testing.T) {
	tests := []struct {
		name, doc, wantErr string
	}{
		{"valid", suite, ""},
		{"unknown field", strings.Replace(suite, "result: fail", "result: fail, expected: pass", 1), "field expected not found"},
		{"bad result", strings.Replace(suite, "result: fail", "result: denied", 1), `results[0].result "denied"`},
		{"bad operation", strings.Replace(suite, "UPDATE", "DELETE", 1), `operation "DELETE"`},
		{"wrong kind", strings.Replace(suite, "PolicyTest", "Test", 1), "kind PolicyTest"},
		{"no results", strings.Split(suite, "results:")[0], "at least one expected result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSuite("s.yaml", []byte(tt.doc))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "s.yaml") {
				t.Fatalf("error %v, want one naming s.yaml with %q", err, tt.wantErr)
			}
		})
	}
}

func FuzzParseSuite(f *testing.F) {
	f.Add([]byte(suite))
	f.Add([]byte("results: [{}]"))
	f.Add([]byte("a: &a [*a, *a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSuite("f.yaml", data)
		if err == nil && len(s.Results) == 0 {
			t.Fatal("a suite without results was accepted")
		}
	})
}
