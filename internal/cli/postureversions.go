package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/palisade-sec/palisade/internal/paths"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/versions"
)

// clusterVersionFlags are posture scan's version flags and what a live
// cluster says of its version.
type clusterVersionFlags struct {
	target       string
	distribution string
	gitVersion   string // read from /version in live scans
	liveDist     string // aks when a node carries the AKS label
}

func (f *clusterVersionFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.target, "target-version", "", "Kubernetes version (1.32) to judge deprecated and removed APIs against, and to render charts for (default: the cluster's, else the newest known)")
	fl.StringVar(&f.distribution, "distribution", "", "Kubernetes distribution for end-of-support dates: upstream, eks, gke, aks (default: detected)")
}

// readLive reads the cluster's version and whether it is AKS. Failing to
// is not fatal: the version checks then have nothing to judge, and the
// returned error says so in the report.
func (f *clusterVersionFlags) readLive(ctx context.Context, cfg *rest.Config) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("read cluster version: %w", err)
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		return fmt.Errorf("read cluster version: %w; version checks skipped", err)
	}
	f.gitVersion = v.GitVersion
	// One node is enough to tell AKS; RBAC may hide nodes, then the
	// gitVersion suffix or --distribution decides.
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1})
	if err == nil && len(nodes.Items) > 0 {
		f.liveDist = versions.NodeDistribution(nodes.Items[0].Labels)
	}
	return nil
}

// info returns the cluster information of a scan, with the versions table
// `palisade db update` saved, or the embedded one.
func (f *clusterVersionFlags) info(g *globals) (posture.ClusterInfo, error) {
	ci := posture.ClusterInfo{GitVersion: f.gitVersion, Distribution: f.liveDist, Now: g.env.Now()}
	if f.distribution != "" {
		if !slices.Contains(versions.Distributions(), f.distribution) {
			return ci, fmt.Errorf("--distribution %q: want one of %v", f.distribution, versions.Distributions())
		}
		ci.Distribution = f.distribution
	}
	if f.target != "" {
		v, err := versions.ParseVersion(f.target)
		if err != nil {
			return ci, fmt.Errorf("--target-version: %w", err)
		}
		ci.TargetVersion = v.MinorString()
	}
	t, err := loadVersionsTable(versionsTablePath())
	if err != nil {
		g.logger.Warn("using the embedded Kubernetes versions table", "err", err)
	}
	ci.Versions = t
	return ci, nil
}

// versionsTablePath is where `palisade db update` saves the versions table.
func versionsTablePath() string {
	return filepath.Join(paths.CacheDir(), "k8s-versions", "versions.yaml")
}

// loadVersionsTable returns the saved table when it exists, parses and is
// newer than the embedded one; else the embedded table (and why, if the
// saved one was unusable).
func loadVersionsTable(path string) (*versions.Table, error) {
	emb := versions.Embedded()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return emb, nil
	}
	if err != nil {
		return emb, fmt.Errorf("read versions table: %w", err)
	}
	t, err := versions.Parse(data)
	if err != nil {
		return emb, fmt.Errorf("%s: %w", path, err)
	}
	if t.AsOf.Before(emb.AsOf.Time) {
		return emb, nil
	}
	return t, nil
}

// refreshVersionsTable is db update's second step: fetch the Kubernetes
// versions table from url (the endoflife.date API when empty) and save it
// where posture scans read it. An offline update (custom mirror) without an
// explicit url skips it; a failure of the default source only warns, since
// the embedded table still works, but a failure of a url the user gave is
// an error.
func refreshVersionsTable(cmd *cobra.Command, g *globals, url string, offline bool) error {
	if url == "none" || (url == "" && offline) {
		return nil
	}
	path := versionsTablePath()
	prev, _ := loadVersionsTable(path)
	t, warnings, err := versions.Fetch(cmd.Context(), &http.Client{Timeout: 60 * time.Second}, url, g.env.Now(), prev)
	if err == nil {
		var data []byte
		if data, err = t.Marshal(); err == nil {
			err = writeFileAtomic(path, data)
		}
	}
	for _, w := range warnings {
		g.logger.Warn(w)
	}
	if err != nil {
		err = fmt.Errorf("refresh Kubernetes versions table: %w", err)
		if url == "" {
			g.logger.Warn(err.Error() + "; the embedded table stays in use")
			return nil
		}
		return usageError(err)
	}
	g.logger.Info("Kubernetes versions table refreshed", "path", path, "as_of", t.AsOf.String())
	return nil
}

// writeFileAtomic writes data to path through a temporary file and a rename,
// so a reader never sees half a table.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".versions-*.yaml")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
