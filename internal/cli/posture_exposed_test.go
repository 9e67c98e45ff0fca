package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

// exposedManifests: a privileged Deployment behind an Ingress with a TLS
// host and a plain default backend, a hardened one behind a NodePort, a
// node agent on the host network, and an internal-only Deployment.
const exposedManifests = `apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, namespace: web}
spec:
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec: {containers: [{name: app, image: registry.example.com/shop:1, securityContext: {privileged: true}}]}
---
apiVersion: v1
kind: Service
metadata: {name: shop, namespace: web}
spec: {selector: {app: shop}, ports: [{name: http, port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: web}
spec:
  tls: [{hosts: [shop.example.com]}]
  defaultBackend: {service: {name: shop, port: {number: 80}}}
  rules:
  - host: shop.example.com
    http: {paths: [{path: /cart, pathType: Prefix, backend: {service: {name: shop, port: {name: http}}}}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: web}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 10001}
      containers: [{name: api, image: registry.example.com/api:1}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: web}
spec: {type: NodePort, selector: {app: api}, ports: [{port: 8080}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: monitoring}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {hostNetwork: true, containers: [{name: agent, image: registry.example.com/agent:1}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: web}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: registry.example.com/db:1}]}
`

// TestPostureScanExposedWorkloads: `posture scan` lists the exposed
// workloads apart from the findings, in JSON, the table and HTML, with
// each way in, TLS and the worst open finding, riskiest first.
func TestPostureScanExposedWorkloads(t *testing.T) {
	path := writeTemp(t, "exposed.yaml", exposedManifests)
	code, out, errOut := run(t, "posture", "scan", "-o", "json", "--fail-on", "none", path)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep finding.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.SchemaVersion != finding.SchemaVersion {
		t.Errorf("schemaVersion %s", rep.SchemaVersion)
	}
	var names []string
	for _, w := range rep.Exposed {
		names = append(names, w.Resource.Kind+"/"+w.Resource.Namespace+"/"+w.Resource.Name)
	}
	// The privileged one first; the internal-only db is not listed.
	if got, want := strings.Join(names, " "), "Deployment/web/shop "; !strings.HasPrefix(got, want) || len(names) != 3 ||
		!strings.Contains(got, "DaemonSet/monitoring/agent") || !strings.Contains(got, "Deployment/web/api") {
		t.Fatalf("exposed workloads %v", names)
	}
	shop := rep.Exposed[0]
	if shop.WorstSeverity != finding.SeverityCritical || shop.OpenFindings == 0 || shop.Resource.File != path || shop.Resource.Line != 1 {
		t.Errorf("shop: worst %s, %d open, at %s:%d", shop.WorstSeverity, shop.OpenFindings, shop.Resource.File, shop.Resource.Line)
	}
	var tlsHosts, plain int
	for _, p := range shop.Paths {
		if p.Via != finding.ViaIngress || p.Service != "web/shop" || p.Ingress != "web/shop" || p.TLS == nil {
			t.Errorf("shop path %+v", p)
			continue
		}
		if *p.TLS {
			tlsHosts++
			if p.Host != "shop.example.com" || p.Path != "/cart" {
				t.Errorf("TLS path %+v", p)
			}
		} else {
			plain++
		}
	}
	if tlsHosts != 1 || plain != 1 {
		t.Errorf("shop paths: %d with TLS, %d without; want 1 and 1", tlsHosts, plain)
	}
	for _, w := range rep.Exposed[1:] {
		switch w.Resource.Name {
		case "agent":
			if len(w.Paths) != 1 || w.Paths[0].Via != finding.ViaHostNetwork {
				t.Errorf("agent paths %+v", w.Paths)
			}
		case "api":
			if len(w.Paths) != 1 || w.Paths[0].Via != finding.ViaNodePort || w.Paths[0].Service != "web/api" || w.Paths[0].TLS != nil {
				t.Errorf("api paths %+v", w.Paths)
			}
		}
	}

	code, out, errOut = run(t, "posture", "scan", "--fail-on", "none", path)
	if code != ExitOK {
		t.Fatalf("table: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"EXPOSED WORKLOADS (3)", "web/Deployment/shop", "Ingress web/shop (shop.example.com/cart) → Service web/shop:http", "NodePort Service web/api", "hostNetwork"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = run(t, "posture", "scan", "-o", "html", "--fail-on", "none", path)
	if code != ExitOK {
		t.Fatalf("html: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "<h2>Exposed workloads</h2>") || !strings.Contains(out, "web/Deployment/shop") {
		t.Errorf("HTML report lacks the exposed workloads")
	}
}

// TestPostureScanExposedWorkloadsLive: a live scan lists the exposed
// workloads of a real kube-apiserver, named by the cluster's context.
func TestPostureScanExposedWorkloadsLive(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}))
	labels := map[string]string{"app": "web"}
	must(cs.AppsV1().Deployments("shop").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27",
					Ports: []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}}}}},
			},
		},
	}, metav1.CreateOptions{}))
	must(cs.CoreV1().Services("shop").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: labels, Ports: []corev1.ServicePort{{Port: 443}}},
	}, metav1.CreateOptions{}))

	code, out, errOut := run(t, "posture", "scan", "-o", "json", "--fail-on", "none", "--kubeconfig", c.Kubeconfig)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rep := decodeReport(t, out)
	if len(rep.Exposed) != 1 {
		t.Fatalf("exposed workloads: %+v", rep.Exposed)
	}
	w := rep.Exposed[0]
	if r := w.Resource; r.Cluster == "" || r.Namespace != "shop" || r.Kind != "Deployment" || r.Name != "web" || r.File != "" {
		t.Errorf("resource %+v", r)
	}
	if w.OpenFindings == 0 || w.WorstSeverity < finding.SeverityHigh { // runs as root, exposed
		t.Errorf("%d open, worst %s", w.OpenFindings, w.WorstSeverity)
	}
	want := []finding.ExposurePath{{Via: finding.ViaLoadBalancer, Service: "shop/web"}, {Via: finding.ViaHostPort, Port: "8080/TCP", Container: "app"}}
	if diff := cmp.Diff(want, w.Paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
}
