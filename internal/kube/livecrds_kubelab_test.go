package kube_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
	"github.com/palisade-sec/palisade/internal/posture/exposure"
)

// requestCounter counts the requests a client sends, by path.
type requestCounter struct {
	mu    sync.Mutex
	paths []string
}

func (rc *requestCounter) wrap(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			rc.mu.Lock()
			rc.paths = append(rc.paths, r.URL.Path)
			rc.mu.Unlock()
			return rt.RoundTrip(r)
		})
	})
	return cfg
}

func (rc *requestCounter) take() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	p := rc.paths
	rc.paths = nil
	return p
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The objects the test creates, as manifests: a pod isolated only by a
// CiliumNetworkPolicy, and a Gateway and HTTPRoute in front of Service web.
const (
	cnpYAML = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: isolate
  namespace: shop
  labels: {team: net}
spec:
  endpointSelector:
    matchLabels: {app: isolated}
  ingress:
  - fromEndpoints:
    - matchLabels: {app: web}
    toPorts:
    - ports: [{port: "8080", protocol: TCP}]
  egress:
  - toEndpoints:
    - matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system, "k8s:k8s-app": kube-dns}
`
	gatewayYAML = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: public
  namespace: shop
spec:
  gatewayClassName: internet
  listeners:
  - {name: http, port: 80, protocol: HTTP}
`
	routeYAML = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: shop
spec:
  parentRefs: [{name: public}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: web, port: 80, weight: 1}]
