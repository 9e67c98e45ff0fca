package kube

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// lineIndex is a compact copy of a YAML node tree that keeps only what
// Object.Line needs — keys, nesting and lines — so the full yaml.Node tree
// (an order of magnitude larger) can be freed once a document is decoded.
// The nodes are in one slice, the children of each node next to each
// other: one allocation per document, a fraction of a tree's size (a
// scan of 10,000 Deployments keeps 20,000 of them).
type lineIndex []lineEntry

// lineEntry is one node of a lineIndex.
type lineEntry struct {
	key   string // the mapping key this node is the value of; "" in a sequence
	line  int32
	first int32 // index of the first child
	kids  int32 // number of children
	seq   bool  // children are sequence items, found by position
}

// maxLineNodes bounds the index of one document; deeper parts fall back to
// the nearest indexed ancestor's line.
const maxLineNodes = 1 << 20

// indexLines builds the line index of n. intern deduplicates key strings
// across the documents of a file.
func indexLines(n *yaml.Node, intern map[string]string) lineIndex {
	idx := lineIndex{{line: int32(n.Line)}}
	// Breadth first: a node's children are appended together, after
	// every node already queued.
	type queued struct {
		n     *yaml.Node
		at    int32
		depth int
	}
	queue := []queued{{n, 0, 0}}
	for len(queue) > 0 {
		q := queue[0]
		queue = queue[1:]
		if q.depth > maxDepth {
			continue
		}
		first := int32(len(idx))
		switch q.n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(q.n.Content) && len(idx) < maxLineNodes; i += 2 {
				k, v := q.n.Content[i], q.n.Content[i+1]
				key, ok := intern[k.Value]
				if !ok {
					key = k.Value
					intern[key] = key
				}
				line := v.Line
				if v.Kind != yaml.ScalarNode {
					line = k.Line // a field's line is where its key is written
				}
				idx = append(idx, lineEntry{key: key, line: int32(line)})
				queue = append(queue, queued{v, int32(len(idx) - 1), q.depth + 1})
			}
		case yaml.SequenceNode:
			for _, c := range q.n.Content {
				if len(idx) >= maxLineNodes {
					break
				}
				idx = append(idx, lineEntry{line: int32(c.Line)})
				queue = append(queue, queued{c, int32(len(idx) - 1), q.depth + 1})
			}
			idx[q.at].seq = true
		}
		// Aliases are not followed: their line is where the alias is written.
		idx[q.at].first, idx[q.at].kids = first, int32(len(idx))-first
	}
	return idx
}

// child returns the index of the child of node at at key (a mapping key or
// a sequence index), or -1.
func (idx lineIndex) child(at int32, key string) int32 {
	e := &idx[at]
	if e.seq {
		i, err := strconv.Atoi(key)
		if err != nil || i < 0 || i >= int(e.kids) {
			return -1
		}
		return e.first + int32(i)
	}
	for i := e.first; i < e.first+e.kids; i++ {
		if idx[i].key == key {
			return i
		}
	}
	return -1
}
