package imageconfig

// CIS Docker Benchmark 4.3, "Ensure that unnecessary packages are not
// installed in the container", applied to what package managers leave
// behind: downloaded .deb archives, apt lists, apk, pip, npm, yum and dnf
// caches are never used at run time, add size to every pull and node, and
// record which packages were fetched from where.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
)

// packageCache is one cache location.
type packageCache struct {
	name string // evidence value: "apt-archives"
	dir  string // without leading slash, with trailing slash
	// match reports whether the file at rel (relative to dir) belongs to
	// the cache; nil means every file.
	match   func(rel string) bool
	cleanup string
}

var packageCaches = []packageCache{
	{name: "apt-archives", dir: "var/cache/apt/archives/", match: func(rel string) bool { return strings.HasSuffix(rel, ".deb") },
		cleanup: "apt-get clean (or rm -rf /var/cache/apt/archives/*.deb) in the same RUN as apt-get install"},
	{name: "apt-lists", dir: "var/lib/apt/lists/", match: func(rel string) bool { return rel != "lock" && !strings.HasPrefix(rel, "partial/") },
		cleanup: "rm -rf /var/lib/apt/lists/* in the same RUN as apt-get update"},
	{name: "apk", dir: "var/cache/apk/", cleanup: "apk add --no-cache"},
	{name: "pip", dir: "root/.cache/pip/", cleanup: "pip install --no-cache-dir"},
	{name: "npm", dir: "root/.npm/_cacache/", cleanup: "npm ci && npm cache clean --force in the same RUN"},
	{name: "yum", dir: "var/cache/yum/", cleanup: "yum clean all && rm -rf /var/cache/yum in the same RUN"},
	{name: "dnf", dir: "var/cache/dnf/", cleanup: "dnf clean all in the same RUN"},
}

// PackageCaches reports package-manager caches left in the squashed
// filesystem, one finding per cache with its file count and total size.
func PackageCaches() *Check {
	return &Check{
		ID:          "image/package-cache",
		Title:       "Package manager cache left in the image",
		Severity:    finding.SeverityLow,
		CIS:         "4.3",
		Rationale:   "Package caches are never used at run time: they make every pull larger and keep downloaded packages in the image.",
		Remediation: "Clean the cache in the same RUN instruction that fills it, so no layer keeps it.",
		Files:       func() FileCheck { return &cacheCheck{byName: map[string]*cacheUse{}} },
	}
}

// cacheUse is what one cache holds.
type cacheUse struct {
	files  int
	bytes  int64
	layers map[int]image.Layer
	perLay map[int]int64
}

type cacheCheck struct{ byName map[string]*cacheUse }

func (c *cacheCheck) File(f *image.File) {
	if !f.Final || f.Info == nil || !f.Info.Mode().IsRegular() {
		return
	}
	for i := range packageCaches {
		pc := &packageCaches[i]
		rel, ok := strings.CutPrefix(f.Path, pc.dir)
		if !ok || rel == "" || pc.match != nil && !pc.match(rel) {
			continue
		}
		u := c.byName[pc.name]
		if u == nil {
			u = &cacheUse{layers: map[int]image.Layer{}, perLay: map[int]int64{}}
			c.byName[pc.name] = u
		}
		u.files++
		u.bytes += f.Info.Size()
		u.layers[f.Layer.Index] = f.Layer
		u.perLay[f.Layer.Index] += f.Info.Size()
		return
	}
}

func (c *cacheCheck) Problems() []Problem {
	var out []Problem
	for _, pc := range packageCaches {
		u := c.byName[pc.name]
		if u == nil {
			continue
		}
		idx := make([]int, 0, len(u.layers))
		for i := range u.layers {
			idx = append(idx, i)
		}
		slices.Sort(idx)
		// Attribute the cache to the layer that put most of it there.
		top := idx[0]
		for _, i := range idx {
			if u.perLay[i] > u.perLay[top] {
				top = i
			}
		}
		l := u.layers[top]
		names := make([]string, len(idx))
		for k, i := range idx {
			names[k] = strconv.Itoa(i)
		}
		dir := "/" + strings.TrimSuffix(pc.dir, "/")
		out = append(out, Problem{
			Message: fmt.Sprintf("%s holds %d cache file(s), %s, mostly added in layer %d; clean it: %s", dir, u.files, humanBytes(u.bytes), l.Index, pc.cleanup),
			File:    dir,
			Layer:   &l,
			Evidence: []finding.Evidence{
				{Name: "cache", Value: pc.name, Key: true},
				{Name: "files", Value: strconv.Itoa(u.files)},
				{Name: "bytes", Value: strconv.FormatInt(u.bytes, 10)},
				{Name: "layers", Value: strings.Join(names, ",")},
			},
		})
	}
	return out
}

// humanBytes formats n as "12.3 MiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
