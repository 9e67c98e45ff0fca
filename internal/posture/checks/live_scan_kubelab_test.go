package checks_test

import (
	"testing"

	"k8s.io/client-go/rest"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// scanLive lists the cluster cfg reaches, as `posture scan --kubeconfig`
// does, and runs checks ids (newest behaviour) over it; a kind it cannot
// list fails the test.
func scanLive(t *testing.T, cfg *rest.Config, ids ...string) *posture.Outcome {
	t.Helper()
	inv, missing, err := kube.ListCluster(t.Context(), cfg, "lab", 0)
	if err != nil || len(missing) > 0 {
		t.Fatalf("list cluster: %v %v", err, missing)
	}
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	out, err := posture.NewScanner(reg.Only(ids...), nil).Scan(t.Context(), inv, posture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
