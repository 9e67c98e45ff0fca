package render

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/palisade-sec/palisade/internal/kube"
	chartcommon "helm.sh/helm/v4/pkg/chart/common"
	"k8s.io/apimachinery/pkg/api/meta"
)

const chart = "../../../deploy/helm/palisade"

func refs(objs []*kube.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Ref.Kind+" "+o.Ref.Namespace+"/"+o.Ref.Name)
	}
	slices.Sort(out)
	return out
}

func TestDetect(t *testing.T) {
	for path, want := range map[string]Kind{
		chart: HelmChart, "testdata/kustomize/overlay": Kustomization, "testdata/kustomize/base/deployment.yaml": Manifests,
		"testdata": Manifests, "testdata/missing": Manifests,
	} {
		if got := Detect(path); got != want {
			t.Errorf("Detect(%s) = %d, want %d", path, got, want)
		}
	}
}

// TestHelmRendersOurChart renders Palisade's own chart with the Helm SDK:
// the objects its test renderer checks are the ones Helm produces.
func TestHelmRendersOurChart(t *testing.T) {
	objs, err := Helm(context.Background(), chart, HelmOptions{ReleaseName: "pal", Namespace: "security",
		Set: []string{"image.digest=sha256:0f5c5a3c1f2b4e8b7a6d9c0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c", "posture.enabled=false"}}, kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got := refs(objs)
	for _, want := range []string{"Deployment security/pal", "ClusterRole /pal-admission", "Service security/pal", "PodDisruptionBudget security/pal"} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %q in %q", want, got)
		}
	}
	if slices.Contains(got, "ClusterRole /pal-posture-reader") {
		t.Error("--set posture.enabled=false did not apply")
	}
	for _, o := range objs {
		if o.Ref.Kind == "Deployment" {
			w := kube.WorkloadOf(o)
			if !strings.HasSuffix(w.PodSpec.Containers[0].Image, "@sha256:0f5c5a3c1f2b4e8b7a6d9c0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c") {
				t.Errorf("image %s", w.PodSpec.Containers[0].Image)
			}
			if want := filepath.Join(chart, "templates/deployment.yaml"); o.Source.File != want {
				t.Errorf("file %s, want %s", o.Source.File, want)
			}
		}
	}
}

// TestHelmNamespaceAssumed: without a namespace the chart is rendered
// into default, as Helm does, and every namespaced object there is marked
// as placed by that default (including those whose template writes
// .Release.Namespace); with one, nothing is marked.
func TestHelmNamespaceAssumed(t *testing.T) {
	for _, ns := range []string{"", "default", "security"} {
		objs, err := Helm(t.Context(), chart, HelmOptions{Namespace: ns}, kube.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		namespaced := 0
		for _, o := range objs {
			if o.Ref.Namespace != "" {
				namespaced++
				if want := or(ns, "default"); o.Ref.Namespace != want {
					t.Errorf("namespace %q: %s in %q, want %q", ns, o.Ref, o.Ref.Namespace, want)
				}
			}
			if want := ns == "" && o.Ref.Namespace != ""; o.Source.NamespaceAssumed != want {
				t.Errorf("namespace %q: %s NamespaceAssumed %v, want %v", ns, o.Ref, o.Source.NamespaceAssumed, want)
			}
		}
		if namespaced == 0 {
			t.Fatalf("namespace %q: the chart rendered no namespaced object", ns)
		}
	}
}

func TestKustomizeOverlay(t *testing.T) {
	objs, err := Kustomize(context.Background(), "testdata/kustomize/overlay", kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := refs(objs); !slices.Equal(got, []string{"Deployment prod/prod-web"}) {
		t.Fatalf("objects %q", got)
	}
	sc := kube.WorkloadOf(objs[0]).PodSpec.Containers[0].SecurityContext
	if sc == nil || sc.Privileged == nil || !*sc.Privileged {
		t.Errorf("the overlay's patch was not applied: %+v", sc)
	}
}

func TestLoadMixed(t *testing.T) {
	inv, err := Load(context.Background(), []string{"testdata/kustomize/overlay", "testdata/kustomize/base/deployment.yaml", "testdata/badchart"}, nil, Options{})
	if got := refs(inv.Objects); !slices.Equal(got, []string{"Deployment /web", "Deployment prod/prod-web"}) {
		t.Errorf("objects %q", got)
	}
	var ie *kube.InputError
	if !errors.As(err, &ie) || ie.File != "testdata/badchart" || !strings.Contains(err.Error(), "name is required") {
		t.Errorf("error %v, want the bad chart named with Helm's message", err)
	}
}

// TestHelmMissingDependencies: a dependency Chart.yaml declares and
// charts/ does not hold is named (Helm's renderer drops it silently), but
// not when its condition disables it; what is there is still rendered.
func TestHelmMissingDependencies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		set     []string
		missing []string // in the error, in order; none: no error
		absent  []string // not in the error
	}{
		{name: "defaults", missing: []string{"metrics 4.56.*"}, absent: []string{"logging", "web", "cache"}},
		{name: "metrics disabled", set: []string{"metrics.enabled=false"}},
		{name: "logging enabled", set: []string{"logging.enabled=true"}, missing: []string{"metrics 4.56.*, logging 2.*"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := Helm(t.Context(), "testdata/depchart", HelmOptions{Set: tc.set}, kube.Limits{})
			want := []string{"ConfigMap default/release-settings", "Deployment default/release-web", "Service default/release-cache"}
			if got := refs(objs); !slices.Equal(got, want) {
				t.Errorf("rendered %q, want %q", got, want)
			}
			if len(tc.missing) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error for missing dependencies")
			}
			for _, s := range append(tc.missing, "helm dependency build testdata/depchart") {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q names %q", err, s)
				}
			}
		})
	}
}

