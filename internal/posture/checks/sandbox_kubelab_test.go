package checks_test

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// TestSandboxFixturesLive puts the fixtures of the Agent Sandbox checks
// (with their RuntimeClasses and NetworkPolicies) on a real kube-apiserver
// serving the Sandbox and SandboxTemplate CRDs, and checks that a live
// scan, which reads them through discovery and the dynamic client, gives
// the verdicts the manifests do.
func TestSandboxFixturesLive(t *testing.T) {
	ids := []string{"sandbox-egress", "sandbox-runtime-class", "sandbox-resource-ceiling"}
	fl := startFixtureLab(t)
	fl.addFixtures(ids)
	fl.addFixtures([]string{"network-pod-isolation"})
	fl.match(append(ids, "network-pod-isolation"), posture.Latest)
}

// TestSandboxLive creates a SandboxTemplate, a Sandbox and the Pod its
// controller would create (controlled by the Sandbox) on a real API
// server, and checks what a live scan judges: from version 8 the workload
// checks report the Sandbox's and the template's pod templates, and not
// the Pod again; pinned to 7, only the Pod, as
// before. It also asks the API server about the NetworkPolicy that
// sandbox-egress says it refuses: a peer naming nothing. The Sandbox's
// RuntimeClass is read live and judged by its handler.
func TestSandboxLive(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	if err := kube.InstallLabCRDs(ctx, c.Config, kube.CRDKinds()); err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(c.Config)
	dyn := dynamic.NewForConfigOrDie(c.Config)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "agents"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A RuntimeClass whose name says nothing and whose handler is Kata's:
	// read live, it makes the Sandbox using it sandboxed.
	if _, err := cs.NodeV1().RuntimeClasses().Create(ctx, &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: "isolated"}, Handler: "kata-qemu"}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	podTemplate := map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "agent", "image": "python:latest"}}}}
	sandboxTemplate := map[string]any{"spec": map[string]any{"runtimeClassName": "isolated", "containers": []any{map[string]any{"name": "agent", "image": "python:latest"}}}}
	template := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "extensions.agents.x-k8s.io/v1beta1", "kind": "SandboxTemplate",
		"metadata": map[string]any{"name": "coder"},
		"spec":     map[string]any{"podTemplate": podTemplate},
	}}
	sandbox := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "agents.x-k8s.io/v1beta1", "kind": "Sandbox",
		"metadata": map[string]any{"name": "scratch"},
		"spec":     map[string]any{"podTemplate": sandboxTemplate},
	}}
	for _, k := range kube.CRDKinds() {
		var obj *unstructured.Unstructured
		switch {
		case k.Group == kube.AgentSandboxExtensionsGroup && k.Kind == "SandboxTemplate":
			obj = template
		case k.Group == kube.AgentSandboxGroup && k.Kind == "Sandbox":
			obj = sandbox
		default:
			continue
		}
		created, err := dyn.Resource(k.At(k.Versions[0]).GVR()).Namespace("agents").Create(ctx, obj, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create %s: %v", k.Kind, err)
		}
		obj.SetUID(created.GetUID())
	}
	// The Pod the Sandbox controller creates: named after the Sandbox,
	// controlled by it.
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "scratch", OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "agents.x-k8s.io/v1beta1", Kind: "Sandbox", Name: "scratch", UID: sandbox.GetUID(), Controller: new(true),
		}}},
		Spec: corev1.PodSpec{RuntimeClassName: new("isolated"), Containers: []corev1.Container{{Name: "agent", Image: "python:latest"}}},
	}
	if _, err := cs.CoreV1().Pods("agents").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	inv, missing, err := kube.ListCluster(ctx, c.Config, "lab", 0)
	if err != nil || len(missing) > 0 {
		t.Fatalf("list cluster: %v %v", err, missing)
	}
	imageTag := func(pin posture.Version) []string {
		t.Helper()
		reg, err := posture.NewRegistry(checks.All(), pin)
		if err != nil {
			t.Fatal(err)
		}
		out, err := posture.NewScanner(reg.Only("image-tag", "sandbox-egress", "sandbox-runtime-class"), nil).Scan(ctx, inv, posture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range out.Findings {
			if f.Resource.Namespace == "agents" {
				got = append(got, strings.TrimPrefix(f.RuleID, posture.RulePrefix)+" "+f.Resource.Kind+"/"+f.Resource.Name+" "+f.Resource.Container)
			}
		}
		slices.Sort(got)
		return got
	}
	if diff := cmp.Diff([]string{
		"image-tag Sandbox/scratch agent",
		"image-tag SandboxTemplate/coder agent",
		"sandbox-egress SandboxTemplate/coder ",
		"sandbox-runtime-class SandboxTemplate/coder ",
	}, imageTag(posture.Latest)); diff != "" {
		t.Errorf("latest behaviour (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"image-tag Pod/scratch agent"}, imageTag(7)); diff != "" {
		t.Errorf("pinned to 7 (-want +got):\n%s", diff)
	}

	// The NetworkPolicy the controller writes from an egress rule whose
	// peer names nothing is refused, so the sandboxes get none.
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "coder-network-policy"},
		Spec: networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Egress:      []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{}}}},
		},
	}
	_, err = cs.NetworkingV1().NetworkPolicies("agents").Create(ctx, np, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err == nil || !strings.Contains(err.Error(), "must specify a peer") {
		t.Errorf("NetworkPolicy with an empty egress peer: %v, want the API server to refuse it (must specify a peer)", err)
	}
}
