package compliance

import (
	"bytes"
	_ "embed"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed peers.yaml
var peersYAML []byte

// PeerCheck is what one peer tool's check maps to among ours.
type PeerCheck struct {
	// Check is our check ID.
	Check string `yaml:"check"`
	// Evidence narrows the mapping to findings with one of these
	// "name=value" evidence entries; empty means any finding of Check.
	Evidence []string `yaml:"evidence"`
	// Or lists further checks that count too: the peer fires when any does.
	Or []PeerCheck `yaml:"or"`
}

// Peers maps tool → peer check ID → ours.
type Peers struct {
	Tools map[string]map[string]PeerCheck `yaml:"tools"`
}

// LoadPeers parses the embedded peers.yaml.
func LoadPeers() (*Peers, error) {
	var p Peers
	dec := yaml.NewDecoder(bytes.NewReader(peersYAML))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("parse peers mapping: %w", err)
	}
	for tool, m := range p.Tools {
		for id, pc := range m {
			if pc.Check == "" {
				return nil, fmt.Errorf("parse peers mapping: %s %s: no check", tool, id)
			}
			for _, e := range pc.Evidence {
				if !strings.Contains(e, "=") {
					return nil, fmt.Errorf("parse peers mapping: %s %s: evidence %q is not name=value", tool, id, e)
				}
			}
		}
	}
	return &p, nil
}

// ToolNames returns the tools, sorted.
func (p *Peers) ToolNames() []string {
	names := make([]string, 0, len(p.Tools))
	for t := range p.Tools {
		names = append(names, t)
	}
	sort.Strings(names)
	return names
}
