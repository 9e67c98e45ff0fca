package kube

import "go.yaml.in/yaml/v3"

// fastNode parses doc as fastParse does into the node tree yaml.v3 builds.
func fastNode(doc []byte, firstLine int) (*yaml.Node, bool) {
	var s nodeSink
	if !fastParse(doc, firstLine, &s) {
		return nil, false
	}
	return s.root, true
}

// nodeSink builds a yaml.Node tree.
type nodeSink struct {
	root *yaml.Node
	open []*yaml.Node
}

func (s *nodeSink) add(n *yaml.Node) {
	if len(s.open) == 0 {
		s.root = n
		return
	}
	top := s.open[len(s.open)-1]
	top.Content = append(top.Content, n)
}

func (s *nodeSink) beginMapping(line int) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line}
	s.add(n)
	s.open = append(s.open, n)
}

func (s *nodeSink) beginSequence(line int) {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: line}
	s.add(n)
	s.open = append(s.open, n)
}

func (s *nodeSink) end()                         { s.open = s.open[:len(s.open)-1] }
func (s *nodeSink) key(k scalarTok, line int)    { s.add(scalarNode(k, line)) }
func (s *nodeSink) scalar(v scalarTok, line int) { s.add(scalarNode(v, line)) }
func (s *nodeSink) null(line int) {
	s.add(&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: line})
}

// plainTag is the tag yaml.v3 resolves a plain scalar written as v to.
func plainTag(v string) string {
	n := yaml.Node{Kind: yaml.ScalarNode, Value: v}
	return n.ShortTag()
}

func scalarNode(t scalarTok, line int) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: t.String(), Line: line}
	n.Tag = "!!str"
	if t.plain {
		n.Tag = plainTag(n.Value)
	}
	return n
}
