package config

import (
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const exampleFile = "../../palisade.example.yaml"

// TestExample checks that palisade.example.yaml at the repository root
// parses, shows the defaults where it says it does (everything but
// imagePolicy.deniedPackages, registries.trusted, admission.trustedKeys and exceptions), and that testdata/palisade.yaml is a
// copy of it (-update refreshes the copy).
func TestExample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "testdata/palisade.yaml", string(data))

	got, err := Parse("palisade.example.yaml", data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := Default()
	want.ImagePolicy.DeniedPackages = []DeniedPackage{
		{Name: "netcat-openbsd", Reason: "no network tools in production images"},
		{Name: "org.apache.logging.log4j:log4j-core", Ecosystem: "Maven", Versions: []string{">=2.0-beta9, <2.17.1"}, Reason: "Log4Shell (CVE-2021-44228); upgrade to 2.17.1 or later"},
		{Name: "xz-utils", Ecosystem: "Debian", Versions: []string{"5.6.0-0.1", "5.6.1-1"}, Reason: "backdoored upstream release (CVE-2024-3094)"},
	}
	want.Registries.Trusted = []string{"ghcr.io/acme/*", "registry.acme.internal:5000/*/*"}
	want.Admission.TrustedKeys = []string{"keys/ci-attestations.pub"}
	want.Secrets.Allowlist.Paths = []string{"/usr/share/doc/**"}
	want.Exceptions = []Exception{
		{
			ID: "log4j-legacy-billing",
			Match: Match{
				Rules:     []string{"CVE-2021-44228", "CVE-2021-45046"},
				Namespace: "billing-*",
				Kind:      "Deployment",
				Name:      "invoice-*",
				Image:     "ghcr.io/acme/invoice*",
				Labels:    "app=invoice,tier!=db,env in (prod,stage)",
			},
			Owner:   "billing-team@acme.example",
			Reason:  "JNDI lookups disabled with -Dlog4j2.formatMsgNoLookups=true; upgrade tracked in BILL-1234.",
			Expires: time.Date(2026, 6, 30, 23, 59, 59, 999999999, time.UTC),
		},
		{
			Match:   Match{Rules: []string{"posture/hostPath*"}, Namespace: "kube-system"},
			Owner:   "platform-team",
			Reason:  "The CSI node plugin needs hostPath mounts.",
			Expires: time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC),
		},
	}
	want.Exceptions[1].ID = want.Exceptions[1].Match.StableID()
	if diff := cmp.Diff(want, got, ignoreInternal); diff != "" {
		t.Errorf("palisade.example.yaml differs from Default() plus its examples (-want +got):\n%s", diff)
	}
}

// TestDefaultValid checks that the defaults pass validation.
func TestDefaultValid(t *testing.T) {
	t.Parallel()
	if err := Default().Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
}