// TestLoadRendersChartsInDirectories: a directory scanned as manifests
// renders the charts below it (their templates are not YAML until then)
// and reports each chart's problems under its path.
func TestLoadRendersChartsInDirectories(t *testing.T) {
	inv, err := Load(t.Context(), []string{"testdata"}, nil, Options{})
	got := refs(inv.Objects)
	for _, want := range []string{"Deployment default/release-web", "ConfigMap default/release-settings", "Deployment prod/prod-web"} {
		if !slices.Contains(got, want) {
			t.Errorf("objects %q lack %q", got, want)
		}
	}
	for _, o := range inv.Objects {
		if o.Ref.Kind == "Deployment" && o.Ref.Name == "release-web" && o.Source.File != filepath.Join("testdata", "depchart", "charts", "web", "templates", "deployment.yaml") {
			t.Errorf("release-web from %s, want its template", o.Source.File)
		}
	}
	for _, s := range inv.Skipped {
		if errors.Is(s, kube.ErrHelmChart) {
			t.Errorf("chart %s left unrendered", s.File)
		}
	}
	files := map[string]bool{}
	for _, e := range kube.SplitErrors(err) {
		var ie *kube.InputError
		if !errors.As(e, &ie) {
			t.Errorf("error %v names no file", e)
			continue
		}
		files[ie.File] = true
		if strings.Contains(ie.File, "templates") {
			t.Errorf("a template was read as a manifest: %v", e)
		}
	}
	if !files[filepath.Join("testdata", "badchart")] || !files[filepath.Join("testdata", "depchart")] {
		t.Errorf("errors %v, want one naming each chart with a problem", err)
	}
}

// TestHelmLocalDependencies: dependencies from a directory (file://) are
// read from there, as `helm dependency build` would vendor them, aliases
// included, and findings name their templates where they are; one that
// does not load is missing, with why.
func TestHelmLocalDependencies(t *testing.T) {
	objs, err := Helm(t.Context(), "testdata/localdeps/app", HelmOptions{}, kube.Limits{})
	want := []string{"Deployment default/release-cache", "Deployment default/release-shared", "Service default/release-app"}
	if got := refs(objs); !slices.Equal(got, want) {
		t.Errorf("rendered %q, want %q", got, want)
	}
	for _, o := range objs {
		if o.Ref.Kind == "Deployment" && o.Source.File != filepath.Join("testdata", "localdeps", "shared", "templates", "deployment.yaml") {
			t.Errorf("%s from %s, want the template in the dependency's directory", o.Ref.Name, o.Source.File)
		}
	}
	if err == nil || !strings.Contains(err.Error(), "file://../nope") || !strings.Contains(err.Error(), "missing from charts/") || !strings.Contains(err.Error(), "nope 1.x") {
		t.Errorf("error %v, want the dependency that does not load named as missing", err)
	}
	if err != nil && strings.Contains(err.Error(), "shared 1.x") {
		t.Errorf("error %v names a dependency read from its directory", err)
	}
}

