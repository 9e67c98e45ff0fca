package kube

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// lineNode is a compact copy of a YAML node tree that keeps only what
// Object.Line needs — keys, nesting and lines — so the full yaml.Node tree
// (an order of magnitude larger) can be freed once a document is decoded.
type lineNode struct {
	line int32
	keys []string   // mapping keys, parallel to kids; nil for a sequence
	kids []lineNode // mapping values or sequence items
}

// maxLineNodes bounds the index of one document; deeper parts fall back to
// the nearest indexed ancestor's line.
const maxLineNodes = 1 << 20

// indexLines builds the line index of n. intern deduplicates key strings
// across the documents of a file.
func indexLines(n *yaml.Node, intern map[string]string) lineNode {
	budget := maxLineNodes
	return buildLines(n, intern, &budget, 0)
}

func buildLines(n *yaml.Node, intern map[string]string, budget *int, depth int) lineNode {
	ln := lineNode{line: int32(n.Line)}
	*budget--
	if *budget <= 0 || depth > maxDepth {
		return ln
	}
	switch n.Kind {
	case yaml.MappingNode:
		ln.keys = make([]string, 0, len(n.Content)/2)
		ln.kids = make([]lineNode, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key, ok := intern[k.Value]
			if !ok {
				key = k.Value
				intern[key] = key
			}
			kid := buildLines(v, intern, budget, depth+1)
			if v.Kind != yaml.ScalarNode {
				kid.line = int32(k.Line) // a field's line is where its key is written
			}
			ln.keys = append(ln.keys, key)
			ln.kids = append(ln.kids, kid)
		}
	case yaml.SequenceNode:
		ln.kids = make([]lineNode, len(n.Content))
		for i, c := range n.Content {
			ln.kids[i] = buildLines(c, intern, budget, depth+1)
		}
	}
	// Aliases are not followed: their line is where the alias is written.
	return ln
}

// child returns the node at key (a mapping key or a sequence index).
func (ln *lineNode) child(key string) *lineNode {
	if ln.keys != nil {
		for i, k := range ln.keys {
			if k == key {
				return &ln.kids[i]
			}
		}
		return nil
	}
	i, err := strconv.Atoi(key)
	if err != nil || i < 0 || i >= len(ln.kids) {
		return nil
	}
	return &ln.kids[i]
}
