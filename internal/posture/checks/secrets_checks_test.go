package checks_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// scanFixture runs check over fixture at pin and returns the findings.
func scanFixture(t *testing.T, check, fixture string, pin posture.Version) []finding.Finding {
	t.Helper()
	inv, err := kube.Load(t.Context(), []string{fixture}, nil, kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return scanPinned(t, inv, check, pin)
}

// scanPinned runs check over inv in a scan pinned to behaviour version
// pin and returns the findings.
func scanPinned(t *testing.T, inv *kube.Inventory, check string, pin posture.Version) []finding.Finding {
	t.Helper()
	reg, err := posture.NewRegistry(checks.All(), pin)
	if err != nil {
		t.Fatal(err)
	}
	out, err := posture.NewScanner(reg.Only(check), nil).Scan(t.Context(), inv, posture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return out.Findings
}

// TestSecretsPinnedBehaviour checks that the version 4 behaviour of the
// secrets checks (placeholders, references, new names and values, two new
// checks) stays out of scans pinned to version 3.
func TestSecretsPinnedBehaviour(t *testing.T) {
	for _, tc := range []struct {
		check, fixture string
		v3, latest     int // findings
	}{
		{"configmap-secrets", "testdata/configmap_secrets/fail/placeholder.yaml", 0, 4},
		{"configmap-secrets", "testdata/configmap_secrets/pass/references.yaml", 1, 0}, // MAX_TOKENS: "4096"
		{"env-secret-literal", "testdata/env_secret_literal/fail/placeholder.yaml", 0, 6},
		{"annotation-secrets", "testdata/annotation_secrets/fail/literal_annotations.yaml", 0, 4},
		{"secret-shared", "testdata/secret_shared/fail/four_workloads.yaml", 0, 1},
	} {
		t.Run(tc.check+"/"+tc.fixture[strings.LastIndexByte(tc.fixture, '/')+1:], func(t *testing.T) {
			if got := len(scanFixture(t, tc.check, tc.fixture, 3)); got != tc.v3 {
				t.Errorf("pinned to 3: %d findings, want %d", got, tc.v3)
			}
			if got := len(scanFixture(t, tc.check, tc.fixture, posture.Latest)); got != tc.latest {
				t.Errorf("latest: %d findings, want %d", got, tc.latest)
			}
		})
	}
}

// TestSecretsEvidence checks the evidence the golden files do not show:
// placeholders are medium with value=placeholder, literals are high without
// it, shared Secrets carry their workload count.
func TestSecretsEvidence(t *testing.T) {
	evidence := func(f finding.Finding) []string {
		var out []string
		for _, e := range f.Evidence {
			out = append(out, e.Name+"="+e.Value)
		}
		return out
	}
	for _, tc := range []struct{ check, fixture string }{
		{"configmap-secrets", "testdata/configmap_secrets/fail/placeholder.yaml"},
		{"env-secret-literal", "testdata/env_secret_literal/fail/placeholder.yaml"},
		{"annotation-secrets", "testdata/annotation_secrets/fail/literal_annotations.yaml"},
	} {
		placeholders := 0
		for _, f := range scanFixture(t, tc.check, tc.fixture, posture.Latest) {
			isPlaceholder := slices.Contains(evidence(f), "value=placeholder")
			if isPlaceholder {
				placeholders++
			}
			if want := finding.SeverityHigh; isPlaceholder {
				want = finding.SeverityMedium
				if f.Severity != want {
					t.Errorf("%s: %s: severity %v, want %v", tc.fixture, f.Message, f.Severity, want)
				}
			} else if f.Severity != want {
				t.Errorf("%s: %s: severity %v, want %v", tc.fixture, f.Message, f.Severity, want)
			}
			if strings.Contains(f.Message, "hunter2") || strings.Contains(f.Message, "7f3a9c2e") {
				t.Errorf("%s: the finding copies the value: %s", tc.fixture, f.Message)
			}
		}
		if placeholders == 0 {
			t.Errorf("%s: no placeholder finding", tc.fixture)
		}
	}
	fs := scanFixture(t, "secret-shared", "testdata/secret_shared/fail/secret_not_scanned.yaml", posture.Latest)
	if len(fs) != 1 || !slices.Contains(evidence(fs[0]), "workloads=5") || fs[0].Resource.Kind != "Secret" || fs[0].Resource.Name != "api-key" || fs[0].Resource.Namespace != "shop" {
		t.Errorf("secret-shared on an unscanned Secret: %+v", fs)
	}
	// The live annotation and its older last-applied copy are two findings.
	fs = scanFixture(t, "annotation-secrets", "testdata/annotation_secrets/fail/configmap_stale.yaml", posture.Latest)
	finding.Normalize(fs)
	ids := map[string]bool{}
	for _, f := range fs {
		ids[f.ID] = true
	}
	if len(fs) != 3 || len(ids) != 3 {
		t.Errorf("annotation-secrets on a stale ConfigMap: %d findings, %d IDs; want 3, 3", len(fs), len(ids))
	}
	fs = scanFixture(t, "annotation-secrets", "testdata/annotation_secrets/fail/secret_last_applied.yaml", posture.Latest)
	if len(fs) != 1 || !slices.Contains(evidence(fs[0]), "keys=password,username") {
		t.Errorf("annotation-secrets on a Secret's last-applied copy: %+v", fs)
	}
}
