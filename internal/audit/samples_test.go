package audit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/sharedtest"

	"go.yaml.in/yaml/v3"
)

// TestPantherEKSAnonymousCases runs the EKS audit events of Panther's
// "EKS Anonymous API Access" rule tests through the built-in rules. Where
// Panther's expectation and ours differ by design, the case says why.
func TestPantherEKSAnonymousCases(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(envelopes, "eks/panther-analysis__anonymous_api_access.yml"))
	if err != nil {
		sharedtest.Missing(t, "samples not available: %v", err)
	}
	var doc struct {
		Tests []struct {
			Name           string         `yaml:"Name"`
			ExpectedResult bool           `yaml:"ExpectedResult"`
			Log            map[string]any `yaml:"Log"`
		} `yaml:"Tests"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	// Our anonymous-request-allowed leaves out what system:public-info-viewer
	// grants every cluster (/healthz, /version…) and denied requests, which
	// only matter in bulk (anonymous-forbidden-burst); Panther flags them.
	byDesign := map[string]bool{
		"Anonymous API Access Web Scanner Allowed": false,
		"ELB Health Check from Public IP":          false,
		"Anonymous API Access Web Scanner Denied":  false,
	}
	if len(doc.Tests) < 5 {
		t.Fatalf("only %d Panther cases", len(doc.Tests))
	}
	for _, tc := range doc.Tests {
		t.Run(tc.Name, func(t *testing.T) {
			b, err := json.Marshal(tc.Log)
			if err != nil {
				t.Fatal(err)
			}
			en := builtinEngine(t, EngineOptions{})
			fired := false
			st, err := Replay(t.Context(), en, bytes.NewReader(b), Source{Name: tc.Name, Provider: ProviderEKS}, fixedNow, func(a *Alert) error {
				fired = fired || a.RuleID == "anonymous-request-allowed"
				return nil
			})
			if err != nil || st.Events != 1 {
				t.Fatalf("decode Panther event: %d events, %v %v", st.Events, err, st.Errors)
			}
			want, ok := byDesign[tc.Name]
			if !ok {
				want = tc.ExpectedResult
			}
			if fired != want {
				t.Errorf("anonymous-request-allowed fired=%v, want %v (Panther expects %v)", fired, want, tc.ExpectedResult)
			}
		})
	}
}

// TestFalcoTracesBuiltin replays each of Falco's trace files through the
// built-in rules and compares the rules that fire with a golden file.
func TestFalcoTracesBuiltin(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/audit-samples/falco/trace_files/*.json")
	if len(files) == 0 {
		sharedtest.Missing(t, "Falco trace files not available")
	}
	var out strings.Builder
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		en := builtinEngine(t, EngineOptions{})
		var ids []string
		st, err := Replay(t.Context(), en, fh, Source{Name: filepath.Base(f)}, fixedNow, func(a *Alert) error {
			ids = append(ids, a.RuleID)
			return nil
		})
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(ids)
		out.WriteString(filepath.Base(f) + ": " + strings.Join(ids, " "))
		if st.ErrorCount > 0 {
			out.WriteString(" [bad records: " + strings.Join(strings.Fields(st.Errors[0].Error())[:3], " ") + "]")
		}
		out.WriteString("\n")
	}
	golden(t, "testdata/falco-traces-builtin.golden", []byte(out.String()))
}
