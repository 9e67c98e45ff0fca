package finding

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func TestExposedOrder(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	res := func(name string) Resource { return Resource{Namespace: "shop", Kind: "Deployment", Name: name} }
	fs := []Finding{
		{RuleID: "posture/privileged", Severity: SeverityHigh, Resource: res("hardened-but-plain")},
		{RuleID: "posture/privileged", Severity: SeverityHigh, Resource: res("tls-only")},
		{RuleID: "posture/privileged", Severity: SeverityCritical, Resource: Resource{Namespace: "shop", Kind: "Deployment", Name: "miner", Container: "app"}},
		{RuleID: "posture/run-as-root", Severity: SeverityLow, Resource: res("miner")},
		// Excepted findings do not count: the risk was accepted.
		{RuleID: "posture/privileged", Severity: SeverityCritical, Resource: res("accepted"), Status: StatusExcepted,
			Exception: &ExceptionRef{ID: "x", Owner: "o", Reason: "r"}},
		// Same name in another namespace is another workload.
		{RuleID: "posture/privileged", Severity: SeverityCritical, Resource: Resource{Namespace: "other", Kind: "Deployment", Name: "quiet"}},
	}
	r := NewReport(testTool(), "t", testNow(), fs)
	lb := ExposurePath{Via: ViaLoadBalancer, Service: "shop/x"}
	err := r.SetExposed([]ExposedWorkload{
		{Resource: res("quiet"), Paths: []ExposurePath{lb, lb}},
		{Resource: res("accepted"), Paths: []ExposurePath{lb}},
		{Resource: res("tls-only"), Paths: []ExposurePath{{Via: ViaIngress, Ingress: "shop/i", Service: "shop/x", TLS: &yes}, lb}},
		{Resource: res("hardened-but-plain"), Paths: []ExposurePath{{Via: ViaIngress, Ingress: "shop/i", Service: "shop/x", TLS: &no}}},
		{Resource: res("miner"), Paths: []ExposurePath{{Via: ViaHostNetwork}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Name  string
		Open  int
		Worst Severity
	}
	var got []row
	for _, w := range r.Exposed {
		got = append(got, row{w.Resource.Name, w.OpenFindings, w.WorstSeverity})
	}
	want := []row{
		{"miner", 2, SeverityCritical},          // worst finding first
		{"hardened-but-plain", 1, SeverityHigh}, // then reached without TLS
		{"tls-only", 1, SeverityHigh},           // (more ways in, but all known TLS or unknown)
		{"quiet", 0, SeverityUnknown},           // no finding: more ways in first
		{"accepted", 0, SeverityUnknown},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// TestExposedNoneVersusUnsaid: a posture scan with nothing exposed says so
// in every format; a report that does not list exposure (an image scan)
// has no such section or key.
func TestExposedNoneVersusUnsaid(t *testing.T) {
	t.Parallel()
	none := NewReport(testTool(), "deploy/", testNow(), nil)
	if err := none.SetExposed(nil); err != nil {
		t.Fatal(err)
	}
	unsaid := NewReport(testTool(), "ghcr.io/acme/api:1", testNow(), nil)
	for _, tc := range []struct {
		format     Format
		want, deny string
	}{
		{FormatJSON, `"exposedWorkloads": []`, `exposedWorkloads`},
		{FormatTable, "No exposed workloads.", "xposed"},
		{FormatHTML, "No workload is reachable from outside the cluster.", "Exposed workloads"},
	} {
		var a, b bytes.Buffer
		if err := Write(&a, tc.format, none, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := Write(&b, tc.format, unsaid, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(a.String(), tc.want) {
			t.Errorf("%s, nothing exposed: no %q in\n%s", tc.format, tc.want, a.String())
		}
		if strings.Contains(b.String(), tc.deny) {
			t.Errorf("%s, exposure not listed: %q in\n%s", tc.format, tc.deny, b.String())
		}
	}
}

func TestExposedRejected(t *testing.T) {
	t.Parallel()
	for name, w := range map[string]ExposedWorkload{
		"no way in": {Resource: Resource{Kind: "Deployment", Name: "web"}},
		"no name":   {Resource: Resource{Kind: "Deployment"}, Paths: []ExposurePath{{Via: ViaHostNetwork}}},
		"no kind":   {Resource: Resource{Name: "web", File: "web.yaml"}, Paths: []ExposurePath{{Via: ViaHostNetwork}}},
	} {
		r := NewReport(testTool(), "t", testNow(), nil)
		if err := r.SetExposed([]ExposedWorkload{w}); err == nil {
			t.Errorf("%s: SetExposed accepted it", name)
		}
		r.Exposed = []ExposedWorkload{w}
		if err := Write(&bytes.Buffer{}, FormatJSON, r, WriteOptions{}); err == nil {
			t.Errorf("%s: Write accepted it", name)
		}
	}
}

// TestExposedUnnamedInFile checks that a manifest without metadata.name is
// listed by its file and line rather than failing the report.
func TestExposedUnnamedInFile(t *testing.T) {
	t.Parallel()
	r := NewReport(testTool(), "t", testNow(), nil)
	w := ExposedWorkload{Resource: Resource{Kind: "Deployment", File: "web.yaml", Line: 3}, Paths: []ExposurePath{{Via: ViaHostNetwork}}}
	if err := r.SetExposed([]ExposedWorkload{w}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{FormatJSON, FormatTable, FormatSARIF, FormatJUnit, FormatHTML} {
		var b bytes.Buffer
		if err := Write(&b, f, r, WriteOptions{}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if !strings.Contains(b.String(), "web.yaml") {
			t.Errorf("%s: file not named:\n%s", f, b.String())
		}
	}
}

// TestExposedSchemaRejects checks that the schema's exposedWorkloads part
// has teeth.
func TestExposedSchemaRejects(t *testing.T) {
	sch := reportJSONSchema(t)
	path := func(d map[string]any, w, p int) map[string]any {
		return d["exposedWorkloads"].([]any)[w].(map[string]any)["paths"].([]any)[p].(map[string]any)
	}
	for _, tt := range []struct {
		name   string
		mutate func(d map[string]any)
	}{
		{"unknown via", func(d map[string]any) { path(d, 0, 0)["via"] = "Gateway" }},
		{"ingress without tls", func(d map[string]any) { delete(path(d, 0, 0), "tls") }},
		{"node port with tls", func(d map[string]any) { path(d, 1, 0)["tls"] = true }},
		{"no paths", func(d map[string]any) { d["exposedWorkloads"].([]any)[0].(map[string]any)["paths"] = []any{} }},
		{"worst severity without findings", func(d map[string]any) {
			d["exposedWorkloads"].([]any)[2].(map[string]any)["worstSeverity"] = "high"
		}},
		{"unknown field", func(d map[string]any) { d["exposedWorkloads"].([]any)[0].(map[string]any)["risk"] = 1 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var d map[string]any
			if err := json.Unmarshal(writeJSONDoc(t, exposedReport()), &d); err != nil {
				t.Fatal(err)
			}
			tt.mutate(d)
			b, _ := json.Marshal(d)
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(doc); err == nil {
				t.Error("schema accepted an invalid document")
			}
		})
	}
}
