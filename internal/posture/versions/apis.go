package versions

import (
	"bytes"
	_ "embed"
	"fmt"

	"go.yaml.in/yaml/v3"
)

//go:embed apis.yaml
var embeddedAPIs []byte

// API is a deprecated API version of a kind.
type API struct {
	APIVersion  string `yaml:"apiVersion"`
	Kind        string `yaml:"kind"`
	Deprecated  string `yaml:"deprecated"`
	Removed     string `yaml:"removed"`
	Replacement string `yaml:"replacement"`
}

// APIs indexes deprecated API versions by apiVersion and kind.
type APIs struct {
	byKey map[[2]string]API
}

// DeprecatedAPIs returns the embedded table of deprecated API versions.
func DeprecatedAPIs() *APIs {
	a, err := ParseAPIs(embeddedAPIs)
	if err != nil {
		// The embedded table is tested; reaching this is a build defect.
		panic("embedded apis.yaml: " + err.Error())
	}
	return a
}

// ParseAPIs parses a deprecated-API table; each entry needs apiVersion, kind
// and valid deprecated ≤ removed minor versions.
func ParseAPIs(data []byte) (*APIs, error) {
	var doc struct {
		APIs []API `yaml:"apis"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse deprecated APIs: %w", err)
	}
	out := &APIs{byKey: map[[2]string]API{}}
	for i, a := range doc.APIs {
		d, err1 := ParseVersion(a.Deprecated)
		r, err2 := ParseVersion(a.Removed)
		if a.APIVersion == "" || a.Kind == "" || err1 != nil || err2 != nil || r.Less(d) {
			return nil, fmt.Errorf("parse deprecated APIs: entry %d (%s %s): apiVersion, kind and deprecated ≤ removed are required", i, a.APIVersion, a.Kind)
		}
		k := [2]string{a.APIVersion, a.Kind}
		if _, dup := out.byKey[k]; dup {
			return nil, fmt.Errorf("parse deprecated APIs: %s %s listed twice", a.APIVersion, a.Kind)
		}
		out.byKey[k] = a
	}
	return out, nil
}

// Lookup returns the deprecation of kind in apiVersion, if any.
func (a *APIs) Lookup(apiVersion, kind string) (API, bool) {
	api, ok := a.byKey[[2]string{apiVersion, kind}]
	return api, ok
}

// Status says what target does with api: "removed" when target is at or
// past its removal, "deprecated" when at or past its deprecation, else "".
func (api API) Status(target Version) string {
	d, _ := ParseVersion(api.Deprecated)
	r, _ := ParseVersion(api.Removed)
	t := Version{Major: target.Major, Minor: target.Minor}
	switch {
	case !t.Less(r):
		return "removed"
	case !t.Less(d):
		return "deprecated"
	}
	return ""
}
