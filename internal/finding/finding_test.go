package finding

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func baseFinding() Finding {
	return Finding{
		RuleID:   "posture/privileged",
		Title:    "Privileged container",
		Severity: SeverityHigh,
		Resource: Resource{Namespace: "payments", Kind: "Deployment", Name: "api", Container: "api", File: "deploy/api.yaml", Line: 31, Column: 11},
		Message:  "runs privileged",
		Evidence: []Evidence{
			{Name: "field", Value: "securityContext.privileged", Key: true},
			{Name: "value", Value: "true"},
		},
	}
}

func TestComputeIDFormatAndPinnedValue(t *testing.T) {
	f := baseFinding()
	id := ComputeID(&f)
	if !regexp.MustCompile(`^PAL-[0-9A-F]{16}$`).MatchString(id) {
		t.Errorf("ComputeID = %q, want PAL- and 16 upper-case hex digits", id)
	}
	// IDs are stored and compared across releases and machines: changing the
	// algorithm renames every finding, so it must be a deliberate decision.
	const pinned = "PAL-1859EE5792573423"
	if id != pinned {
		t.Errorf("ComputeID = %q, want %q: the ID algorithm changed", id, pinned)
	}
}

func TestComputeIDStability(t *testing.T) {
	tests := []struct {
		name   string
		change func(f *Finding)
		same   bool
	}{
		{"same input", func(*Finding) {}, true},
		{"line moved", func(f *Finding) { f.Resource.Line = 97 }, true},
		{"column moved", func(f *Finding) { f.Resource.Column = 1 }, true},
		{"message reworded", func(f *Finding) { f.Message = "container runs privileged" }, true},
		{"title, severity, remediation changed", func(f *Finding) {
			f.Title, f.Severity, f.Remediation = "x", SeverityCritical, "fix it"
		}, true},
		{"status and exception changed", func(f *Finding) {
			f.Status, f.Exception = StatusExcepted, &ExceptionRef{ID: "E1"}
		}, true},
		{"non-key evidence changed", func(f *Finding) { f.Evidence[1].Value = "1" }, true},
		{"evidence reordered", func(f *Finding) { slices.Reverse(f.Evidence) }, true},
		{"different key evidence", func(f *Finding) { f.Evidence[0].Value = "securityContext.allowPrivilegeEscalation" }, false},
		{"extra key evidence", func(f *Finding) { f.Evidence = append(f.Evidence, Evidence{Name: "path", Value: "/x", Key: true}) }, false},
		{"evidence becomes key", func(f *Finding) { f.Evidence[1].Key = true }, false},
		{"different rule", func(f *Finding) { f.RuleID = "posture/host-pid" }, false},
		{"different namespace", func(f *Finding) { f.Resource.Namespace = "default" }, false},
		{"different container", func(f *Finding) { f.Resource.Container = "sidecar" }, false},
		{"different file", func(f *Finding) { f.Resource.File = "deploy/other.yaml" }, false},
		{"different cluster", func(f *Finding) { f.Resource.Cluster = "prod" }, false},
		// Length prefixes keep part boundaries: ("ab","c") is not ("a","bc").
		{"shifted boundary", func(f *Finding) { f.Resource.Namespace, f.Resource.Kind = "paymentsDeploy", "ment" }, false},
	}
	base := baseFinding()
	want := ComputeID(&base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := baseFinding()
			tt.change(&f)
			got := ComputeID(&f)
			if (got == want) != tt.same {
				t.Errorf("ComputeID = %s, base %s: want same = %v", got, want, tt.same)
			}
			if again := ComputeID(&f); again != got {
				t.Errorf("ComputeID not deterministic: %s then %s", got, again)
			}
		})
	}
}

func TestComputeIDImage(t *testing.T) {
	byTag := Finding{RuleID: "vuln/CVE-1", Resource: Resource{Image: "alpine:3.19"}}
	otherTag := Finding{RuleID: "vuln/CVE-1", Resource: Resource{Image: "alpine:3.20"}}
	if ComputeID(&byTag) == ComputeID(&otherTag) {
		t.Error("images without digest: different tags gave the same ID")
	}
	// With a digest, the digest identifies the image: retagging keeps the ID.
	a := Finding{RuleID: "vuln/CVE-1", Resource: Resource{Image: "alpine:3.19", ImageDigest: testDigest}}
	b := Finding{RuleID: "vuln/CVE-1", Resource: Resource{Image: "registry.example/alpine:stable", ImageDigest: testDigest}}
	if ComputeID(&a) != ComputeID(&b) {
		t.Error("same digest under two tags gave different IDs")
	}
}

