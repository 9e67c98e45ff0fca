package kube

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const multiDoc = `# leading comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 0x2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        securityContext:
          privileged: true
---
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: web, namespace: shop}
  spec: {type: NodePort, ports: [{port: 80}]}
- apiVersion: example.com/v1
  kind: Widget
  metadata: {name: w1}
  spec: {size: 3}
`

func TestDecodeMultiDocument(t *testing.T) {
	objs, err := Decode(t.Context(), "m.yaml", []byte(multiDoc), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Ref   Ref
		Line  int
		Known bool
	}
	var got []row
	for _, o := range objs {
		got = append(got, row{o.Ref, o.Source.Line, o.Known()})
	}
	want := []row{
		{Ref{"apps/v1", "Deployment", "shop", "web"}, 2, true},
		{Ref{"v1", "Service", "shop", "web"}, 23, true},
		{Ref{"example.com/v1", "Widget", "", "w1"}, 27, false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("objects (-want +got):\n%s", diff)
	}
	d := objs[0].Typed.(*appsv1.Deployment)
	if *d.Spec.Replicas != 2 {
		t.Errorf("replicas = %d, want 2 (hex YAML int)", *d.Spec.Replicas)
	}
	if _, ok := objs[2].Typed.(*unstructured.Unstructured); !ok {
		t.Errorf("unknown kind decoded as %T, want Unstructured", objs[2].Typed)
	}
	for _, tc := range []struct {
		path []string
		want int
	}{
		{nil, 2},
		{[]string{"spec", "template", "spec", "containers", "0", "image"}, 15},
		{[]string{"spec", "template", "spec", "containers", "0", "securityContext"}, 16},
		{[]string{"spec", "template", "spec", "containers", "0", "securityContext", "privileged"}, 17},
		{[]string{"spec", "template", "spec", "containers", "0", "nope"}, 14},
	} {
		if got := objs[0].Line(tc.path...); got != tc.want {
			t.Errorf("Line(%v) = %d, want %d", tc.path, got, tc.want)
		}
	}
	w := WorkloadOf(objs[0])
	if w == nil || w.PodSpec.Containers[0].Name != "app" || w.PodMeta.Namespace != "shop" {
		t.Fatalf("WorkloadOf = %+v", w)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"syntax", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [x\n", "bad.yaml:3: parse YAML: did not find"},
		{"no kind", "apiVersion: v1\nmetadata: {name: x}\n", "bad.yaml:1: document has no apiVersion or kind"},
		{"scalar", "just text\n", "bad.yaml:1: document is not a mapping"},
		{"bad field type", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: many}\n", "bad.yaml:1: decode apps/v1 Deployment"},
		{"bad apiVersion", "apiVersion: a/b/c\nkind: X\n", "bad.yaml:1: apiVersion"},
		{"alias bomb", aliasBomb(), "beyond the size limit"},
		{"self merge", "a: &a\n  <<: *a\n", "bad.yaml"},
		// A template placeholder (a flow mapping as a key): the line of the
		// key, not of the document.
		{"non-scalar key", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\ndata:\n  config: {{config_data}}\n", "bad.yaml:6: v1 Secret: mapping key is not a scalar"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(t.Context(), "bad.yaml", []byte(tc.in), Limits{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Errorf("err %T is not an *InputError", err)
			}
		})
	}
}

func aliasBomb() string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\na0: &a0 [\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"]\n")
	for i := 1; i < 30; i++ {
		prev := "*a" + itoa(i-1)
		b.WriteString("a" + itoa(i) + ": &a" + itoa(i) + " [" + prev + "," + prev + "," + prev + "," + prev + "]\n")
	}
	return b.String()
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestDecodeGoodDocumentSurvivesBadOne(t *testing.T) {
	in := "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\nkind: Pod\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\n"
	objs, err := Decode(t.Context(), "x.yaml", []byte(in), Limits{})
	if err == nil || !strings.Contains(err.Error(), "x.yaml:5") {
		t.Errorf("err = %v, want x.yaml:5", err)
	}
	if len(objs) != 2 {
		t.Errorf("got %d objects, want 2", len(objs))
	}
}

func TestDecodeJSON(t *testing.T) {
	in := "{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"Pod\",\n\t\"metadata\": {\"name\": \"p\"},\n\t\"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"x\"}]}\n}\n" +
		"{\"apiVersion\": \"v1\", \"kind\": \"PodList\", \"items\": [{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"q\"}}]}\n"
	objs, err := Decode(t.Context(), "p.json", []byte(in), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].Ref.Name != "p" || objs[1].Ref.Name != "q" || objs[1].Source.Line != 7 {
		t.Fatalf("objects = %+v", objs)
	}
}

