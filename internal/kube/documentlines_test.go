package kube

import "testing"

func TestDocumentLines(t *testing.T) {
	data := []byte("# a comment\napiVersion: x\nkind: Deployment\nspec:\n  replicas: xxxx\n  template:\n---\n---\n- not a mapping\n---\nkind: [list]\nmetadata:\n  name: n\n---\nkind: Service\n: [\n")
	objs, err := DocumentLines("t.yaml", data)
	if err == nil {
		t.Error("the last document does not parse, and no error says so")
	}
	if len(objs) != 2 {
		t.Fatalf("%d documents, want 2", len(objs))
	}
	for _, tc := range []struct {
		obj  int
		kind string
		path []string
		line int
	}{
		{0, "Deployment", nil, 2},
		{0, "Deployment", []string{"spec", "replicas"}, 5},
		{0, "Deployment", []string{"spec", "template", "spec"}, 6},
		{1, "", []string{"metadata", "name"}, 13},
		{1, "", nil, 11},
	} {
		o := objs[tc.obj]
		if o.Ref.Kind != tc.kind {
			t.Errorf("document %d: kind %q, want %q", tc.obj, o.Ref.Kind, tc.kind)
		}
		got := o.Source.Line
		if tc.path != nil {
			got = o.Line(tc.path...)
		}
		if got != tc.line {
			t.Errorf("document %d %v: line %d, want %d", tc.obj, tc.path, got, tc.line)
		}
	}
}
