package checks_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// TestWorkloadChecksLiveMatchManifests creates the pass and fail fixtures
// of the workload checks below in a real kube-apiserver — which must accept
// them, so the fixtures are objects a cluster can hold — and checks that a
// live scan of what the server stored (container port protocols, Service
// targetPorts and the like defaulted, sidecar restartPolicy and hostUsers
// kept or dropped by feature gates) gives the same findings, evidence
// included, as the manifests. Each fixture file's objects go to namespaces
// of their own ("<check>-<file>-<namespace>"), so fixtures can reuse names.
func TestWorkloadChecksLiveMatchManifests(t *testing.T) {
	ids := []string{"net-raw-capability", "container-ports", "service-ssh-port", "share-process-namespace",
		"risky-components", "run-as-high-uid", "host-path"}
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	lf := newLiveFixtures(t, c.Config)
	for _, id := range ids {
		files, _ := filepath.Glob(filepath.Join("testdata", dirName(id), "*", "*.yaml"))
		inv, err := kube.Load(ctx, files, nil, kube.Limits{})
		if err != nil {
			t.Fatalf("load fixtures of %s: %v", id, err)
		}
		for _, o := range inv.Objects {
			ns := id + "-" + strconv.Itoa(slices.Index(files, o.Source.File)) + "-" + o.Ref.Namespace
			lf.add(o, ns, "manifest"+strconv.Itoa(len(lf.manifests))+".yaml")
		}
	}
	manifests, namespaces := lf.manifests, lf.namespaces

	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	sc := posture.NewScanner(reg.Only(ids...), nil)
	verdicts := func(inv *kube.Inventory) []string {
		out, err := sc.Scan(ctx, inv, posture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var vs []string
		for _, f := range out.Findings {
			if !namespaces[f.Resource.Namespace] {
				continue // the cluster's own objects
			}
			vs = append(vs, fmt.Sprintf("%s %s %s/%s/%s %s %s", f.RuleID, f.Severity, f.Resource.Kind,
				f.Resource.Namespace, f.Resource.Name, f.Resource.Container, allEvidence(f)))
		}
		slices.Sort(vs)
		return vs
	}
	live, missing, err := kube.ListCluster(ctx, c.Config, "lab", 0)
	if err != nil || len(missing) > 0 {
		t.Fatalf("list cluster: %v %v", err, missing)
	}
	want := verdicts(kube.NewInventory(manifests))
	if len(want) == 0 {
		t.Fatal("no finding on the fixtures")
	}
	for _, id := range ids {
		if !slices.ContainsFunc(want, func(v string) bool { return strings.HasPrefix(v, posture.RulePrefix+id+" ") }) {
			t.Errorf("no finding of %s on its fixtures", id)
		}
	}
	t.Logf("%d findings on %d objects in %d namespaces", len(want), len(manifests), len(namespaces))
	if diff := cmp.Diff(want, verdicts(live)); diff != "" {
		t.Errorf("live findings differ from the manifests' (-manifests +live):\n%s", diff)
	}
}

func allEvidence(f finding.Finding) string {
	var parts []string
	for _, e := range f.Evidence {
		parts = append(parts, e.Name+"="+e.Value)
	}
	return strings.Join(parts, " ")
}