func TestLimits(t *testing.T) {
	in := strings.Repeat("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n", 5)
	objs, err := Decode(t.Context(), "many.yaml", []byte(in), Limits{MaxDocuments: 3})
	if err == nil || !strings.Contains(err.Error(), "more than 3 documents") || len(objs) != 3 {
		t.Errorf("objs=%d err=%v", len(objs), err)
	}
	if _, err := Decode(t.Context(), "big.yaml", []byte(in), Limits{MaxFileSize: 10}); err == nil {
		t.Error("no error for a file over MaxFileSize")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
	write("sub/b.yml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {containers: [{name: c, image: x}]}\n")
	write("sub/c.json", `{"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "cj"}, "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}}}}`)
	write("README.md", "not yaml")
	write(".git/x.yaml", "broken: [")
	write("bad\nname.yaml", "kind: [\n")
	write("package.json", `{"name": "shop", "version": "1.0.0"}`)
	write("ci/pipeline.yml", "stages: [build]\n---\n- just a list\n")
	// A Helm chart: its templates are not YAML until rendered.
	write("charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n")
	write("charts/web/templates/deploy.yaml", "metadata:\n  name: {{ .Release.Name }}\n{{- if .Values.x }}\n")
	inv, err := Load(t.Context(), []string{dir, "-"}, strings.NewReader("apiVersion: v1\nkind: Pod\nmetadata: {name: s}\n"), Limits{})
	if err == nil || !strings.Contains(err.Error(), `"`) {
		t.Errorf("err = %v, want the hostile file name quoted", err)
	}
	if err != nil && (strings.Contains(err.Error(), "package.json") || strings.Contains(err.Error(), "pipeline.yml")) {
		t.Errorf("err = %v: files in a directory that hold no Kubernetes object are skipped, not errors", err)
	}
	var skipped []string
	for _, s := range inv.Skipped {
		skipped = append(skipped, filepath.Base(s.File))
	}
	slices.Sort(skipped)
	if diff := cmp.Diff([]string{"package.json", "pipeline.yml", "web"}, skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	for _, s := range inv.Skipped {
		if filepath.Base(s.File) == "web" && !errors.Is(s, ErrHelmChart) {
			t.Errorf("chart skipped with %v, want ErrHelmChart", s.Err)
		}
	}
	// Named files and files that mix objects with other documents stay errors.
	write("mixed/m.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: m}\n---\nname: oops\n")
	for _, paths := range [][]string{{filepath.Join(dir, "package.json")}, {filepath.Join(dir, "mixed")}} {
		if _, err := Load(t.Context(), paths, nil, Limits{}); err == nil || !errors.Is(err, ErrNotObject) {
			t.Errorf("Load(%v) = %v, want a not-an-object error", paths, err)
		}
	}
	if got := len(inv.Objects); got != 4 {
		t.Errorf("objects = %d, want 4", got)
	}
	if got := len(inv.Workloads); got != 3 {
		t.Errorf("workloads = %d, want 3 (pod, cronjob, stdin pod)", got)
	}
	if diff := cmp.Diff([]string{"shop"}, inv.Namespaces()); diff != "" {
		t.Error(diff)
	}
	if _, err := Load(t.Context(), []string{filepath.Join(dir, "missing")}, nil, Limits{}); err == nil {
		t.Error("no error for a missing path")
	}
}

// TestLoadDirectoryKeepsFileOrder loads a directory of many files (loaded
// on every core) and expects the objects and errors in file order, as one
// goroutine would give them.
func TestLoadDirectoryKeepsFileOrder(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for i := range 300 {
		name := fmt.Sprintf("cm-%03d", i)
		body := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + "}\n"
		switch i % 50 {
		case 7:
			body = "kind: [\n" // a syntax error
		case 13:
			body = "stages: [build]\n" // no object: skipped
		default:
			want = append(want, name)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inv, err := Load(t.Context(), []string{dir}, nil, Limits{})
	var got []string
	for _, o := range inv.Objects {
		got = append(got, o.Meta.Name)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects out of file order (-want +got):\n%s", diff)
	}
	var bad []string
	for _, e := range SplitErrors(err) {
		var ie *InputError
		if errors.As(e, &ie) {
			bad = append(bad, filepath.Base(ie.File))
		}
	}
	if diff := cmp.Diff([]string{"cm-007.yaml", "cm-057.yaml", "cm-107.yaml", "cm-157.yaml", "cm-207.yaml", "cm-257.yaml"}, bad); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if len(inv.Skipped) != 6 || filepath.Base(inv.Skipped[0].File) != "cm-013.yaml" {
		t.Errorf("skipped %d files, first %v; want 6, cm-013.yaml first", len(inv.Skipped), inv.Skipped)
	}
}

// TestDecodeGenerateName: an object created with generateName is known by
// its prefix, typed or not; a name, when set, wins.
func TestDecodeGenerateName(t *testing.T) {
	in := "apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: migrate-, namespace: shop}\n" +
		"---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {generateName: w-}\n" +
		"---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, generateName: ignored-}\n"
	objs, err := Decode(t.Context(), "g.yaml", []byte(in), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.Ref.String()+" meta="+o.Meta.Name)
	}
	if want := []string{"Job/shop/migrate- meta=", "Widget/w- meta=", "Pod/p meta=p"}; !slices.Equal(got, want) {
		t.Errorf("refs %q, want %q", got, want)
	}
}

// TestDecodeCommentedMarker: "---#comment" separates documents, as kubectl
// and Helm read it (cert-manager's chart renders such a line), and lines
// keep their numbers.
func TestDecodeCommentedMarker(t *testing.T) {
	for _, in := range []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---# the next one\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
		"---# first\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n\n\n---#\r\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
	} {
		objs, err := Decode(t.Context(), "m.yaml", []byte(in), Limits{})
		if err != nil || len(objs) != 2 {
			t.Fatalf("%q: %d objects, %v", in, len(objs), err)
		}
		if want := strings.Count(in[:strings.Index(in, "name: b")], "\n") - 1; objs[1].Source.Line != want {
			t.Errorf("%q: b at line %d, want %d", in, objs[1].Source.Line, want)
		}
	}
}
