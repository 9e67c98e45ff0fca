package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	chartcommon "helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartv2util "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"

	"github.com/palisade-sec/palisade/internal/kube/render"
	"github.com/palisade-sec/palisade/internal/parallel"
)

// writeHelmCharts writes n charts under a new directory, each as charts
// are commonly written: a helpers file, a Deployment whose labels, lists
// and security context come from includes, conditions and toYaml, a
// Service, a ServiceAccount and a test pod; every other chart takes a
// library chart from a directory (file://../common).
func writeHelmCharts(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	write := func(path, text string) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	write(filepath.Join(dir, "common", "Chart.yaml"), "apiVersion: v2\nname: common\nversion: 1.0.0\ntype: library\n")
	write(filepath.Join(dir, "common", "templates", "_labels.tpl"), `{{- define "common.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}
`)
	for i := range n {
		c := filepath.Join(dir, fmt.Sprintf("app%d", i))
		deps, labels := "", `{{ include "app.labels" . }}`
		if i%2 == 0 {
			deps, labels = "dependencies:\n  - {name: common, version: 1.x.x, repository: file://../common}\n", `{{ include "common.labels" . }}`
		}
		write(filepath.Join(c, "Chart.yaml"), fmt.Sprintf("apiVersion: v2\nname: app%d\nversion: 0.%d.0\nappVersion: \"1.%d\"\n%s", i, i, i, deps))
		write(filepath.Join(c, "values.yaml"), `replicaCount: 2
image: {repository: registry.example/app, tag: "1.0", pullPolicy: IfNotPresent}
serviceAccount: {create: true}
podSecurityContext: {runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000}
securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
service: {type: ClusterIP, port: 80}
resources: {limits: {cpu: 500m, memory: 256Mi}, requests: {cpu: 100m, memory: 128Mi}}
env: [{name: LOG_LEVEL, value: info}, {name: MODE, value: fast}]
sidecar: {enabled: false}
`)
		write(filepath.Join(c, "templates", "_helpers.tpl"), `{{- define "app.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- define "app.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
`)
		write(filepath.Join(c, "templates", "deployment.yaml"), `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    `+labels+`
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app.kubernetes.io/instance: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/instance: {{ .Release.Name }}
    spec:
      {{- if .Values.serviceAccount.create }}
      serviceAccountName: {{ include "app.fullname" . }}
      {{- end }}
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      containers:
        {{- if .Values.sidecar.enabled }}
        - name: sidecar
          image: registry.example/sidecar:1.0
        {{- end }}
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
          env:
            {{- range .Values.env }}
            - name: {{ .name }}
              value: {{ .value | quote }}
            {{- end }}
          ports:
            - name: http
              containerPort: 8080
          livenessProbe:
            httpGet: {path: /healthz, port: http}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
`)
		write(filepath.Join(c, "templates", "service.yaml"), `apiVersion: v1
kind: Service
metadata:
  name: {{ include "app.fullname" . }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
  selector:
    app.kubernetes.io/instance: {{ .Release.Name }}
{{- if .Values.serviceAccount.create }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "app.fullname" . }}
automountServiceAccountToken: false
{{- end }}
`)
		write(filepath.Join(c, "templates", "tests", "test-connection.yaml"), `apiVersion: v1
kind: Pod
metadata:
  name: "{{ include "app.fullname" . }}-test"
  annotations:
    "helm.sh/hook": test
spec:
  restartPolicy: Never
  containers:
    - name: wget
      image: registry.example/busybox:1.37
      args: ['{{ include "app.fullname" . }}:{{ .Values.service.port }}']
`)
	}
	return dir
}

// helmTemplateOnly renders every chart directory of dir with the Helm SDK
// alone, as `helm template` does (load, dependencies, values, engine), on
// every core, and YAML-decodes what it renders: the floor of reading
// charts. It returns the number of documents.
func helmTemplateOnly(b *testing.B, dir string, charts []string) int {
	b.Helper()
	docs := make([]int, len(charts))
	err := parallel.Each(b.Context(), len(charts), runtime.GOMAXPROCS(0), 1, func(i int) {
		ch, err := loader.Load(filepath.Join(dir, charts[i]))
		if err != nil {
			b.Error(err)
			return
		}
		vals := map[string]any{}
		if err := chartv2util.ProcessDependencies(ch, vals); err != nil {
			b.Error(err)
			return
		}
		rv, err := chartutil.ToRenderValues(ch, vals, chartcommon.ReleaseOptions{Name: "release", Namespace: "default", Revision: 1, IsInstall: true}, chartcommon.DefaultCapabilities)
		if err != nil {
			b.Error(err)
			return
		}
		out, err := engine.Engine{}.Render(ch, rv)
		if err != nil {
			b.Error(err)
			return
		}
		for name, text := range out {
			if filepath.Ext(name) != ".yaml" {
				continue
			}
			n, err := yamlDecodeAll([]byte(text))
			if err != nil {
				b.Error(err)
			}
			docs[i] += n
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	total := 0
	for _, n := range docs {
		total += n
	}
	return total
}

// BenchmarkPostureHelm reads a directory of charts as `posture scan DIR`
// does (render.Load: charts found and rendered on every core, dependencies
// read, template lines placed, objects decoded) and compares it with the
// Helm SDK rendering the same charts and YAML-decoding the output, in the
// same run: the ratio is what Palisade adds to `helm template`. Run with
// -benchtime 5x; POSTURE_HELM_CHARTS changes the number of charts (200).
func BenchmarkPostureHelm(b *testing.B) {
	n := 200
	if s := os.Getenv("POSTURE_HELM_CHARTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	dir := writeHelmCharts(b, n)
	charts := make([]string, n)
	for i := range charts {
		charts[i] = fmt.Sprintf("app%d", i)
	}
	// Vendored as `helm dependency build` would, for the Helm SDK alone,
	// which does not read file:// dependencies that charts/ lacks.
	for i := 0; i < n; i += 2 {
		if err := os.CopyFS(filepath.Join(dir, charts[i], "charts", "common"), os.DirFS(filepath.Join(dir, "common"))); err != nil {
			b.Fatal(err)
		}
	}
	var ratios []float64
	var objects, docs int
	best, bestHelm := time.Duration(1<<62), time.Duration(1<<62)
	for b.Loop() {
		start := time.Now()
		docs = helmTemplateOnly(b, dir, charts)
		helm := time.Since(start)
		start = time.Now()
		inv, err := render.Load(b.Context(), []string{dir}, nil, render.Options{})
		took := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		objects = len(inv.Objects)
		ratios = append(ratios, float64(took)/float64(helm))
		best, bestHelm = min(best, took), min(bestHelm, helm)
	}
	ratio := medianOf(ratios)
	b.Logf("%d charts, %d objects (Helm: %d documents): render.Load fastest %v, Helm SDK + YAML decode fastest %v; median ratio %.2f over %d paired runs", n, objects, docs, best, bestHelm, ratio, len(ratios))
	b.ReportMetric(ratio, "load/helm-template")
	b.ReportMetric(float64(objects), "objects")
}
