package kube

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// DocumentLines reads the YAML documents of data for their lines only:
// each mapping document is returned as an Object holding its kind
// (Ref.Kind, when the document writes it), the line it starts at and the
// lines of its fields, for Object.Relocate — no typed object, and values
// are not judged, so the text need not be a valid object (a Helm template
// with its actions blanked out). It stops at the first document that
// does not parse, returning those before it and the error.
func DocumentLines(file string, data []byte) ([]*Object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	keys := newLineKeys()
	var out []*Object
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("read %s: %w", file, err)
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			continue // an empty document, as kube.Decode skips it
		}
		root := doc.Content[0]
		o := &Object{Source: Source{File: file, Line: root.Line}, lines: indexLines(root, keys)}
		if k := child(root, "kind"); k != nil && k.Kind == yaml.ScalarNode {
			o.Ref.Kind = k.Value
		}
		out = append(out, o)
	}
}
