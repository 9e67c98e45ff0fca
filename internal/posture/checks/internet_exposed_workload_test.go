package checks_test

import (
	"path/filepath"
	"testing"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// TestInternetExposedGatewaysPinned checks that the Gateway API and Istio
// paths of behaviour version 5 stay out of scans pinned to version 4: each
// gateway fixture fails at the newest version and passes at 4 (so does a
// Service per pod, from version 14: TestVersion14PerPodExposure).
func TestInternetExposedGatewaysPinned(t *testing.T) {
	files, _ := filepath.Glob("testdata/internet_exposed_workload/fail/*.yaml")
	gateway := map[string]bool{"gateway_api_route.yaml": true, "gateway_cross_namespace_granted.yaml": true,
		"gateway_not_scanned.yaml": true, "istio_virtual_service.yaml": true, "per_pod_service.yaml": true}
	seen := 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			inv, err := kube.Load(t.Context(), []string{f}, nil, kube.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			latest, v4 := len(scanPinned(t, inv, "internet-exposed-workload", posture.Latest)), len(scanPinned(t, inv, "internet-exposed-workload", 4))
			if gateway[filepath.Base(f)] {
				seen++
				if latest != 1 || v4 != 0 {
					t.Errorf("latest: %d findings, pinned to 4: %d; want 1 and 0", latest, v4)
				}
			} else if latest != v4 {
				t.Errorf("latest: %d findings, pinned to 4: %d; want the same", latest, v4)
			}
		})
	}
	if seen != len(gateway) {
		t.Errorf("%d fixtures of later ways in found, want %d", seen, len(gateway))
	}
}

// TestInternetExposedTokenPinned: an exposed workload whose token can take
// over the cluster is critical from version 5, and as its pod spec alone
// says (medium) when pinned to 4.
func TestInternetExposedTokenPinned(t *testing.T) {
	inv, err := kube.Load(t.Context(), []string{"testdata/internet_exposed_workload/fail/token_takeover.yaml"}, nil, kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pin  posture.Version
		want finding.Severity
	}{{posture.Latest, finding.SeverityCritical}, {4, finding.SeverityMedium}} {
		reg, err := posture.NewRegistry(checks.All(), tc.pin)
		if err != nil {
			t.Fatal(err)
		}
		out, err := posture.NewScanner(reg.Only("internet-exposed-workload"), nil).Scan(t.Context(), inv, posture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Findings) != 1 || out.Findings[0].Severity != tc.want {
			t.Errorf("pinned to %d: %d findings %+v, want one %v", tc.pin, len(out.Findings), out.Findings, tc.want)
		}
	}
}
