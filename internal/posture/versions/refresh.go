package versions

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// DefaultSource is the endoflife.date API that Fetch reads by default:
// <source><product> returns a product's releases.
const DefaultSource = "https://endoflife.date/api/v1/products/"

// products maps endoflife.date product names to distributions.
func products() [][2]string {
	return [][2]string{
		{"kubernetes", Upstream},
		{"amazon-eks", EKS},
		{"google-kubernetes-engine", GKE},
		{"azure-kubernetes-service", AKS},
	}
}

// maxResponse bounds one API response: a product is a few kilobytes.
const maxResponse = 4 << 20

// Fetch builds a table from the endoflife.date API at source (DefaultSource
// when empty), one request per distribution, dated asOf. The upstream
// product is required; a distribution that fails is kept from fallback
// (usually the embedded table) and named in the returned warnings.
func Fetch(ctx context.Context, client *http.Client, source string, asOf time.Time, fallback *Table) (*Table, []string, error) {
	if source == "" {
		source = DefaultSource
	}
	if !strings.HasSuffix(source, "/") {
		source += "/"
	}
	t := &Table{AsOf: Date{asOf.UTC().Truncate(24 * time.Hour)}, Distributions: map[string][]Release{}}
	var warnings []string
	for _, p := range products() {
		product, dist := p[0], p[1]
		url := source + product
		rs, err := fetchProduct(ctx, client, url)
		if err == nil && len(rs) == 0 {
			err = fmt.Errorf("no releases")
		}
		if err != nil {
			if dist == Upstream {
				return nil, nil, fmt.Errorf("fetch Kubernetes releases: %w", err)
			}
			warnings = append(warnings, fmt.Sprintf("%s: %v; keeping the previous %s dates", url, err, dist))
			if fallback != nil {
				t.Distributions[dist] = fallback.Distributions[dist]
			}
			continue
		}
		t.Sources = append(t.Sources, url)
		t.Distributions[dist] = rs
	}
	// Round-trip through Parse: what Fetch returns is valid as a file.
	data, err := t.Marshal()
	if err != nil {
		return nil, nil, err
	}
	out, err := Parse(data)
	if err != nil {
		return nil, nil, fmt.Errorf("releases from %s: %w", source, err)
	}
	return out, warnings, nil
}

func fetchProduct(ctx context.Context, client *http.Client, url string) ([]Release, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get: HTTP %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(data) > maxResponse {
		return nil, fmt.Errorf("response larger than %d bytes", maxResponse)
	}
	return ParseEndOfLife(data)
}

// eolRelease is one release of an endoflife.date API v1 product. The
// dates are strings or null; latest is an object or null.
type eolRelease struct {
	Name        string  `json:"name"`
	ReleaseDate *string `json:"releaseDate"`
	EoasFrom    *string `json:"eoasFrom"`
	EolFrom     *string `json:"eolFrom"`
	Latest      *struct {
		Name string `json:"name"`
	} `json:"latest"`
}

// ParseEndOfLife reads an endoflife.date API v1 product document
// ({"result": {"releases": [...]}}) into releases. Releases whose name is
// not MAJOR.MINOR or that have no end-of-life date are skipped; a latest
// that is not a patch of its minor (EKS's "1.35-eks-3") is left out.
func ParseEndOfLife(data []byte) ([]Release, error) {
	var doc struct {
		Result struct {
			Releases []eolRelease `json:"releases"`
		} `json:"result"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse endoflife.date product: %w", err)
	}
	var out []Release
	seen := map[string]bool{}
	for i, r := range doc.Result.Releases {
		v, err := ParseVersion(r.Name)
		if err != nil || v.HasPatch || v.Suffix != "" || seen[v.MinorString()] {
			continue
		}
		rel := Release{Minor: v.MinorString()}
		if r.EolFrom == nil {
			continue
		}
		eol, err := time.Parse(time.DateOnly, *r.EolFrom)
		if err != nil {
			return nil, fmt.Errorf("parse endoflife.date product: release %d (%s): eolFrom %q: want YYYY-MM-DD", i, r.Name, *r.EolFrom)
		}
		rel.EndOfLife = Date{eol}
		if d, ok := optDate(r.ReleaseDate); ok {
			rel.Released = &d
		}
		if d, ok := optDate(r.EoasFrom); ok && !d.After(eol) {
			rel.EndOfSupport = &d
		}
		if r.Latest != nil {
			if l, err := ParseVersion(r.Latest.Name); err == nil && l.HasPatch && l.Major == v.Major && l.Minor == v.Minor {
				rel.Latest = l.String()
			}
		}
		seen[rel.Minor] = true
		out = append(out, rel)
	}
	return out, nil
}

func optDate(s *string) (Date, bool) {
	if s == nil {
		return Date{}, false
	}
	t, err := time.Parse(time.DateOnly, *s)
	if err != nil {
		return Date{}, false
	}
	return Date{t}, true
}
