package versions

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEmbedded(t *testing.T) {
	tb := Embedded()
	if got := tb.Newest().Minor; got != "1.37" {
		t.Errorf("newest = %s, want 1.37", got)
	}
	if tb.AsOf.String() != "2026-09-15" {
		t.Errorf("asOf = %s", tb.AsOf)
	}
	// Spot checks of the reviewed managed-service rows against their
	// calendars (sources in versions.yaml).
	for _, tc := range []struct{ dist, minor, eol, eos string }{
		{AKS, "1.37", "2027-10-31", ""},
		{AKS, "1.31", "2025-11-01", ""},
		{GKE, "1.33", "2026-08-03", "2026-06-30"},
		{GKE, "1.29", "2025-04-12", "2025-02-28"},
	} {
		r, ok := tb.Release(tc.dist, tc.minor)
		eos := ""
		if r.EndOfSupport != nil {
			eos = r.EndOfSupport.String()
		}
		if !ok || r.EndOfLife.String() != tc.eol || eos != tc.eos {
			t.Errorf("%s %s: %+v, %v; want end of life %s, end of support %q", tc.dist, tc.minor, r, ok, tc.eol, tc.eos)
		}
	}
	// Every removal release the deprecation guide lists must be covered.
	apis := DeprecatedAPIs()
	for _, tc := range []struct{ apiVersion, kind, removed string }{
		{"extensions/v1beta1", "Deployment", "1.16"},
		{"networking.k8s.io/v1beta1", "Ingress", "1.22"},
		{"batch/v1beta1", "CronJob", "1.25"},
		{"autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.26"},
		{"storage.k8s.io/v1beta1", "CSIStorageCapacity", "1.27"},
		{"flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema", "1.29"},
		{"flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration", "1.32"},
	} {
		api, ok := apis.Lookup(tc.apiVersion, tc.kind)
		if !ok || api.Removed != tc.removed {
			t.Errorf("%s %s: got %+v, %v; want removed in %s", tc.apiVersion, tc.kind, api, ok, tc.removed)
		}
	}
}

