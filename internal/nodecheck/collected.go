package nodecheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Input is one file of node collector output: Kubescape host-sensor
// objects or Trivy node-collector NodeInfo objects, as JSON — one object,
// several in a row, an array, or a list with "items".
type Input struct {
	Name string // the file name, for errors ("-" for standard input)
	Data []byte
}

// InputError is malformed collector output: the file and the field.
type InputError struct {
	File, Object, Field string
	Err                 error
}

func (e *InputError) Error() string {
	s := e.File
	if e.Object != "" {
		s += ": " + e.Object
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + e.Err.Error()
}

func (e *InputError) Unwrap() error { return e.Err }

// collectedObject is the envelope both collectors' objects share.
type collectedObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	// Kubescape host-sensor.
	Data json.RawMessage `json:"data"`
	// Trivy node-collector.
	Type string                     `json:"type"`
	Info map[string]json.RawMessage `json:"info"`
	// A List.
	Items []json.RawMessage `json:"items"`
}

// factsBuilder gathers one node's facts.
type factsBuilder struct {
	node *Node
	src  *factsSource
}

func (b *factsBuilder) component(c *Component) {
	if old := b.node.Components[c.Name]; old != nil && old.flagsUnknown == "" {
		return // the first object with a command line wins
	}
	b.node.Components[c.Name] = c
}

// FromFacts builds the nodes that collector output describes, one per node
// name. Objects without a name belong to the only named node when there is
// exactly one; otherwise those of one file are one node, named "(file)"
// when several files have such objects. Objects of other kinds (workloads, a collector's kinds that
// no node check reads) are skipped; a file with no collector object at all
// is an error, as is a malformed one (*InputError).
func FromFacts(ctx context.Context, inputs []Input, opts Options) ([]*Node, error) {
	type named struct {
		name string
		obj  collectedObject
		file string
	}
	var objs []named
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		found := 0
		err := decodeObjects(in.Data, func(o collectedObject) error {
			if !isKubescape(o.APIVersion) && o.Kind != trivyKind {
				return nil
			}
			found++
			objs = append(objs, named{o.Metadata.Name, o, in.Name})
			return nil
		})
		if err != nil {
			return nil, &InputError{File: in.Name, Err: err}
		}
		if found == 0 {
			return nil, &InputError{File: in.Name, Err: errors.New("no Kubescape host-sensor (" + kubescapeAPIGroup + "*) or Trivy node-collector (kind NodeInfo) object")}
		}
	}
	names := map[string]bool{}
	for _, o := range objs {
		if o.name != "" {
			names[o.name] = true
		}
	}
	only := ""
	if len(names) == 1 {
		for n := range names {
			only = n
		}
	}
	// Without one named node to join, unnamed objects (node-collector's
	// own output has no name) of different files are different nodes,
	// labelled by their file.
	unnamedFiles := map[string]bool{}
	for _, o := range objs {
		if o.name == "" {
			unnamedFiles[o.file] = true
		}
	}
	// A collector reports each kind once per node: a second object of a
	// kind for the same node is another snapshot, checked on its own.
	builders := map[string]*factsBuilder{}
	var order []string
	kinds := map[string]int{}
	for _, o := range objs {
		name := o.name
		if name == "" {
			name = only
		}
		if name == "" && len(unnamedFiles) > 1 {
			name = "(" + o.file + ")"
		}
		k := name + "\x00" + o.obj.Kind
		key := fmt.Sprintf("%s\x00%d", name, kinds[k])
		kinds[k]++
		b := builders[key]
		if b == nil {
			b = &factsBuilder{node: &Node{Name: name, Components: map[string]*Component{}}}
			builders[key] = b
			order = append(order, key)
		}
		collector := kubescapeCollector
		if o.obj.Kind == trivyKind {
			collector = trivyCollector
		}
		if b.src == nil {
			b.src = newFactsSource(collector)
		} else if b.src.collector != collector {
			b.src.collector += " and " + collector
		}
		var err error
		if o.obj.Kind == trivyKind {
			err = b.addTrivy(o.obj.Type, o.obj.Info)
		} else {
			err = b.addKubescape(o.obj.Kind, o.obj.Data)
		}
		if err != nil {
			object := strings.TrimSpace(o.obj.Kind + " " + o.name)
			var ie *InputError
			if errors.As(err, &ie) {
				ie.File, ie.Object = o.file, object
				return nil, ie
			}
			return nil, &InputError{File: o.file, Object: object, Err: err}
		}
	}
	sort.Strings(order)
	out := make([]*Node, 0, len(order))
	for _, name := range order {
		b := builders[name]
		b.node.src = b.src
		b.node.setOwners(opts)
		out = append(out, b.node)
	}
	return out, nil
}

// decodeObjects calls fn for each JSON object in data: objects in a row,
// arrays of them, and the items of a List.
func decodeObjects(data []byte, fn func(collectedObject) error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("parse JSON at byte %d: %w", dec.InputOffset(), err)
		}
		if err := eachObject(raw, fn); err != nil {
			return err
		}
	}
}

func eachObject(raw json.RawMessage, fn func(collectedObject) error) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return fmt.Errorf("parse JSON array: %w", err)
		}
		for _, it := range items {
			if err := eachObject(it, fn); err != nil {
				return err
			}
		}
		return nil
	}
	var o collectedObject
	if err := json.Unmarshal(raw, &o); err != nil {
		return fmt.Errorf("parse object: %w", err)
	}
	if o.Items != nil {
		for _, it := range o.Items {
			if err := eachObject(it, fn); err != nil {
				return err
			}
		}
		return nil
	}
	return fn(o)
}
