package kube

import (
	"strconv"

	"go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Source is where an object was read from: a file and the 1-based line its
// document starts at, or a cluster when it was listed live.
type Source struct {
	File    string // "" for a live object; "-" for stdin
	Line    int
	Cluster string // the kubeconfig context, for a live object
	// NamespaceAssumed marks an object of a chart rendered without a
	// namespace: Helm put it in "default", but it lands in whatever
	// namespace the chart is installed into.
	NamespaceAssumed bool
}

// Ref identifies an object.
type Ref struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
}

// String returns "Kind/namespace/name", or "Kind/name" for a cluster-scoped object.
func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// QualifiedName is "namespace/name", or "name" for an object written
// without a namespace (or cluster-scoped): how messages name an object.
func QualifiedName(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// Object is one decoded Kubernetes object.
type Object struct {
	Ref    Ref
	Source Source
	// Meta holds the object's name, namespace, labels and annotations.
	Meta metav1.ObjectMeta
	// Typed is the object decoded into its k8s.io/api type (for example
	// *appsv1.Deployment), or an *unstructured.Unstructured for kinds the
	// client-go scheme does not know.
	Typed runtime.Object
	// lines indexes the YAML document's field lines; empty for live
	// objects and JSON that only the JSON decoder could read.
	lines lineIndex
	// built indexes the document o was decoded from when Relocate placed
	// it at another (its template or kustomize source), whose sequences
	// may hold other items: Line follows an index into a sequence only
	// where both hold as many.
	built lineIndex
}

// AppliedNamespace is the namespace an object written with namespace ns
// lands in when applied as it is: ns, or kubectl's "default" when ns is
// empty. Relating objects of the same manifests (a Deployment and its
// NetworkPolicy, a RoleBinding and its Role) needs them in one namespace.
func AppliedNamespace(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}

// Relocate places o where src was read: src's file, the line its
// document starts at, and the lines of its fields, which Line then gives
// for o's fields (the deepest part of a path src has). A built object
// (kustomize) is placed so at the document it was built from.
func (o *Object) Relocate(src *Object) {
	o.Source.File, o.Source.Line = src.Source.File, src.Source.Line
	if o.built.nodes == nil {
		o.built = o.lines
	}
	o.lines = src.lines
}

// Known reports whether the object was decoded into a typed k8s.io/api object.
func (o *Object) Known() bool {
	_, unknown := o.Typed.(*unstructured.Unstructured)
	return o.Typed != nil && !unknown
}

// HasLines reports whether o knows the lines of its fields (it was read
// from a document): without, Line returns Source.Line whatever the path,
// and a check need not build one.
func (o *Object) HasLines() bool { return o != nil && o.lines.nodes != nil }

// Line returns the line of the field at path below the object's root, such
// as ("spec", "template", "spec", "containers", "0", "image"): the deepest
// part of the path that exists in the document. Numbers index sequences.
// Without a document (a live object) it returns Source.Line.
func (o *Object) Line(path ...string) int {
	if o == nil {
		return 0
	}
	idx := o.lines
	if idx.nodes == nil {
		return o.Source.Line
	}
	at, built := int32(0), int32(0)
	line := int(idx.nodes[0].line)
	for _, p := range path {
		next := idx.child(at, p)
		if next < 0 {
			break
		}
		if o.built.nodes != nil {
			// A template's list is not the rendered one when a
			// condition or loop made its items: the list's line is
			// then as near as can be told.
			if n, seq := idx.seq(at); seq && (built < 0 || !o.built.sameSeq(built, n)) {
				break
			}
			if built >= 0 {
				built = o.built.child(built, p)
			}
		}
		at = next
		line = int(idx.nodes[at].line)
	}
	if line == 0 {
		return o.Source.Line
	}
	return line
}

// child returns the node of key (a mapping) or index (a sequence) below n,
// following aliases.
func child(n *yaml.Node, key string) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
	case yaml.SequenceNode:
		i, err := strconv.Atoi(key)
		if err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i]
		}
	}
	return nil
}
