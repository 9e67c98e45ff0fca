package versions

import (
	"bytes"
	_ "embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed versions.yaml
var embeddedTable []byte

// The distributions the table knows.
const (
	Upstream = "upstream"
	EKS      = "eks"
	GKE      = "gke"
	AKS      = "aks"
)

// Distributions returns the distributions the table may list, in order.
func Distributions() []string { return []string{Upstream, EKS, GKE, AKS} }

// Date is a calendar day, written YYYY-MM-DD.
type Date struct{ time.Time }

// UnmarshalYAML parses YYYY-MM-DD.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	t, err := time.Parse(time.DateOnly, n.Value)
	if err != nil {
		return fmt.Errorf("line %d: date %q: want YYYY-MM-DD", n.Line, n.Value)
	}
	d.Time = t
	return nil
}

// MarshalYAML writes YYYY-MM-DD.
func (d Date) MarshalYAML() (any, error) { return d.Format(time.DateOnly), nil }

// String returns YYYY-MM-DD, or "" for the zero date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(time.DateOnly)
}

// Release is one minor version of a distribution.
type Release struct {
	Minor        string `yaml:"minor"`
	Released     *Date  `yaml:"released,omitempty"`
	EndOfSupport *Date  `yaml:"endOfSupport,omitempty"`
	EndOfLife    Date   `yaml:"endOfLife"`
	Latest       string `yaml:"latest,omitempty"`
}

// Table is the parsed versions.yaml.
type Table struct {
	AsOf          Date                 `yaml:"asOf"`
	Sources       []string             `yaml:"sources"`
	Distributions map[string][]Release `yaml:"distributions"`
}

// Embedded returns the table built into the binary.
func Embedded() *Table {
	t, err := Parse(embeddedTable)
	if err != nil {
		// The embedded table is tested; reaching this is a build defect.
		panic("embedded versions.yaml: " + err.Error())
	}
	return t
}

// Parse parses and validates a versions table: asOf set, known
// distributions, minors "1.N" unique per distribution, latest patches of
// their minor, endOfSupport not after endOfLife. Releases are sorted newest first.
func Parse(data []byte) (*Table, error) {
	var t Table
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("parse versions table: %w", err)
	}
	if t.AsOf.IsZero() {
		return nil, fmt.Errorf("parse versions table: asOf is required")
	}
	if len(t.Distributions[Upstream]) == 0 {
		return nil, fmt.Errorf("parse versions table: no upstream releases")
	}
	for dist, rs := range t.Distributions {
		known := false
		for _, d := range Distributions() {
			known = known || d == dist
		}
		if !known {
			return nil, fmt.Errorf("parse versions table: unknown distribution %q", dist)
		}
		seen := map[string]bool{}
		for i, r := range rs {
			where := fmt.Sprintf("parse versions table: %s release %d (%q)", dist, i, r.Minor)
			v, err := ParseVersion(r.Minor)
			if err != nil || v.HasPatch {
				return nil, fmt.Errorf("%s: minor must be MAJOR.MINOR", where)
			}
			if seen[r.Minor] {
				return nil, fmt.Errorf("%s: listed twice", where)
			}
			seen[r.Minor] = true
			if r.EndOfLife.IsZero() {
				return nil, fmt.Errorf("%s: endOfLife is required", where)
			}
			if r.EndOfSupport != nil && r.EndOfSupport.After(r.EndOfLife.Time) {
				return nil, fmt.Errorf("%s: endOfSupport %s is after endOfLife %s", where, r.EndOfSupport, r.EndOfLife)
			}
			if r.Latest != "" {
				l, err := ParseVersion(r.Latest)
				if err != nil || !l.HasPatch || l.Major != v.Major || l.Minor != v.Minor {
					return nil, fmt.Errorf("%s: latest %q is not a patch release of %s", where, r.Latest, r.Minor)
				}
			}
		}
		sort.SliceStable(rs, func(i, j int) bool {
			a, _ := ParseVersion(rs[i].Minor)
			b, _ := ParseVersion(rs[j].Minor)
			return b.Less(a)
		})
	}
	return &t, nil
}

// Marshal writes the table as YAML that Parse reads back.
func (t *Table) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(t); err != nil {
		return nil, fmt.Errorf("write versions table: %w", err)
	}
	return b.Bytes(), enc.Close()
}

// Newest returns the newest upstream minor release.
func (t *Table) Newest() Release { return t.Distributions[Upstream][0] }

// Release returns the release of minor ("1.31") in dist, and whether the
// distribution lists it.
func (t *Table) Release(dist, minor string) (Release, bool) {
	for _, r := range t.Distributions[dist] {
		if r.Minor == minor {
			return r, true
		}
	}
	return Release{}, false
}

// Version is a parsed Kubernetes version: "v1.31.4-eks-1234" is 1, 31, 4
// with suffix "-eks-1234".
type Version struct {
	Major, Minor, Patch int
	HasPatch            bool
	Suffix              string
}

// ParseVersion parses "1.31", "v1.31.4" or a gitVersion with a build suffix
// ("v1.31.4-gke.1000", "v1.30.2-eks-1a2b3c", "v1.32.0+k3s1").
func ParseVersion(s string) (Version, error) {
	in := s
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	var v Version
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		s, v.Suffix = s[:i], s[i:]
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return Version{}, fmt.Errorf("version %q: want MAJOR.MINOR[.PATCH]", in)
	}
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 1_000_000 || (len(p) > 1 && p[0] == '0') || strings.HasPrefix(p, "+") {
			return Version{}, fmt.Errorf("version %q: %q is not a number", in, p)
		}
		nums[i] = n
	}
	v.Major, v.Minor = nums[0], nums[1]
	if len(nums) == 3 {
		v.Patch, v.HasPatch = nums[2], true
	}
	return v, nil
}

// MinorString returns "MAJOR.MINOR".
func (v Version) MinorString() string { return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor) }

// String returns "MAJOR.MINOR[.PATCH]" without the suffix.
func (v Version) String() string {
	if !v.HasPatch {
		return v.MinorString()
	}
	return v.MinorString() + "." + strconv.Itoa(v.Patch)
}

// Less reports whether v is older than w, suffixes aside.
func (v Version) Less(w Version) bool {
	if v.Major != w.Major {
		return v.Major < w.Major
	}
	if v.Minor != w.Minor {
		return v.Minor < w.Minor
	}
	return v.Patch < w.Patch
}

// MinorsBehind returns how many minor releases v is behind newest (same major).
func (v Version) MinorsBehind(newest Version) int {
	if v.Major != newest.Major {
		if v.Major < newest.Major {
			return 1 << 20
		}
		return 0
	}
	return max(0, newest.Minor-v.Minor)
}

// Distribution guesses the distribution from a gitVersion suffix: "-eks-"
// is EKS, "-gke." GKE; anything else upstream. AKS runs upstream builds, so
// it is told apart by node labels or the --distribution flag, not here.
func Distribution(gitVersion string) string {
	switch {
	case strings.Contains(gitVersion, "-eks-"):
		return EKS
	case strings.Contains(gitVersion, "-gke."):
		return GKE
	}
	return Upstream
}
