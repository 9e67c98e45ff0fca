package peerexceptions

import (
	"bytes"
	"flag"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture/compliance"
	"github.com/palisade-sec/palisade/internal/sharedtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func peers(t *testing.T) *compliance.Peers {
	t.Helper()
	p, err := compliance.LoadPeers()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTranslate checks each translation against its golden palisade.yaml
// and that the output loads as a configuration (update with -update).
func TestTranslate(t *testing.T) {
	for _, tc := range []struct {
		in        string
		translate func([]byte, *compliance.Peers) (*Translation, error)
	}{
		{"kubescape-exceptions.json", Kubescape},
		{"kube-prometheus-kubescape-exceptions.json", Kubescape},
		{"trivyignore", TrivyIgnore},
	} {
		t.Run(tc.in, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.in))
			if err != nil {
				t.Fatal(err)
			}
			tr, err := tc.translate(data, peers(t))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := Write(&out, tr, tc.in, "platform-team@example.com", "2027-02-25"); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.in+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != string(want) {
				t.Errorf("output differs from %s (-update rewrites it):\n%s", golden, out.String())
			}
			cfg, err := config.Parse(golden, out.Bytes())
			if err != nil {
				t.Fatalf("the output does not load as palisade.yaml: %v", err)
			}
			if len(cfg.Exceptions) != len(tr.Entries) || len(tr.Entries) == 0 {
				t.Errorf("%d exceptions loaded, %d translated", len(cfg.Exceptions), len(tr.Entries))
			}
		})
	}
}

// TestKubescapeSkips: what cannot be said in palisade.yaml is listed with
// why, never translated into something broader.
func TestKubescapeSkips(t *testing.T) {
	data, err := os.ReadFile("testdata/kubescape-exceptions.json")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Kubescape(data, peers(t))
	if err != nil {
		t.Fatal(err)
	}
	var skipped []string
	for _, s := range tr.Skipped {
		skipped = append(skipped, s.Source+": "+s.Why)
	}
	all := strings.Join(skipped, "\n")
	for _, want := range []string{
		`resource 3: name "(a|b)-exporter" is a regular expression`,
		`resource 4: cluster "prod-eu"`,
		"control C-9999 is not a Kubescape control",
		`"no-policy": no posture policy`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("skipped lacks %q:\n%s", want, all)
		}
	}
	if len(tr.Entries) != 3 {
		t.Fatalf("%d entries, want 3 (two resources of node-exporter-host, kube-system-rbac)", len(tr.Entries))
	}
	e := tr.Entries[1]
	if e.Name != "blackbox-*" || e.Namespace != "" || e.Kind != "Deployment" || e.Labels != "app.kubernetes.io/part-of=kube-prometheus" {
		t.Errorf("resource 2 translated to %+v", e)
	}
	if got := strings.Join(tr.Entries[2].Rules, ","); got != "node/apiserver-manifest-permissions" {
		t.Errorf("kube-system-rbac rules %s, want the node check only (C-0035 has no counterpart)", got)
	}
}

func TestRegexGlob(t *testing.T) {
	for re, want := range map[string]string{
		"node-exporter": "node-exporter", ".*": "*", "blackbox-.*": "blackbox-*", `a\.b`: "a.b", "a.b": "a?b",
		"(a|b)": "", "a+": "", "^a$": "", "[ab]": "", `a\d`: "",
	} {
		got, ok := regexGlob(re)
		if (want == "") == ok || got != want {
			t.Errorf("regexGlob(%q) = %q %v, want %q", re, got, ok, want)
		}
	}
}

func TestTrivyIDs(t *testing.T) {
	for id, want := range map[string]string{"AVD-KSV-0001": "KSV001", "AVD-KSV-0109": "KSV0109", "avd-kcv-0093": "kcv0093"} {
		if got := strings.Join(trivyIDs(id), " "); !strings.Contains(" "+got+" ", " "+want+" ") {
			t.Errorf("trivyIDs(%s) = %s, want %s among them", id, got, want)
		}
	}
}

// FuzzKubescape: any input is translated or refused with an error, and
// whatever is translated writes and loads as palisade.yaml.
func FuzzKubescape(f *testing.F) {
	f.Add([]byte(`[{"resources":[{"attributes":{"name":"a\nb: c"}}],"posturePolicies":[{"controlID":"C-0038"}]}]`))
	fuzzTranslate(f, Kubescape, "kubescape-exceptions.json", "kube-prometheus-kubescape-exceptions.json")
}

// FuzzTrivyIgnore is FuzzKubescape for .trivyignore.
func FuzzTrivyIgnore(f *testing.F) {
	fuzzTranslate(f, TrivyIgnore, "trivyignore")
}

