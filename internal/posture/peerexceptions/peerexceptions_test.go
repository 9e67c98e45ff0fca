package peerexceptions

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/posture/compliance"
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