// TestHelmAPIVersions: a template gated on a served CRD renders only when
// its API version is given, as with helm template --api-versions.
func TestHelmAPIVersions(t *testing.T) {
	for _, tc := range []struct {
		apis []string
		want bool
	}{
		{nil, false},
		{[]string{"monitoring.coreos.com/v1/ServiceMonitor"}, true},
		{[]string{"cert-manager.io/v1"}, false},
	} {
		objs, err := Helm(t.Context(), "testdata/versioned", HelmOptions{APIVersions: tc.apis}, kube.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(refs(objs), "ServiceMonitor default/release-versioned"); got != tc.want {
			t.Errorf("APIVersions %q: ServiceMonitor rendered %v, want %v (%q)", tc.apis, got, tc.want, refs(objs))
		}
	}
	if slices.Contains(chartcommon.DefaultCapabilities.APIVersions, "monitoring.coreos.com/v1/ServiceMonitor") {
		t.Error("Helm's default capabilities were changed in place")
	}
}

// TestHelmSkipTests: the chart's tests are rendered, as `helm template`
// renders them, unless SkipTests leaves them out (--skip-tests); other
// hooks stay either way.
func TestHelmSkipTests(t *testing.T) {
	hooks := []string{"Deployment default/release-api", "Job default/release-migrate"}
	for _, tc := range []struct {
		skip bool
		want []string
	}{
		{false, append([]string{"Pod default/release-test-connection", "Pod default/release-test-legacy"}, hooks...)},
		{true, hooks},
	} {
		objs, err := Helm(t.Context(), "testdata/hooks", HelmOptions{SkipTests: tc.skip}, kube.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Sorted(slices.Values(tc.want))
		if got := refs(objs); !slices.Equal(got, want) {
			t.Errorf("SkipTests %v: rendered %q, want %q", tc.skip, got, want)
		}
	}
}

// TestHelmCIValues: a chart whose defaults do not render (a required value
// unset) is rendered with the first of its ci/*-values.yaml that renders,
// and Load says so; values given by the user are never replaced.
func TestHelmCIValues(t *testing.T) {
	const dir = "testdata/required"
	r := renderHelm(t.Context(), dir, HelmOptions{}, kube.Limits{}, newChartScan(nil))
	if r.err != nil {
		t.Fatal(r.err)
	}
	if want := filepath.Join(dir, "ci", "plain-values.yaml"); r.ciValues != want {
		t.Errorf("rendered with %q, want %q", r.ciValues, want)
	}
	if r.defaultsErr == nil || !strings.Contains(r.defaultsErr.Error(), "'target' must be set") {
		t.Errorf("defaults error %v, want the required message", r.defaultsErr)
	}
	if got := refs(r.objs); !slices.Equal(got, []string{"DaemonSet default/release-canary"}) {
		t.Errorf("objects %q", got)
	}

	// The user's values, even ones that do not render, are what is rendered.
	_, err := Helm(t.Context(), dir, HelmOptions{Set: []string{"mode=auth"}}, kube.Limits{})
	if err == nil || !strings.Contains(err.Error(), "'target' must be set") {
		t.Errorf("with --set: %v, want the defaults' error", err)
	}
	// A chart that does not render with any of its ci values reports the
	// defaults' error.
	_, err = Helm(t.Context(), "testdata/badchart", HelmOptions{}, kube.Limits{})
	if err == nil {
		t.Error("badchart rendered")
	}

	var logs bytes.Buffer
	inv, err := Load(t.Context(), []string{dir}, nil, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Objects) != 1 {
		t.Errorf("Load: %d objects, want 1", len(inv.Objects))
	}
	for _, want := range []string{"level=WARN", "chart-testing values", "testdata/required: ci/plain-values.yaml", "'target' must be set"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log %q lacks %q", logs.String(), want)
		}
	}
}

// TestKustomizeOrigins: a built object is placed at the file and document
// it was written in (the longest name kustomize's prefix and suffix were
// added to), with that document's field lines; a generated one at its
// kustomization; kustomize's origin annotation is gone, and the
// kustomization's own buildMetadata still applies.
func TestKustomizeOrigins(t *testing.T) {
	const dir = "testdata/kustomize-origins/overlay"
	objs, err := Kustomize(t.Context(), dir, kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	workloads := filepath.Join("testdata", "kustomize-origins", "base", "workloads.yaml")
	kustomization := filepath.Join(dir, "kustomization.yaml")
	type place struct {
		file        string
		line, image int
	}
	want := map[string]place{
		"Deployment prod/prod-api-v2":        {workloads, 1, 14},
		"Deployment prod/prod-api-worker-v2": {workloads, 16, 29},
	}
	for _, o := range objs {
		ref := o.Ref.Kind + " " + o.Ref.Namespace + "/" + o.Ref.Name
		if _, ok := o.Meta.Annotations[originAnnotation]; ok {
			t.Errorf("%s keeps the origin annotation", ref)
		}
		if a, _ := meta.Accessor(o.Typed); a != nil {
			if _, ok := a.GetAnnotations()[originAnnotation]; ok {
				t.Errorf("%s keeps the origin annotation in its typed object", ref)
			}
		}
		if o.Meta.Labels["app.kubernetes.io/managed-by"] == "" {
			t.Errorf("%s lacks the managed-by label its kustomization's buildMetadata asks for", ref)
		}
		if o.Ref.Kind == "ConfigMap" {
			if o.Source.File != kustomization || o.Source.Line != 1 {
				t.Errorf("%s at %s:%d, want %s:1", ref, o.Source.File, o.Source.Line, kustomization)
			}
			continue
		}
		w, ok := want[ref]
		if !ok {
			t.Errorf("unexpected %s", ref)
			continue
		}
		delete(want, ref)
		image := o.Line("spec", "template", "spec", "containers", "0", "image")
		if o.Source.File != w.file || o.Source.Line != w.line || image != w.image {
			t.Errorf("%s at %s:%d (image line %d), want %s:%d (image line %d)", ref, o.Source.File, o.Source.Line, image, w.file, w.line, w.image)
		}
	}
	if len(want) > 0 {
		t.Errorf("not built: %v", want)
	}
	// The patch's field has the line of the nearest field the document has.
	for _, o := range objs {
		if o.Ref.Name == "prod-api-worker-v2" {
			if got := o.Line("spec", "template", "spec", "containers", "0", "securityContext"); got != 28 {
				t.Errorf("patched securityContext at line %d, want 28 (the container)", got)
			}
		}
	}
}

// TestHelmTemplateLines: objects rendered from a chart carry the lines of
// their template, not of Helm's output: a key the template writes at its
// line, a field an action writes at the key above it, each document of a
// file at its own start, documents a range makes at the one document they
// come from, and what only a named template writes at the template's top.
func TestHelmTemplateLines(t *testing.T) {
	objs, err := Helm(t.Context(), "testdata/templatelines", HelmOptions{}, kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	type field struct {
		path []string
		line int
	}
	want := map[string][]field{
		"Deployment release-site": {
			{nil, 1},
			{[]string{"spec", "replicas"}, 9},
			{[]string{"spec", "template", "spec", "containers", "0", "image"}, 19},
			{[]string{"spec", "template", "spec", "containers", "0", "securityContext", "privileged"}, 20},
			{[]string{"metadata", "labels", "app.kubernetes.io/name"}, 5},
		},
		"Service release-site":       {{nil, 4}, {[]string{"spec", "type"}, 11}},
		"ConfigMap release-settings": {{nil, 16}, {[]string{"data", "mode"}, 21}},
		// The template lists two containers, the rendered Job one: which
		// is which is not told, and the list's line stands for them.
		"Job release-migrate": {{[]string{"spec", "template", "spec", "restartPolicy"}, 8}, {[]string{"spec", "template", "spec", "containers", "0", "image"}, 9}},
		// Written by a named template only: placed at the template's top.
		"ConfigMap release-included": {{nil, 1}, {[]string{"data", "third"}, 1}},
		"ConfigMap a":                {{nil, 3}, {[]string{"data", "name"}, 8}},
		"ConfigMap b":                {{nil, 3}, {[]string{"data", "name"}, 8}},
	}
	for _, o := range objs {
		ref := o.Ref.Kind + " " + o.Ref.Name
		fields, ok := want[ref]
		if !ok {
			t.Errorf("unexpected %s", ref)
			continue
		}
		delete(want, ref)
		for _, f := range fields {
			got := o.Source.Line
			if f.path != nil {
				got = o.Line(f.path...)
			}
			if got != f.line {
				t.Errorf("%s %v at line %d of %s, want %d", ref, f.path, got, o.Source.File, f.line)
			}
		}
	}
	for ref := range want {
		t.Errorf("%s not rendered", ref)
	}
}

// TestBlankActions: actions become spaces on lines of their own and after
// a key (whose value they write), x's among the template's text; lines and
// columns stay.
func TestBlankActions(t *testing.T) {
	in := "a: {{ .x }}\n{{- if .y }}\nb: \"{{ .z }}\"\n{{/* two\nlines */}}\nurl: http://host:{{ .port }}\nc: {{ unclosed\n"
	out := string(blankActions([]byte(in)))
	if len(out) != len(in) {
		t.Fatalf("%q: length %d, want %d", out, len(out), len(in))
	}
	var got [][]string
	for _, line := range strings.Split(out, "\n") {
		got = append(got, strings.Fields(line))
	}
	want := [][]string{{"a:"}, nil, {"b:", `"xxxxxxxx"`}, nil, nil, {"url:", "http://host:xxxxxxxxxxx"}, {"c:"}, nil}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("blankActions(%q) = %q, fields (-want +got):\n%s", in, out, diff)
	}
}

// TestLoadBuildsFoundKustomizations: a kustomization found in a scanned
// directory that no other builds on is built, and the files it includes
// are judged as built (the base's Deployment in the overlay's namespace,
// once); a file no kustomization names is judged as written, and so are
// the files of one that does not build, with a warning.
func TestLoadBuildsFoundKustomizations(t *testing.T) {
	var logs bytes.Buffer
	inv, err := Load(t.Context(), []string{"testdata/walk"}, nil, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ConfigMap /edge-settings", "ConfigMap /stray", "Deployment shop/api", "Service /web"}, refs(inv.Objects)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	for _, o := range inv.Objects {
		if o.Ref.Kind == "Deployment" {
			if want := filepath.Join("testdata", "walk", "app", "base", "deployment.yaml"); o.Source.File != want || o.Source.Line != 1 {
				t.Errorf("%s at %s:%d, want %s:1", o.Ref, o.Source.File, o.Source.Line, want)
			}
		}
	}
	for _, want := range []string{"level=INFO", "testdata/walk/app/prod", "level=WARN", "testdata/walk/broken", "missing.yaml",
		"testdata/walk/remote: names a remote resource"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log %q lacks %q", logs.String(), want)
		}
	}

	// As written: the base alone, without the overlay's namespace.
	inv, err = Load(t.Context(), []string{"testdata/walk"}, nil, Options{KeepFoundKustomizations: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ConfigMap /edge-settings", "ConfigMap /stray", "Deployment /api", "Service /web"}, refs(inv.Objects)); diff != "" {
		t.Errorf("as written: objects (-want +got):\n%s", diff)
	}
}

func TestRemoteResource(t *testing.T) {
	for entry, want := range map[string]bool{
		"https://github.com/example/app//base?ref=v1": true, "github.com/example/app/base": true,
		"git@github.com:example/app.git": true, "../base": false, "deployment.yaml": false, "base?ref=main": true,
	} {
		if got := remoteResource(entry); got != want {
			t.Errorf("remoteResource(%q) = %v, want %v", entry, got, want)
		}
	}
}
