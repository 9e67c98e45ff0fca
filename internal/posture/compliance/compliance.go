package compliance

import (
	"bytes"
	_ "embed"
	"fmt"
	"sort"

	"go.yaml.in/yaml/v3"

	"github.com/palisade-sec/palisade/internal/finding"
)

//go:embed mapping.yaml
var mappingYAML []byte

// Framework is a compliance framework.
type Framework struct {
	ID      string `yaml:"id"` // as in finding.Control.Framework
	Title   string `yaml:"title"`
	Version string `yaml:"version"`
	URL     string `yaml:"url"`
}

// Control is one control of a framework and the checks that test it.
type Control struct {
	Framework string   `yaml:"framework"`
	ID        string   `yaml:"id"`
	Title     string   `yaml:"title"`
	Checks    []string `yaml:"checks"`
}

// Mapping is the parsed mapping.yaml.
type Mapping struct {
	Frameworks []Framework `yaml:"frameworks"`
	Controls   []Control   `yaml:"controls"`

	byCheck map[string][]finding.Control
}

// Load parses the embedded mapping.
func Load() (*Mapping, error) { return Parse(mappingYAML) }

// Parse parses a mapping document and validates that every control names a
// declared framework and at least one check.
func Parse(data []byte) (*Mapping, error) {
	var m Mapping
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("parse compliance mapping: %w", err)
	}
	fw := map[string]bool{}
	for _, f := range m.Frameworks {
		fw[f.ID] = true
	}
	m.byCheck = map[string][]finding.Control{}
	seen := map[string]bool{}
	for _, c := range m.Controls {
		if !fw[c.Framework] {
			return nil, fmt.Errorf("parse compliance mapping: control %s: unknown framework %q", c.ID, c.Framework)
		}
		if c.ID == "" || len(c.Checks) == 0 {
			return nil, fmt.Errorf("parse compliance mapping: control %q of %s: id and checks are required", c.ID, c.Framework)
		}
		if seen[c.Framework+"/"+c.ID] {
			return nil, fmt.Errorf("parse compliance mapping: control %s %s listed twice", c.Framework, c.ID)
		}
		seen[c.Framework+"/"+c.ID] = true
		for _, id := range c.Checks {
			m.byCheck[id] = append(m.byCheck[id], finding.Control{Framework: c.Framework, ID: c.ID})
		}
	}
	for id := range m.byCheck {
		cs := m.byCheck[id]
		sort.SliceStable(cs, func(i, j int) bool {
			if cs[i].Framework != cs[j].Framework {
				return cs[i].Framework < cs[j].Framework
			}
			return cs[i].ID < cs[j].ID
		})
	}
	return &m, nil
}

// ControlsOf returns the controls check id maps to, sorted by framework
// and control ID. The slice is shared: do not modify it.
func (m *Mapping) ControlsOf(id string) []finding.Control { return m.byCheck[id] }

// CheckIDs returns every check ID the mapping names.
func (m *Mapping) CheckIDs() []string {
	ids := make([]string, 0, len(m.byCheck))
	for id := range m.byCheck {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
