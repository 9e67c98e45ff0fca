package checks_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// TestNetworkChecksLiveMatchManifests creates NetworkPolicies and
// Deployments in a real kube-apiserver, which defaults the policies'
// policyTypes (Ingress, plus Egress for a policy with egress rules), lists
// them as a live scan does and checks that network-pod-isolation and
// network-allow-all give the same verdicts on the live objects as on the
// manifests that created them, where the defaulting has not happened and
// the default-namespace objects carry no namespace.
func TestNetworkChecksLiveMatchManifests(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sel := func(app string) metav1.LabelSelector {
		return metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
	}
	peer := func(app string) []networkingv1.NetworkPolicyPeer {
		s := sel(app)
		return []networkingv1.NetworkPolicyPeer{{PodSelector: &s}}
	}
	policies := []*networkingv1.NetworkPolicy{
		// No policyTypes, ingress rules only: defaulted to [Ingress].
		{ObjectMeta: metav1.ObjectMeta{Name: "web-in", Namespace: "shop"}, Spec: networkingv1.NetworkPolicySpec{
			PodSelector: sel("web"), Ingress: []networkingv1.NetworkPolicyIngressRule{{From: peer("gateway")}}}},
		// No policyTypes, egress rules: defaulted to [Ingress, Egress].
		{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop"}, Spec: networkingv1.NetworkPolicySpec{
			PodSelector: sel("api"), Egress: []networkingv1.NetworkPolicyEgressRule{{To: peer("db")}}}},
		// Allow-all ingress, and an egress rule ignored for want of the type.
		{ObjectMeta: metav1.ObjectMeta{Name: "open", Namespace: "shop"}, Spec: networkingv1.NetworkPolicySpec{
			PodSelector: sel("open"), PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{}}, Egress: []networkingv1.NetworkPolicyEgressRule{{}}}},
		// In default: every pod there, both directions (egress rules), egress
		// to every namespace. It isolates Deployment tool only if the
		// manifests' namespace-less objects meet in default.
		{ObjectMeta: metav1.ObjectMeta{Name: "default-egress", Namespace: "default"}, Spec: networkingv1.NetworkPolicySpec{
			Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}}}}},
	}
	deploy := func(ns, app string) *appsv1.Deployment {
		s := sel(app)
		return &appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: metav1.ObjectMeta{Name: app, Namespace: ns},
			Spec: appsv1.DeploymentSpec{Selector: &s, Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: s.MatchLabels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: app, Image: "registry.example.com/" + app + ":1"}}},
			}},
		}
	}
	deployments := []*appsv1.Deployment{deploy("shop", "web"), deploy("shop", "api"), deploy("shop", "open"), deploy("shop", "lonely"), deploy("default", "tool")}

	var manifests []string
	for _, np := range policies {
		live, err := cs.NetworkingV1().NetworkPolicies(np.Namespace).Create(ctx, np, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(live.Spec.PolicyTypes) == 0 {
			t.Fatalf("NetworkPolicy %s: the API server did not default policyTypes", np.Name)
		}
		np.TypeMeta = metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"}
		manifests = append(manifests, manifest(t, np))
	}
	for _, d := range deployments {
		if _, err := cs.AppsV1().Deployments(d.Namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		manifests = append(manifests, manifest(t, d))
	}

	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	sc := posture.NewScanner(reg.Only("network-pod-isolation", "network-allow-all"), nil)
	verdicts := func(inv *kube.Inventory) []string {
		out, err := sc.Scan(ctx, inv, posture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var vs []string
		for _, f := range out.Findings {
			ns := f.Resource.Namespace
			if ns == "" {
				ns = "default"
			}
			vs = append(vs, f.RuleID+" "+f.Resource.Kind+"/"+ns+"/"+f.Resource.Name+" "+keyEvidence(f))
		}
		slices.Sort(vs)
		return vs
	}

	liveInv, missing, err := kube.ListCluster(ctx, c.Config, "lab", 0)
	if err != nil || len(missing) > 0 {
		t.Fatalf("list cluster: %v %v", err, missing)
	}
	var objs []*kube.Object
	for i, m := range manifests {
		decoded, err := kube.Decode(ctx, "manifest"+strconv.Itoa(i)+".yaml", []byte(m), kube.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, decoded...)
	}
	want := []string{
		"posture/network-allow-all NetworkPolicy/default/default-egress direction=egress rule=0",
		"posture/network-allow-all NetworkPolicy/shop/open direction=ingress rule=0",
		"posture/network-pod-isolation Deployment/shop/lonely direction=egress",
		"posture/network-pod-isolation Deployment/shop/lonely direction=ingress",
		"posture/network-pod-isolation Deployment/shop/open direction=egress",
		"posture/network-pod-isolation Deployment/shop/web direction=egress",
	}
	if diff := cmp.Diff(want, verdicts(liveInv)); diff != "" {
		t.Errorf("live verdicts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, verdicts(kube.NewInventory(objs))); diff != "" {
		t.Errorf("manifest verdicts (-want +got):\n%s", diff)
	}
}

// manifest renders o as YAML, without the namespace when it is default,
// as a manifest applied with kubectl's default namespace would be.
func manifest(t *testing.T, o metav1.Object) string {
	t.Helper()
	ns := o.GetNamespace()
	if ns == "default" {
		o.SetNamespace("")
		defer o.SetNamespace(ns)
	}
	b, err := yaml.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func keyEvidence(f finding.Finding) string {
	var parts []string
	for _, e := range f.Evidence {
		if e.Key {
			parts = append(parts, e.Name+"="+e.Value)
		}
	}
	return strings.Join(parts, " ")
}