func fuzzTranslate(f *testing.F, translate func([]byte, *compliance.Peers) (*Translation, error), seeds ...string) {
	for _, name := range seeds {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	p, err := compliance.LoadPeers()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if tr, err := translate(data, p); err == nil {
			checkWrites(t, tr)
		}
	})
}

// FuzzAnnotations: an object of any name with any annotation translates
// into exceptions that load as palisade.yaml and match that name.
func FuzzAnnotations(f *testing.F) {
	f.Add("web", "shop", "ignore-check.kube-linter.io/run-as-non-root", "reason")
	f.Add("a[b*", "", "polaris.fairwinds.com/exempt", "true")
	f.Add("x", "ns", "checkov.io/skip1", "CKV_K8S_20=why\nnot")
	p, err := compliance.LoadPeers()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, ns, key, value string) {
		o := &kube.Object{Ref: kube.Ref{Kind: "Deployment", Namespace: ns, Name: name}}
		o.Meta.Annotations = map[string]string{key: value}
		tr := Annotations([]*kube.Object{o}, p)
		checkWrites(t, tr)
		for _, e := range tr.Entries {
			if ok, err := path.Match(e.Name, name); !ok || err != nil {
				t.Fatalf("entry name %q does not match the object's %q: %v", e.Name, name, err)
			}
		}
	})
}

func checkWrites(t *testing.T, tr *Translation) {
	var out bytes.Buffer
	if err := Write(&out, tr, "fuzz\ninput", "owner", "2027-01-01"); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("fuzz.yaml", out.Bytes())
	if err != nil {
		t.Fatalf("output does not load: %v\n%s", err, out.String())
	}
	if len(cfg.Exceptions) != len(tr.Entries) {
		t.Fatalf("%d exceptions loaded, %d translated\n%s", len(cfg.Exceptions), len(tr.Entries), out.String())
	}
}

// TestAnnotations: exemptions written for kube-linter, Polaris and
// Checkov on the objects (here, and in Checkov's own suppression test
// manifest) become one entry per object; "false" exempts nothing and an
// unknown check is listed.
func TestAnnotations(t *testing.T) {
	objs, err := kube.Decode(t.Context(), "testdata/annotated/manifests.yaml", mustRead(t, "testdata/annotated/manifests.yaml"), kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	tr := Annotations(objs, peers(t))
	var out bytes.Buffer
	if err := Write(&out, tr, "testdata/annotated", "platform-team@example.com", "2027-02-25"); err != nil {
		t.Fatal(err)
	}
	golden := "testdata/annotated.golden.yaml"
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := string(mustRead(t, golden)); out.String() != want {
		t.Errorf("output differs from %s (-update rewrites it):\n%s", golden, out.String())
	}
	if len(tr.Entries) != 2 || len(tr.Skipped) != 1 || !strings.Contains(tr.Skipped[0].Why, "no-such-check") {
		t.Fatalf("entries %+v, skipped %+v", tr.Entries, tr.Skipped)
	}
	web, debug := tr.Entries[0], tr.Entries[1]
	if got := strings.Join(web.Rules, ","); got != "posture/allow-privilege-escalation,posture/run-as-root,posture/host-namespaces" {
		t.Errorf("web rules %s", got)
	}
	if debug.Rules != nil || debug.Name != "debug" || debug.Kind != "Pod" {
		t.Errorf("debug %+v, want every check of Pod debug", debug)
	}
	if cfg, err := config.Parse(golden, out.Bytes()); err != nil || len(cfg.Exceptions) != 2 {
		t.Errorf("output loads as %v, %v", cfg, err)
	}
}

// TestAnnotationsCheckovCorpus: Checkov's own suppression test manifest.
func TestAnnotationsCheckovCorpus(t *testing.T) {
	const file = "../../../../shared/posture-corpora/checkov/tests/kubernetes/checks/example_Suppressed/suppress-checks-PASSED.yaml"
	data, err := os.ReadFile(file)
	if err != nil {
		sharedtest.Missing(t, "peer corpora not found: %v", err)
	}
	objs, _ := kube.Decode(t.Context(), file, data, kube.Limits{})
	tr := Annotations(objs, peers(t))
	var named []string
	for _, e := range tr.Entries {
		named = append(named, e.Name+":"+strings.Join(e.Rules, ","))
	}
	// checkov.io/ and bridgecrew.io/ alike; CKV_K8S_11 (CPU limits) is our resources check.
	for _, want := range []string{"liveness-exec:", "bcliveness-exec:"} {
		if !slices.ContainsFunc(named, func(s string) bool { return strings.HasPrefix(s, want) && strings.Contains(s, "posture/resources") }) {
			t.Errorf("entries %q lack %s with posture/resources", named, want)
		}
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