func TestAPIStatus(t *testing.T) {
	api := API{APIVersion: "batch/v1beta1", Kind: "CronJob", Deprecated: "1.21", Removed: "1.25"}
	for target, want := range map[string]string{"1.20": "", "1.21": "deprecated", "1.24.3": "deprecated", "1.25": "removed", "v1.37.1-eks-1": "removed"} {
		v, err := ParseVersion(target)
		if err != nil {
			t.Fatal(err)
		}
		if got := api.Status(v); got != want {
			t.Errorf("Status(%s) = %q, want %q", target, got, want)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Version
		err  bool
	}{
		{in: "1.31", want: Version{Major: 1, Minor: 31}},
		{in: "v1.31.4", want: Version{Major: 1, Minor: 31, Patch: 4, HasPatch: true}},
		{in: "v1.30.2-eks-1a2b3c", want: Version{Major: 1, Minor: 30, Patch: 2, HasPatch: true, Suffix: "-eks-1a2b3c"}},
		{in: "v1.32.0+k3s1", want: Version{Major: 1, Minor: 32, HasPatch: true, Suffix: "+k3s1"}},
		{in: "1", err: true},
		{in: "1.x", err: true},
		{in: "1.2.3.4", err: true},
		{in: "1.02", err: true},
		{in: "", err: true},
	} {
		got, err := ParseVersion(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParseVersion(%q) err = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseVersion(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
	for gv, want := range map[string]string{"v1.30.2-eks-1a2b3c": EKS, "v1.29.1-gke.1589018": GKE, "v1.31.4": Upstream, "v1.31.4+k3s1": Upstream} {
		if got := Distribution(gv); got != want {
			t.Errorf("Distribution(%s) = %s, want %s", gv, got, want)
		}
	}
	for _, tc := range []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{AKSNodeLabel: "MC_rg_aks_westeurope", "kubernetes.azure.com/agentpool": "nodepool1"}, AKS},
		{map[string]string{"topology.kubernetes.io/region": "westeurope"}, ""}, // a self-managed cluster on Azure VMs
		{nil, ""},
	} {
		if got := NodeDistribution(tc.labels); got != tc.want {
			t.Errorf("NodeDistribution(%v) = %q, want %q", tc.labels, got, tc.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	base := "asOf: 2026-01-01\ndistributions:\n  upstream:\n"
	for _, tc := range []struct{ name, in, want string }{
		{"no asOf", "distributions: {upstream: [{minor: '1.30', endOfLife: 2025-07-15}]}", "asOf is required"},
		{"bad date", base + "    - {minor: '1.30', endOfLife: 2025-13-15}", "want YYYY-MM-DD"},
		{"bad minor", base + "    - {minor: '1.30.1', endOfLife: 2025-07-15}", "MAJOR.MINOR"},
		{"duplicate", base + "    - {minor: '1.30', endOfLife: 2025-07-15}\n    - {minor: '1.30', endOfLife: 2025-07-15}", "listed twice"},
		{"latest of other minor", base + "    - {minor: '1.30', endOfLife: 2025-07-15, latest: 1.31.2}", "not a patch release"},
		{"support after eol", base + "    - {minor: '1.30', endOfSupport: 2026-01-01, endOfLife: 2025-07-15}", "after endOfLife"},
		{"unknown distribution", base + "    - {minor: '1.30', endOfLife: 2025-07-15}\n  openshift: []", "unknown distribution"},
		{"unknown field", base + "    - {minor: '1.30', endOfLife: 2025-07-15, eol: x}", "eol"},
		{"no upstream", "asOf: 2026-01-01\ndistributions: {eks: []}", "no upstream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestFetch refreshes the table from an endoflife.date-shaped server: the
// upstream and EKS products answer, GKE and AKS fail and keep the fallback.
func TestFetch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		product, ok := strings.CutPrefix(r.URL.Path, "/api/v1/products/")
		data, err := os.ReadFile(filepath.Join("testdata", filepath.Base(product)+".json"))
		if !ok || err != nil {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	defer srv.Close()
	asOf := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	tb, warnings, err := Fetch(t.Context(), srv.Client(), srv.URL+"/api/v1/products", asOf, Embedded())
	if err != nil {
		t.Fatal(err)
	}
	if tb.AsOf.String() != "2026-11-25" || tb.Newest().Minor != "1.38" {
		t.Errorf("asOf %s newest %s, want 2026-11-25 and 1.38", tb.AsOf, tb.Newest().Minor)
	}
	if r, _ := tb.Release(Upstream, "1.37"); r.Latest != "1.37.2" || r.EndOfLife.String() != "2027-10-28" {
		t.Errorf("1.37 = %+v", r)
	}
	if _, ok := tb.Release(Upstream, "1.35"); ok {
		t.Error("a release without an end-of-life date was kept")
	}
	if r, _ := tb.Release(EKS, "1.37"); r.Latest != "" || r.EndOfSupport.String() != "2027-12-01" {
		t.Errorf("EKS 1.37 = %+v; want no latest (not a patch) and standard support to 2027-12-01", r)
	}
	if _, ok := tb.Release(GKE, "1.35"); !ok || len(warnings) != 2 {
		t.Errorf("GKE kept from the fallback: %v; warnings %q", ok, warnings)
	}
	// What Fetch returns survives being saved and read back.
	data, err := tb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tb, again); diff != "" {
		t.Errorf("round trip (-fetched +reread):\n%s", diff)
	}

	if _, _, err := Fetch(t.Context(), srv.Client(), srv.URL+"/nothing/", asOf, nil); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("fetch from a server without the upstream product: err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(embeddedTable)
	f.Add([]byte("asOf: 2026-01-01\ndistributions: {upstream: [{minor: '1.30', endOfLife: 2025-07-15, latest: 1.30.2}]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := Parse(data)
		if err != nil {
			return
		}
		out, err := tb.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(out); err != nil {
			t.Errorf("a parsed table does not parse back: %v\n%s", err, out)
		}
	})
}

func FuzzParseEndOfLife(f *testing.F) {
	for _, name := range []string{"kubernetes.json", "amazon-eks.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"result":{"releases":[{"name":"1.2","eolFrom":"x"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseEndOfLife(data)
		if err != nil {
			return
		}
		for _, r := range rs {
			if _, err := ParseVersion(r.Minor); err != nil || r.EndOfLife.IsZero() {
				t.Errorf("release %+v: bad minor or no end of life", r)
			}
		}
	})
}
