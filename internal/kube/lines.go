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
// scan of 10,000 Deployments keeps 20,000 of them). The entries hold no
// pointers — keys are numbers in the file's lineKeys — so the garbage
// collector never scans them (a million entries in that scan).
type lineIndex struct {
	keys  *lineKeys
	nodes []lineEntry
}

// lineEntry is one node of a lineIndex.
type lineEntry struct {
	key   int32 // the mapping key this node is the value of (lineKeys); noKey in a sequence
	line  int32
	first int32 // index of the first child
	kids  int32 // number of children; seqKids set when they are sequence items, found by position
}

const (
	noKey   = -1
	seqKids = 1 << 30
)

// lineKeys numbers the mapping keys of the documents one decoder reads
// (a file, or a chunk of one). It is written while they are decoded and
// only read after.
type lineKeys struct{ ids map[string]int32 }

func newLineKeys() *lineKeys { return &lineKeys{ids: map[string]int32{}} }

func (k *lineKeys) id(key string) int32 {
	id, ok := k.ids[key]
	if !ok {
		id = int32(len(k.ids))
		k.ids[key] = id
	}
	return id
}

// idOf is id for a key read as bytes.
func (k *lineKeys) idOf(key []byte) int32 {
	if id, ok := k.ids[string(key)]; ok {
		return id
	}
	return k.id(string(key))
}

// maxLineNodes bounds the index of one document; deeper parts fall back to
// the nearest indexed ancestor's line.
const maxLineNodes = 1 << 20

// indexLines builds the line index of n, numbering its keys in keys.
func indexLines(n *yaml.Node, keys *lineKeys) lineIndex {
	idx := []lineEntry{{key: noKey, line: int32(n.Line)}}
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
		var seq int32
		switch q.n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(q.n.Content) && len(idx) < maxLineNodes; i += 2 {
				k, v := q.n.Content[i], q.n.Content[i+1]
				line := v.Line
				if v.Kind != yaml.ScalarNode {
					line = k.Line // a field's line is where its key is written
				}
				idx = append(idx, lineEntry{key: keys.id(k.Value), line: int32(line)})
				queue = append(queue, queued{v, int32(len(idx) - 1), q.depth + 1})
			}
		case yaml.SequenceNode:
			for _, c := range q.n.Content {
				if len(idx) >= maxLineNodes {
					break
				}
				idx = append(idx, lineEntry{key: noKey, line: int32(c.Line)})
				queue = append(queue, queued{c, int32(len(idx) - 1), q.depth + 1})
			}
			seq = seqKids
		}
		// Aliases are not followed: their line is where the alias is written.
		idx[q.at].first, idx[q.at].kids = first, int32(len(idx))-first|seq
	}
	return lineIndex{keys: keys, nodes: idx}
}

// child returns the index of the child of node at at key (a mapping key or
// a sequence index), or -1.
func (idx lineIndex) child(at int32, key string) int32 {
	e := &idx.nodes[at]
	kids := e.kids &^ seqKids
	if e.kids&seqKids != 0 {
		i, err := strconv.Atoi(key)
		if err != nil || i < 0 || i >= int(kids) {
			return -1
		}
		return e.first + int32(i)
	}
	id, ok := idx.keys.ids[key]
	if !ok {
		return -1
	}
	for i := e.first; i < e.first+kids; i++ {
		if idx.nodes[i].key == id {
			return i
		}
	}
	return -1
}

// seq returns the number of items of node at when it is a sequence.
func (idx lineIndex) seq(at int32) (n int32, ok bool) {
	e := &idx.nodes[at]
	return e.kids &^ seqKids, e.kids&seqKids != 0
}

// sameSeq reports whether node at is a sequence of n items.
func (idx lineIndex) sameSeq(at, n int32) bool {
	m, ok := idx.seq(at)
	return ok && m == n
}
