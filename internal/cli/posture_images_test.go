package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image/imagetest"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/sharedtest"
	"github.com/palisade-sec/palisade/internal/vulndb"
)

// scannedImage is a real image pushed to an in-process registry and the
// report `palisade image scan -o json` wrote for it.
type scannedImage struct {
	ref, digest, report string
}

// scanVulnerableImage builds an image holding aiohttp 3.8.5 (PyPI), whose
// real advisories include network-exploitable high ones (PYSEC-2023-246,
// PYSEC-2024-24: CVSS AV:N, 7.5), pushes it, scans it against the real
// PyPI advisories and saves the JSON report.
func scanVulnerableImage(t *testing.T) scannedImage {
	t.Helper()
	bundle := filepath.Join("..", "..", "..", "shared", "vulndb", "PyPI-all.zip")
	if _, err := os.Stat(bundle); err != nil {
		sharedtest.Missing(t, "real advisory bundles not found: %v", err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "osv.db")
	if _, err := vulndb.Import(t.Context(), db, []string{bundle}, vulndb.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	meta := "Metadata-Version: 2.1\nName: aiohttp\nVersion: 3.8.5\nSummary: Async http client/server framework (asyncio)\n\n"
	img := imagetest.Image(t, v1.Config{User: "10001"}, imagetest.Step{
		CreatedBy: "RUN pip install aiohttp==3.8.5",
		Layer: imagetest.Layer(t, fstest.MapFS{
			"usr/lib/python3.11/site-packages/aiohttp-3.8.5.dist-info/METADATA": {Data: []byte(meta), Mode: 0o644},
		}),
	})
	ref := imagetest.Push(t, imagetest.Registry(t)+"/shop/api:1.0", img)
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "image", "scan", "--db", db, "--insecure-registry", "-o", "json", ref)
	if code != ExitViolation {
		t.Fatalf("image scan: exit %d, want 1 (vulnerable)\n%s", code, errOut)
	}
	report := filepath.Join(dir, "reports", "api.json")
	if err := os.MkdirAll(filepath.Dir(report), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(report, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return scannedImage{ref: ref, digest: d.String(), report: report}
}

// findingsOf returns the findings of rule, by "Kind/name container".
func findingsOf(rep *finding.Report, rule string) map[string]finding.Finding {
	out := map[string]finding.Finding{}
	for _, f := range rep.Findings {
		if f.RuleID == rule {
			out[f.Resource.Kind+"/"+f.Resource.Name+" "+f.Resource.Container] = f
		}
	}
	return out
}

func evidenceOf(f finding.Finding, name string) string {
	for _, e := range f.Evidence {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// TestPostureScanImageReport: `posture scan --image-report` joins a real
// image scan report to the manifests that run the image — by tag, and by
// digest — and ranks the exposed one first.
func TestPostureScanImageReport(t *testing.T) {
	img := scanVulnerableImage(t)
	repo, _, _ := strings.Cut(img.ref, ":1.0")
	manifests := writeTemp(t, "app.yaml", `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 10001}
      containers: [{name: api, image: "`+img.ref+`"}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {type: NodePort, selector: {app: api}, ports: [{port: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: shop}
spec:
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 10001}
      containers: [{name: worker, image: "`+repo+`@`+img.digest+`"}]
`)
	code, out, errOut := run(t, "posture", "scan", "-o", "json", "--fail-on", "none", "--image-report", filepath.Dir(img.report), manifests)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rep := decodeReport(t, out)
	vi := findingsOf(rep, "posture/vulnerable-image")
	for key, by := range map[string]string{"Deployment/api api": "tag", "Deployment/worker worker": "digest"} {
		f, ok := vi[key]
		switch {
		case !ok:
			t.Errorf("vulnerable-image: no finding on %s; got %v", key, vi)
		case evidenceOf(f, "matchedBy") != by || evidenceOf(f, "digest") != img.digest || f.Severity < finding.SeverityHigh:
			t.Errorf("vulnerable-image %s: matchedBy=%s digest=%s severity %s; want %s, %s, high or above", key,
				evidenceOf(f, "matchedBy"), evidenceOf(f, "digest"), f.Severity, by, img.digest)
		case !strings.Contains(f.Message, "PYSEC-2023-246") && !strings.Contains(f.Message, "CVE-2023-47627"):
			t.Errorf("vulnerable-image %s: message names none of aiohttp's advisories: %s", key, f.Message)
		}
	}
	ev := findingsOf(rep, "posture/exposed-vulnerable-workload")
	f, ok := ev["Deployment/api api"]
	if !ok || len(ev) != 1 || f.Severity != finding.SeverityCritical || !strings.Contains(f.Message, "Service shop/api (NodePort)") {
		t.Fatalf("exposed-vulnerable-workload: %v", ev)
	}
	ie := findingsOf(rep, "posture/internet-exposed-workload")
	if f := ie["Deployment/api "]; f.Severity != finding.SeverityCritical || evidenceOf(f, "vulnerability") == "" {
		t.Errorf("internet-exposed-workload not raised by the vulnerable image: %+v", ie)
	}
	// The exposed, vulnerable workload ranks first.
	if len(rep.Exposed) != 1 || rep.Exposed[0].Resource.Name != "api" || rep.Exposed[0].WorstSeverity != finding.SeverityCritical {
		t.Errorf("exposed workloads %+v", rep.Exposed)
	}

	// Pinned to version 5, the image data changes nothing.
	code, out, errOut = run(t, "posture", "scan", "-o", "json", "--fail-on", "none", "--checks-version", "5", "--image-report", img.report, manifests)
	if code != ExitOK {
		t.Fatalf("pinned: exit %d: %s", code, errOut)
	}
	rep = decodeReport(t, out)
	if n := len(findingsOf(rep, "posture/vulnerable-image")) + len(findingsOf(rep, "posture/exposed-vulnerable-workload")); n != 0 {
		t.Errorf("pinned to 5: %d image findings", n)
	}
	if f := findingsOf(rep, "posture/internet-exposed-workload")["Deployment/api "]; f.Severity != finding.SeverityMedium {
		t.Errorf("pinned to 5: internet-exposed-workload %s, want medium", f.Severity)
	}

	// A file that is not an image scan report is a usage error naming it.
	code, _, errOut = run(t, "posture", "scan", "--image-report", manifests, manifests)
	if code != ExitUsage || !strings.Contains(errOut, manifests) {
		t.Errorf("bad report: exit %d: %s", code, errOut)
	}
}

// TestPostureScanImageReportLive: in a live cluster a Pod's tag was never
// scanned, but its status imageID is the scanned digest: it is matched by
// digest.
func TestPostureScanImageReportLive(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	img := scanVulnerableImage(t)
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "web"}
	nonRoot, uid := true, int64(10001)
	pod, err := cs.CoreV1().Pods("shop").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-5f7c", Labels: labels},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: &nonRoot, RunAsUser: &uid},
			Containers:      []corev1.Container{{Name: "web", Image: "registry.example.com/shop/web:3"}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	repo, _, _ := strings.Cut(img.ref, ":1.0")
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "web", Image: "registry.example.com/shop/web:3", ImageID: "docker-pullable://" + repo + "@" + img.digest}}
	if _, err := cs.CoreV1().Pods("shop").UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Services("shop").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: labels, Ports: []corev1.ServicePort{{Port: 443}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "posture", "scan", "-o", "json", "--fail-on", "none", "--kubeconfig", c.Kubeconfig, "--image-report", img.report)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rep := decodeReport(t, out)
	f, ok := findingsOf(rep, "posture/vulnerable-image")["Pod/web-5f7c web"]
	if !ok || evidenceOf(f, "matchedBy") != "digest" || evidenceOf(f, "digest") != img.digest {
		t.Errorf("vulnerable-image on the live Pod: %+v (found %v)", f, ok)
	}
	if f, ok := findingsOf(rep, "posture/exposed-vulnerable-workload")["Pod/web-5f7c web"]; !ok || f.Severity != finding.SeverityCritical || !strings.Contains(f.Message, "Service shop/web (LoadBalancer)") {
		t.Errorf("exposed-vulnerable-workload on the live Pod: %+v (found %v)", f, ok)
	}
}