`
)

// TestListClusterCRDKinds runs live scans of a real kube-apiserver before
// and after the CRDs posture understands are installed: without them the
// scan costs one discovery request more and reports nothing more; with
// them it lists their objects, wrapped as the same manifests decode, and a
// pod isolated only by a CiliumNetworkPolicy is no longer reported; a user
// who may not list Cilium's policies gets a report that says so.
func TestListClusterCRDKinds(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, app := range []string{"isolated", "web"} {
		if _, err := cs.AppsV1().Deployments("shop").Create(ctx, labDeployment(app), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs.CoreV1().Services("shop").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	sc := posture.NewScanner(reg.Only("network-pod-isolation"), nil)
	isolationFindings := func(inv *kube.Inventory) []string {
		t.Helper()
		out, err := sc.Scan(ctx, inv, posture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range out.Findings {
			if f.Resource.Namespace == "shop" {
				got = append(got, f.Resource.Kind+"/"+f.Resource.Name)
			}
		}
		slices.Sort(got)
		return slices.Compact(got)
	}

	// No CRDs: one discovery request on top of one LIST per built-in kind,
	// and no error.
	var counter requestCounter
	counted := counter.wrap(c.Config)
	inv, missing, err := kube.ListCluster(ctx, counted, "lab", 0)
	if err != nil || len(missing) > 0 {
		t.Fatalf("list cluster without CRDs: %v %v", err, missing)
	}
	paths := counter.take()
	if n := len(kube.LiveKinds()) + 1; len(paths) != n || slices.Index(paths, "/apis") < 0 {
		t.Errorf("a scan without CRDs sent %d requests %v, want %d: one LIST per built-in kind and GET /apis", len(paths), paths, n)
	}
	if diff := cmp.Diff([]string{"Deployment/isolated", "Deployment/web"}, isolationFindings(inv)); diff != "" {
		t.Errorf("network-pod-isolation without Cilium (-want +got):\n%s", diff)
	}
	// What client-go's own group discovery would have cost instead.
	if _, err := kubernetes.NewForConfigOrDie(counted).Discovery().ServerGroups(); err != nil {
		t.Fatal(err)
	}
	sg := counter.take()
	t.Logf("discovery round trips: ServedCRDKinds 1 (GET /apis), client-go ServerGroups %d %v", len(sg), sg)

	if err := kube.InstallLabCRDs(t.Context(), c.Config, kube.CRDKinds()); err != nil {
		t.Fatal(err)
	}
	// A server without aggregated discovery (before 1.30) answers /apis
	// with the plain group list: asked only for that, this one does, and
	// the per-version questions must find the same kinds at the same
	// versions.
	plainCfg := rest.CopyConfig(c.Config)
	plainCfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.Path == "/apis" {
				r = r.Clone(r.Context())
				r.Header.Set("Accept", "application/json")
			}
			return rt.RoundTrip(r)
		})
	})
	aggregated, err := kube.ServedCRDKinds(ctx, kubernetes.NewForConfigOrDie(c.Config).Discovery().RESTClient())
	if err != nil {
		t.Fatal(err)
	}
	plain, err := kube.ServedCRDKinds(ctx, kubernetes.NewForConfigOrDie(plainCfg).Discovery().RESTClient())
	if err != nil {
		t.Fatal(err)
	}
	if len(aggregated) != len(kube.CRDKinds()) {
		t.Errorf("aggregated discovery found %d kinds, want %d", len(aggregated), len(kube.CRDKinds()))
	}
	if diff := cmp.Diff(aggregated, plain); diff != "" {
		t.Errorf("served kinds, aggregated vs plain discovery (-aggregated +plain):\n%s", diff)
	}
	dyn := dynamic.NewForConfigOrDie(c.Config)
	manifests := map[string]*kube.Object{}
	for i, y := range []string{cnpYAML, gatewayYAML, routeYAML} {
		decoded, err := kube.Decode(ctx, "m.yaml", []byte(y), kube.Limits{})
		if err != nil || len(decoded) != 1 {
			t.Fatalf("manifest %d: %v", i, err)
		}
		o := decoded[0]
		u := o.Typed.(*unstructured.Unstructured)
		gv, _ := schema.ParseGroupVersion(o.Ref.APIVersion)
		i = slices.IndexFunc(kube.CRDKinds(), func(k kube.CRDKind) bool { return k.Group == gv.Group && k.Kind == o.Ref.Kind })
		if _, err := dyn.Resource(gv.WithResource(kube.CRDKinds()[i].Resource)).Namespace("shop").Create(ctx, u.DeepCopy(), metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s: %v", o.Ref, err)
		}
		manifests[o.Ref.String()] = o
	}

	inv, missing, err = kube.ListCluster(ctx, c.Config, "lab", 0)
	if err != nil || len(missing) > 0 {
		t.Fatalf("list cluster with CRDs: %v %v", err, missing)
	}
	// The API server records managed fields on every object it stores; no
	// check reads them, and a live inventory does not keep them.
	for _, o := range inv.Objects {
		m, ok := o.Typed.(metav1.Object)
		if !ok {
			t.Errorf("%s: %T has no object metadata", o.Ref, o.Typed)
		} else if n := len(m.GetManagedFields()); n > 0 {
			t.Errorf("%s: %d managed fields kept", o.Ref, n)
		}
	}
	for ref, want := range manifests {
		var got *kube.Object
		for _, o := range inv.OfKind(want.Ref.Kind) {
			if o.Ref == want.Ref {
				got = o
			}
		}
		if got == nil {
			t.Errorf("%s: not in the live inventory", ref)
			continue
		}
		if got.Source != (kube.Source{Cluster: "lab"}) {
			t.Errorf("%s: source %+v, want the cluster", ref, got.Source)
		}
		if got.Known() || want.Known() {
			t.Errorf("%s: known live %v, manifest %v; want unstructured both", ref, got.Known(), want.Known())
		}
		if diff := cmp.Diff(want.Meta.Labels, got.Meta.Labels); diff != "" {
			t.Errorf("%s labels (-manifest +live):\n%s", ref, diff)
		}
		wu, gu := want.Typed.(*unstructured.Unstructured), got.Typed.(*unstructured.Unstructured)
		if diff := cmp.Diff(wu.Object["spec"], gu.Object["spec"]); diff != "" {
			t.Errorf("%s spec (-manifest +live):\n%s", ref, diff)
		}
		if gu.GetAPIVersion() != want.Ref.APIVersion || gu.GetKind() != want.Ref.Kind || gu.GetManagedFields() != nil {
			t.Errorf("%s: live object %s %s, managed fields %d", ref, gu.GetAPIVersion(), gu.GetKind(), len(gu.GetManagedFields()))
		}
	}
	if diff := cmp.Diff([]string{"Deployment/web"}, isolationFindings(inv)); diff != "" {
		t.Errorf("network-pod-isolation with the CiliumNetworkPolicy (-want +got):\n%s", diff)
	}
	// The exposure graph follows the live Gateway → HTTPRoute → Service to
	// the Deployment, as it does on the manifests.
	g := exposure.AnalyzeGateways(inv)
	var exposed []string
	for _, o := range inv.OfKind("Deployment") {
		if e := g.Of(o); e != nil && o.Ref.Name == "web" {
			for _, p := range e.Paths {
				exposed = append(exposed, p.String())
			}
		}
	}
	if !slices.ContainsFunc(exposed, func(p string) bool {
		return strings.Contains(p, "Gateway shop/public") && strings.Contains(p, "HTTPRoute shop/web") && strings.Contains(p, "Service shop/web")
	}) {
		t.Errorf("exposure paths of Deployment shop/web: %q, want Gateway shop/public → HTTPRoute shop/web → Service shop/web", exposed)
	}

	// A reader of every built-in kind but ConfigMaps, of the Gateway API,
	// Istio, Agent Sandbox and the Prometheus operator, but not of Cilium:
	// the scan goes on and says what it could not see.
	rules := []rbacv1.PolicyRule{{APIGroups: []string{"gateway.networking.k8s.io", "networking.istio.io", kube.AgentSandboxGroup, kube.AgentSandboxExtensionsGroup, kube.MonitoringGroup}, Resources: []string{"*"}, Verbs: []string{"list"}}}
	for _, k := range kube.LiveKinds() {
		if k.Resource == "configmaps" {
			continue
		}
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{k.GVK.Group}, Resources: []string{k.Resource}, Verbs: []string{"list"}})
	}
	const rbacGroup = "rbac.authorization.k8s.io"
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "narrow"}, Rules: rules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "narrow"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacGroup, Kind: "ClusterRole", Name: "narrow"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacGroup, Name: "narrow"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	narrow := rest.CopyConfig(c.Config)
	narrow.Impersonate = rest.ImpersonationConfig{UserName: "narrow", Groups: []string{"system:authenticated"}}
	// The API server's authorizer learns of the new role and binding from
	// its informers, a moment after the create returns: wait until the
	// narrow user may list, or under load the first LISTs are refused.
	narrowCS, err := kubernetes.NewForConfig(narrow)
	if err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, nsErr := narrowCS.CoreV1().Namespaces().List(ctx, metav1.ListOptions{Limit: 1})
		_, pcErr := narrowCS.SchedulingV1().PriorityClasses().List(ctx, metav1.ListOptions{Limit: 1})
		return nsErr == nil && pcErr == nil, nil
	})
	if err != nil {
		t.Fatalf("the narrow user's role never took effect: %v", err)
	}
	inv, missing, err = kube.ListCluster(ctx, narrow, "lab", 0)
	if err != nil {
		t.Fatal(err)
	}
	var notVisible []string
	for _, e := range missing {
		var le *kube.ListError
		if !errors.As(e, &le) || !le.Forbidden {
			t.Errorf("narrow user: unexpected error %v", e)
			continue
		}
		notVisible = append(notVisible, le.Kind)
	}
	if diff := cmp.Diff([]string{"ConfigMap", "CiliumNetworkPolicy.cilium.io", "CiliumClusterwideNetworkPolicy.cilium.io"}, notVisible); diff != "" {
		t.Errorf("kinds the narrow user could not see (-want +got):\n%s", diff)
	}
	if want := map[string]bool{"ConfigMap": true, "CiliumNetworkPolicy": true, "CiliumClusterwideNetworkPolicy": true}; !maps.Equal(inv.Unlisted, want) {
		t.Errorf("narrow user's inventory: unlisted kinds %v, want %v", inv.Unlisted, want)
	}
	if len(inv.OfKind("HTTPRoute")) != 1 || len(inv.OfKind("CiliumNetworkPolicy")) != 0 {
		t.Errorf("narrow user's inventory: %d HTTPRoutes, %d CiliumNetworkPolicies", len(inv.OfKind("HTTPRoute")), len(inv.OfKind("CiliumNetworkPolicy")))
	}
}

func labDeployment(app string) *appsv1.Deployment {
	labels := map[string]string{"app": app}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: app},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: app, Image: "registry.example.com/" + app + ":1"}}},
			},
		},
	}
}
