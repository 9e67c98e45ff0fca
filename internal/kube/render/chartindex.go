package render

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/Masterminds/semver/v3"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	chartv2util "helm.sh/helm/v4/pkg/chart/v2/util"

	"github.com/palisade-sec/palisade/internal/kube"
)

// chartIndex holds the chart directories of one scan by chart name. A
// repository of charts that depend on each other through a chart
// registry (Bitnami's: every chart needs "common" from
// oci://registry-1.docker.io/bitnamicharts) cannot be built without the
// network, and scanned as checked out no chart in it would render; the
// index lets a dependency charts/ lacks be read from the scanned chart of
// that name whose version matches, which is the source the registry's
// copy was published from.
type chartIndex map[string][]indexedChart

type indexedChart struct {
	dir     string
	version *semver.Version
}

// newChartIndex reads the Chart.yaml of each chart directory of the scan
// and of the chart directories beside them (a chart scanned alone in a
// repository of charts finds its "../common" too); one that does not read
// or has no semantic version is left out (rendering it says why).
func newChartIndex(dirs []string) chartIndex {
	idx := chartIndex{}
	seen := map[string]bool{}
	add := func(dir string) {
		if seen[filepath.Clean(dir)] {
			return
		}
		seen[filepath.Clean(dir)] = true
		md, err := chartv2util.LoadChartfile(filepath.Join(dir, "Chart.yaml"))
		if err != nil || md.Name == "" {
			return
		}
		v, err := semver.NewVersion(md.Version)
		if err != nil {
			return
		}
		idx[md.Name] = append(idx[md.Name], indexedChart{dir: dir, version: v})
	}
	for _, dir := range dirs {
		add(dir)
	}
	parents := map[string]bool{}
	for _, dir := range dirs {
		parent := filepath.Dir(filepath.Clean(dir))
		if parents[parent] {
			continue
		}
		parents[parent] = true
		entries, _ := os.ReadDir(parent) // unreadable: no siblings
		for _, e := range entries {
			if sib := filepath.Join(parent, e.Name()); e.IsDir() && kube.IsChartDir(sib) {
				add(sib)
			}
		}
	}
	return idx
}

// find is the directory of the newest chart named as req whose version
// satisfies req's range, other than the chart at self that declares it.
func (idx chartIndex) find(req *chartv2.Dependency, self string) (indexedChart, bool) {
	var c *semver.Constraints
	if req.Version != "" {
		var err error
		if c, err = semver.NewConstraint(req.Version); err != nil {
			return indexedChart{}, false
		}
	}
	var best indexedChart
	for _, ic := range idx[req.Name] {
		if filepath.Clean(ic.dir) == filepath.Clean(self) || (c != nil && !c.Check(ic.version)) {
			continue
		}
		if best.version == nil || ic.version.GreaterThan(best.version) {
			best = ic
		}
	}
	return best, best.version != nil
}

// String names the chart for a report: "charts/common (2.31.4)".
func (ic indexedChart) String() string {
	return fmt.Sprintf("%s (%s)", ic.dir, ic.version.Original())
}