func TestNormalize(t *testing.T) {
	fs := []Finding{
		{RuleID: "b", Severity: SeverityLow, Resource: Resource{Name: "x"}},
		{RuleID: "a", Severity: SeverityLow, Resource: Resource{Name: "y"}},
		{RuleID: "a", Severity: SeverityCritical, Resource: Resource{Name: "z"}, ID: "KEEP", Status: StatusExcepted},
		{RuleID: "a", Severity: SeverityLow, Resource: Resource{Name: "x"}},
		{RuleID: "a", Severity: SeverityUnknown},
	}
	Normalize(fs)
	type key struct {
		Rule, Name string
		Sev        Severity
	}
	var got []key
	for _, f := range fs {
		got = append(got, key{f.RuleID, f.Resource.Name, f.Severity})
		if f.ID == "" || f.Status == "" {
			t.Errorf("finding %+v: ID or status not filled", f)
		}
	}
	want := []key{
		{"a", "z", SeverityCritical},
		{"a", "x", SeverityLow},
		{"a", "y", SeverityLow},
		{"b", "x", SeverityLow},
		{"a", "", SeverityUnknown},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if fs[0].ID != "KEEP" || fs[0].Status != StatusExcepted {
		t.Errorf("Normalize overwrote a set ID or status: %q %q", fs[0].ID, fs[0].Status)
	}
	if fs[1].Status != StatusOpen {
		t.Errorf("empty status became %q, want open", fs[1].Status)
	}
}

func TestResourceKey(t *testing.T) {
	tests := []struct {
		r    Resource
		want string
	}{
		{Resource{}, ""},
		{Resource{Cluster: "c", Namespace: "ns", Kind: "Pod", Name: "p", Container: "app"}, "c/ns/Pod/p/container:app"},
		{Resource{Image: "alpine:3", ImageDigest: testDigest}, "alpine:3"},
		{Resource{ImageDigest: testDigest}, testDigest},
		{Resource{File: "a.yaml"}, "a.yaml"},
		{Resource{File: "a.yaml", Kind: "Pod", Name: "p"}, "a.yaml Pod/p"},
		{Resource{Container: "app"}, "container:app"},
		{Resource{File: "a.yaml", Image: "alpine:3"}, "a.yaml alpine:3"},
		{Resource{Namespace: "ns", Name: "p", Image: "alpine:3"}, "ns/p"},
	}
	for _, tt := range tests {
		if got := tt.r.Key(); got != tt.want {
			t.Errorf("%+v.Key() = %q, want %q", tt.r, got, tt.want)
		}
	}
}

// TestNormalizeLarge sorts enough findings for Normalize to work on every
// core, and checks the result against the order it promises.
func TestNormalizeLarge(t *testing.T) {
	const n = 20_000
	fs := make([]Finding, n)
	for i := range fs {
		fs[i] = Finding{
			RuleID:   fmt.Sprintf("rule-%d", i%7),
			Severity: Severity(1 + i%4),
			Resource: Resource{Namespace: fmt.Sprintf("ns-%d", (i*7919)%101), Kind: "Pod", Name: fmt.Sprintf("p-%d", (i*104729)%n), Line: i % 13},
		}
	}
	Normalize(fs)
	if !normalized(fs) {
		t.Fatal("Normalize left the findings out of order")
	}
	for i := range fs {
		if fs[i].ID != ComputeID(&fs[i]) || fs[i].Status != StatusOpen {
			t.Fatalf("finding %d: ID %q status %q", i, fs[i].ID, fs[i].Status)
		}
		if i > 0 && compareFindings(&fs[i-1], &fs[i], func() int { return strings.Compare(fs[i-1].Resource.Key(), fs[i].Resource.Key()) }) > 0 {
			t.Fatalf("findings %d and %d out of order", i-1, i)
		}
	}
}
