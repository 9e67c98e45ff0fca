package posture

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
)

func testCheck(id string, versions ...Versioned) Check {
	return Check{
		ID: id, Title: "t", Level: LevelBaseline, Severity: finding.SeverityLow, Category: "workload",
		Rationale: "r", Remediation: "m", Scope: ScopeObject, Kinds: []string{"Pod"}, Versions: versions,
	}
}

func result(msg string) func(*Input) []Result {
	return func(*Input) []Result { return []Result{{Message: msg}} }
}

func TestNewRegistryValidates(t *testing.T) {
	ok := Versioned{MinVersion: 1, Eval: result("v1")}
	for _, tc := range []struct {
		name string
		all  []Check
		want string
	}{
		{"duplicate", []Check{testCheck("a", ok), testCheck("a", ok)}, "duplicate ID"},
		{"bad id", []Check{testCheck("Bad_ID", ok)}, "lowercase words"},
		{"no versions", []Check{testCheck("a")}, "no versions"},
		{"not increasing", []Check{testCheck("a", Versioned{MinVersion: 2, Eval: result("")}, Versioned{MinVersion: 2, Eval: result("")})}, "does not increase"},
		{"no eval", []Check{testCheck("a", Versioned{MinVersion: 1})}, "no Eval"},
		{"zero version", []Check{testCheck("a", Versioned{MinVersion: 0, Eval: result("")})}, "≥ 1"},
		{"no kinds", []Check{func() Check { c := testCheck("a", ok); c.Kinds = nil; return c }()}, "without kinds"},
		{"no severity", []Check{func() Check { c := testCheck("a", ok); c.Severity = finding.SeverityUnknown; return c }()}, "severity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRegistry(tc.all, Latest)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestPin checks that a pinned registry evaluates each check as it was at
// the pin, and leaves out checks that did not exist yet.
func TestPin(t *testing.T) {
	all := []Check{
		testCheck("evolving", Versioned{MinVersion: 1, Eval: result("v1")}, Versioned{MinVersion: 3, Eval: result("v3")}),
		testCheck("newer", Versioned{MinVersion: 2, Eval: result("new")}),
	}
	inv := kube.NewInventory([]*kube.Object{{Ref: kube.Ref{Kind: "Pod", Name: "p"}}})
	for _, tc := range []struct {
		pin  Version
		want []string
	}{
		{1, []string{"v1"}},
		{2, []string{"v1", "new"}},
		{3, []string{"v3", "new"}},
		{Latest, []string{"v3", "new"}},
	} {
		reg, err := NewRegistry(all, tc.pin)
		if err != nil {
			t.Fatal(err)
		}
		out, err := NewScanner(reg, nil).Scan(t.Context(), inv, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range out.Findings {
			got = append(got, strings.TrimSpace(strings.TrimSuffix(f.Message, "r")))
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("pin %d (-want +got):\n%s", tc.pin, diff)
		}
	}
}

func TestParseExceptionAnnotation(t *testing.T) {
	got, problems := ParseExceptionAnnotation("host-port, posture/host-namespaces: CNI agent\nprivileged\n; bad id!: x")
	want := map[string]string{"host-port": "CNI agent", "host-namespaces": "CNI agent"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	if len(problems) != 2 {
		t.Errorf("problems = %q, want 2 (no reason; bad ID)", problems)
	}
}

func TestAnnotationExceptions(t *testing.T) {
	reg, err := NewRegistry([]Check{testCheck("flagged", Versioned{MinVersion: 1, Eval: result("bad")})}, Latest)
	if err != nil {
		t.Fatal(err)
	}
	pod := &kube.Object{Ref: kube.Ref{Kind: "Pod", Name: "p", Namespace: "ns"}}
	pod.Meta.Annotations = map[string]string{ExceptionAnnotation: "flagged: reviewed by security, ticket SEC-1"}
	inv := kube.NewInventory([]*kube.Object{pod})
	for _, off := range []bool{false, true} {
		out, err := NewScanner(reg, nil).Scan(t.Context(), inv, Options{IgnoreAnnotationExceptions: off})
		if err != nil {
			t.Fatal(err)
		}
		f := out.Findings[0]
		if off && f.Status == finding.StatusExcepted {
			t.Error("annotation applied although switched off")
		}
		if !off && (f.Status != finding.StatusExcepted || f.Exception == nil || f.Exception.Reason != "reviewed by security, ticket SEC-1") {
			t.Errorf("finding not excepted by the annotation: %+v", f)
		}
	}
}
