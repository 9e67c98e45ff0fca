package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/rest"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/continuous"
)

// maxConcurrentClusters bounds how many clusters a scan lists at once: the
// LISTs are mostly waiting on servers, but each inventory is held in memory.
const maxConcurrentClusters = 4

// scanResult is what a scan of one or more inputs gave, ready for a report.
type scanResult struct {
	target   string
	findings []finding.Finding
	coverage *finding.Coverage
	// notes are the report's errors: per cluster, the kinds RBAC hid and
	// what else could not be read.
	notes []error
	invs  []*kube.Inventory
}

// clusterScan is one cluster's part of a live scan.
type clusterScan struct {
	name  string
	cfg   *rest.Config
	inv   *kube.Inventory
	out   *posture.Outcome
	notes []error
	// unreachable is set when nothing at all could be listed, for a reason
	// other than RBAC.
	unreachable error
}

// scanClusters lists and scans every target, each against its own
// Kubernetes version, and merges the results into one report's worth.
// A cluster that cannot be reached at all is an error when it is the only
// one; among several, the report says so and is partial.
func scanClusters(ctx context.Context, g *globals, f postureScanFlags, scanner *posture.Scanner, targets []clusterTarget) (*scanResult, error) {
	scans := make([]*clusterScan, len(targets))
	names := map[string]bool{}
	for i, t := range targets {
		cfg, name, err := restConfig(t.kubeconfig, t.context)
		if err != nil {
			return nil, usageError(err)
		}
		// Two kubeconfigs may name their contexts alike ("default",
		// "kubernetes-admin@kubernetes"); the path tells them apart.
		if names[name] {
			name += "@" + t.kubeconfig
		}
		if names[name] {
			return nil, usageError(fmt.Errorf("posture scan: cluster %s given twice", name))
		}
		names[name] = true
		scans[i] = &clusterScan{name: name, cfg: cfg}
	}
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(maxConcurrentClusters)
	for _, cs := range scans {
		eg.Go(func() error { return scanCluster(ectx, g, f, scanner, cs) })
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}

	res := &scanResult{}
	var unreachable []error
	var clusters []string
	for _, cs := range scans {
		clusters = append(clusters, cs.name)
		if cs.unreachable != nil {
			unreachable = append(unreachable, cs.unreachable)
			res.notes = append(res.notes, cs.unreachable)
			continue
		}
		res.findings = append(res.findings, cs.out.Findings...)
		res.coverage = mergeCoverage(res.coverage, cs.out.Coverage)
		res.notes = append(res.notes, cs.notes...)
		res.invs = append(res.invs, cs.inv)
	}
	if len(unreachable) == len(scans) {
		return nil, usageError(fmt.Errorf("posture scan: %w", errors.Join(unreachable...)))
	}
	res.target = "cluster " + clusters[0]
	if len(clusters) > 1 {
		res.target = "clusters " + strings.Join(clusters, ", ")
	}
	return res, nil
}

// scanCluster lists one cluster, reads its version and scans it, filling cs.
func scanCluster(ctx context.Context, g *globals, f postureScanFlags, scanner *posture.Scanner, cs *clusterScan) error {
	inv, missing, err := kube.ListCluster(ctx, cs.cfg, cs.name, f.pageSize)
	if err != nil {
		return err
	}
	if len(missing) > 0 && len(inv.Objects) == 0 && allFailed(missing) {
		// Every kind failed alike (an unreachable server, bad
		// credentials): the first error says why.
		cs.unreachable = fmt.Errorf("cluster %s: nothing could be listed (%d kinds failed): %w", cs.name, len(missing), missing[0])
		return nil
	}
	for _, e := range missing {
		cs.notes = append(cs.notes, fmt.Errorf("cluster %s: %w", cs.name, e))
	}
	cv := f.cluster // each cluster is judged against its own version
	if err := cv.readLive(ctx, cs.cfg); err != nil {
		cs.notes = append(cs.notes, fmt.Errorf("cluster %s: %w", cs.name, err))
	}
	ci, err := cv.info(g)
	if err != nil {
		return usageError(err)
	}
	// The same probe serve runs: the endpoint checks judge what it found.
	ep, err := continuous.ProbeEndpoint(ctx, cs.cfg, nil)
	if err != nil {
		cs.notes = append(cs.notes, fmt.Errorf("cluster %s: probe the API endpoint: %w", cs.name, err))
	}
	ci.Endpoint = ep
	out, err := scanner.Scan(ctx, inv, f.scanOptions(g, ci))
	if err != nil {
		return err
	}
	for _, w := range out.Warnings {
		g.logger.Warn(w, "cluster", cs.name)
	}
	// Findings about the cluster itself (its version) come from no object;
	// they belong to this cluster all the same.
	for i := range out.Findings {
		if out.Findings[i].Resource.Cluster == "" {
			out.Findings[i].Resource.Cluster = cs.name
		}
	}
	cs.inv, cs.out = inv, out
	return nil
}

// mergeCoverage adds b's evaluations to a's, rules in first-seen order.
// Scans of different clusters have disjoint scopes, so the counts of a
// scope are never added twice.
func mergeCoverage(a, b *finding.Coverage) *finding.Coverage {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	at := make(map[string]int, len(a.Rules))
	for i, rc := range a.Rules {
		at[rc.RuleID] = i
	}
	for _, rc := range b.Rules {
		i, ok := at[rc.RuleID]
		if !ok {
			at[rc.RuleID] = len(a.Rules)
			a.Rules = append(a.Rules, rc)
			continue
		}
		scopes := append(a.Rules[i].Scopes, rc.Scopes...)
		slices.SortFunc(scopes, func(x, y finding.ScopeCount) int {
			return cmp.Or(cmp.Compare(x.Cluster, y.Cluster), cmp.Compare(x.Namespace, y.Namespace))
		})
		a.Rules[i].Scopes = scopes
	}
	return a
}
