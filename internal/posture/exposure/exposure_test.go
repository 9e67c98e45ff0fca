package exposure

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
)

const workloads = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front}}
    spec: {containers: [{name: app, image: web:1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: worker, namespace: shop, labels: {app: worker}}
spec: {containers: [{name: w, image: worker:1}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: other}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: web:1}]}
`

func analyze(t *testing.T, docs string) map[string][]string {
	t.Helper()
	objs, err := kube.Decode(t.Context(), "test.yaml", []byte(workloads+"---\n"+docs), kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, e := range Analyze(kube.NewInventory(objs)).Exposed() {
		for _, p := range e.Paths {
			got[e.Ref.String()] = append(got[e.Ref.String()], p.String())
		}
	}
	return got
}

func TestAnalyze(t *testing.T) {
	svc := func(name, typ, selector string, extra ...string) string {
		return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + ", namespace: shop}\nspec:\n  type: " + typ + "\n  selector: " + selector + "\n  ports: [{name: http, port: 80}]\n" + strings.Join(extra, "")
	}
	for _, tc := range []struct {
		name string
		docs string
		want map[string][]string
	}{
		{"cluster ip only", svc("web", "ClusterIP", "{app: web}"), map[string][]string{}},
		{"load balancer", svc("web", "LoadBalancer", "{app: web}"),
			map[string][]string{"Deployment/shop/web": {"Service shop/web (LoadBalancer)"}}},
		{"node port and external IPs", svc("web", "NodePort", "{app: web}", "  externalIPs: [203.0.113.7]\n"),
			map[string][]string{"Deployment/shop/web": {"Service shop/web (NodePort)", "Service shop/web (externalIPs)"}}},
		{"selector subset matches template", svc("front", "LoadBalancer", "{tier: front}"),
			map[string][]string{"Deployment/shop/web": {"Service shop/front (LoadBalancer)"}}},
		{"selector matches nothing", svc("web", "LoadBalancer", "{app: web, tier: back}"), map[string][]string{}},
		{"ingress rule and default backend", svc("web", "ClusterIP", "{app: worker}") + `---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: in, namespace: shop}
spec:
  tls: [{hosts: ["*.example.com"]}]
  defaultBackend: {service: {name: web, port: {number: 80}}}
  rules:
  - host: api.example.com
    http: {paths: [{path: /v1, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}]}
  - host: example.org
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: missing, port: {number: 80}}}}]}
`, map[string][]string{"Pod/shop/worker": {
			"Ingress shop/in (*, no TLS) → Service shop/web:80",
			"Ingress shop/in (api.example.com/v1, TLS) → Service shop/web:http",
		}}},
		{"no namespace is default", `apiVersion: v1
kind: Service
metadata: {name: lb}
spec: {type: LoadBalancer, selector: {app: site}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: site, namespace: default}
spec:
  selector: {matchLabels: {app: site}}
  template:
    metadata: {labels: {app: site}}
    spec: {containers: [{name: app, image: site:1}]}
`, map[string][]string{"Deployment/default/site": {"Service default/lb (LoadBalancer)"}}},
		{"no namespace is not shop", `apiVersion: v1
kind: Service
metadata: {name: lb}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}
`, map[string][]string{}},
		{"ingress to another namespace's service", `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: in, namespace: other}
spec:
  defaultBackend: {service: {name: web, port: {number: 80}}}
`, map[string][]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, analyze(t, tc.docs)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestReachable(t *testing.T) {
	const docs = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      containers: [{name: a, image: agent:1, ports: [{containerPort: 9100, hostPort: 9100}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: dns, namespace: shop, labels: {app: web}}
spec:
  initContainers: [{name: init, image: i:1, ports: [{containerPort: 1, hostPort: 1000}]}]
  containers: [{name: dns, image: dns:1, ports: [{containerPort: 53, hostPort: 5353, protocol: UDP}, {containerPort: 80}]}]
`
	objs, err := kube.Decode(t.Context(), "test.yaml", []byte(workloads+"---\n"+docs), kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	inv := kube.NewInventory(objs)
	g := Analyze(inv)
	got := map[string][]string{}
	var order []string
	for _, e := range g.Reachable(inv) {
		order = append(order, e.Ref.String())
		for _, p := range e.Paths {
			got[e.Ref.String()] = append(got[e.Ref.String()], p.String())
		}
	}
	want := map[string][]string{
		"DaemonSet/kube-system/agent": {"hostNetwork (every port the pod listens on, on its node's addresses)"},
		"Deployment/shop/web":         {"Service shop/web (NodePort)"},
		// The Service path first, then the host ports of every container.
		"Pod/shop/dns": {"Service shop/web (NodePort)", "hostPort 1000/TCP (container init)", "hostPort 5353/UDP (container dns)"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"DaemonSet/kube-system/agent", "Deployment/shop/web", "Pod/shop/dns"}, order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	// Checks see Service and Ingress paths only: Reachable changes nothing.
	if n := len(g.Exposed()); n != 2 || len(g.Of(g.Exposed()[1].Workload.Object).Paths) != 1 {
		t.Errorf("Reachable changed the graph: %d exposed", n)
	}
}

func TestWorkloads(t *testing.T) {
	const docs = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{name: http, port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: in, namespace: shop}
spec:
  tls: [{hosts: [shop.example.com]}]
  rules:
  - host: shop.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}]}
---
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: other}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 443}]}
`
	objs, err := kube.Decode(t.Context(), "test.yaml", []byte(workloads+"---\n"+docs), kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	// The same Services and Ingress again in another file (a tree with the
	// app in two forms): each way in is still listed once.
	again, err := kube.Decode(t.Context(), "copy.yaml", []byte(docs), kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	objs = append(objs, again...)
	tls := true
	want := []finding.ExposedWorkload{
		{Resource: finding.Resource{Namespace: "other", APIVersion: "apps/v1", Kind: "Deployment", Name: "web", File: "test.yaml", Line: 15},
			Paths: []finding.ExposurePath{{Via: "LoadBalancer", Service: "other/lb"}}},
		{Resource: finding.Resource{Namespace: "shop", APIVersion: "apps/v1", Kind: "Deployment", Name: "web", File: "test.yaml", Line: 1},
			Paths: []finding.ExposurePath{{Via: "Ingress", Ingress: "shop/in", Host: "shop.example.com", Path: "/", Service: "shop/web", Port: "http", TLS: &tls}}},
	}
	if diff := cmp.Diff(want, Workloads(kube.NewInventory(objs))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := Workloads(kube.NewInventory(nil)); got == nil || len(got) != 0 {
		t.Errorf("nothing exposed: %#v, want an empty list", got)
	}
}
