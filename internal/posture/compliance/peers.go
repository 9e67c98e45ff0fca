package compliance

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// peerFiles holds peers.yaml and, by topic, peers.d/*.yaml: several
// people map different peer checks at once without editing one file.
//
//go:embed peers.yaml peers.d/*.yaml
var peerFiles embed.FS

// PeerCheck is what one peer tool's check maps to among ours.
type PeerCheck struct {
	// Check is our check ID.
	Check string `yaml:"check"`
	// Evidence narrows the mapping to findings with one of these
	// "name=value" evidence entries ("a=x & b=y": with both); empty means
	// any finding of Check.
	Evidence []string `yaml:"evidence"`
	// Or lists further checks that count too: the peer fires when any does.
	Or []PeerCheck `yaml:"or"`
}

// Peers maps tool → peer check ID → ours.
type Peers struct {
	Tools map[string]map[string]PeerCheck `yaml:"tools"`
}

// LoadPeers parses the embedded peers.yaml and peers.d/*.yaml into one
// mapping.
func LoadPeers() (*Peers, error) {
	names, err := fs.Glob(peerFiles, "peers.d/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list peer mappings: %w", err)
	}
	all := &Peers{Tools: map[string]map[string]PeerCheck{}}
	for _, name := range append([]string{"peers.yaml"}, names...) {
		data, err := peerFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read peer mapping %s: %w", name, err)
		}
		p, err := parsePeers(data)
		if err != nil {
			return nil, fmt.Errorf("parse peer mapping %s: %w", name, err)
		}
		for tool, m := range p.Tools {
			if all.Tools[tool] == nil {
				all.Tools[tool] = map[string]PeerCheck{}
			}
			for id, pc := range m {
				if _, dup := all.Tools[tool][id]; dup {
					return nil, fmt.Errorf("parse peer mapping %s: %s %s is mapped in another file too", name, tool, id)
				}
				all.Tools[tool][id] = pc
			}
		}
	}
	return all, nil
}

func parsePeers(data []byte) (*Peers, error) {
	var p Peers
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, err
	}
	for tool, m := range p.Tools {
		for id, pc := range m {
			if pc.Check == "" {
				return nil, fmt.Errorf("%s %s: no check", tool, id)
			}
			for _, e := range pc.Evidence {
				if strings.Contains(e, "&") && slices.ContainsFunc(strings.Split(e, " & "), func(p string) bool { return !strings.Contains(p, "=") }) {
					return nil, fmt.Errorf("%s %s: evidence %q is not name=value & name=value", tool, id, e)
				}
				if !strings.Contains(e, "=") {
					return nil, fmt.Errorf("%s %s: evidence %q is not name=value", tool, id, e)
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
