package admission

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

const cmPolicy = `apiVersion: palisade.dev/v1alpha1
kind: Policy
metadata: {name: acme/no-nodeport}
spec:
  mode: MODE
  matchResources: {kinds: [Service]}
  validations:
    - expression: object.?spec.?type.orValue('') != 'NodePort'
      message: NodePort services are not allowed here
`

// TestPolicyConfigMapReload builds the engine from palisade.yaml with a
// policy ConfigMap on a real API server, and checks that edits to the
// ConfigMap change verdicts and that a broken edit keeps the last good
// policies.
func TestPolicyConfigMapReload(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "palisade"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "policies", Namespace: "palisade"},
		Data:       map[string]string{"nodeport.yaml": strings.Replace(cmPolicy, "MODE", "enforce", 1)},
	}
	if _, err := cs.CoreV1().ConfigMaps("palisade").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Admission.Policies = config.Policies{Builtin: []string{}, ConfigMaps: []config.ConfigMapRef{{Namespace: "palisade", Name: "policies"}}}
	if _, err := Build(cfg, Deps{}); err == nil || !strings.Contains(err.Error(), "needs a Kubernetes client") {
		t.Fatalf("Build without a client: %v", err)
	}
	w, err := Build(cfg, Deps{Kube: cs})
	if err != nil {
		t.Fatal(err)
	}
	var src *CELSource
	for _, r := range w.Engine.Rules {
		if s, ok := r.Policy.(*CELSource); ok {
			src = s
		}
	}
	if src == nil {
		t.Fatal("no ConfigMap rule in the engine")
	}
	svc := func() *corev1.Service {
		return &corev1.Service{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}}},
		}
	}
	resp := w.Engine.Review(ctx, review(t, "shop", "Service", svc()))
	if resp.Allowed || !strings.Contains(resp.Result.Message, "acme/no-nodeport: NodePort services are not allowed here") {
		t.Fatalf("first load: allowed=%v %+v", resp.Allowed, resp.Result)
	}

	// An edit to warn mode is picked up at the next refresh.
	cm.Data["nodeport.yaml"] = strings.Replace(cmPolicy, "MODE", "warn", 1)
	if _, err := cs.CoreV1().ConfigMaps("palisade").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := src.Source.Refresh(ctx, true); err != nil {
		t.Fatal(err)
	}
	resp = w.Engine.Review(ctx, review(t, "shop", "Service", svc()))
	if !resp.Allowed || len(resp.Warnings) == 0 || !strings.Contains(resp.Warnings[0], "acme/no-nodeport") {
		t.Fatalf("after the edit to warn: allowed=%v warnings=%q", resp.Allowed, resp.Warnings)
	}

	// A broken edit is reported and the warn-mode policy stays.
	cm.Data["nodeport.yaml"] = strings.Replace(strings.Replace(cmPolicy, "MODE", "warn", 1), "object.?spec", "object.?spec(", 1)
	if _, err := cs.CoreV1().ConfigMaps("palisade").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	refreshed := time.Now()
	err = src.Source.Refresh(ctx, true)
	if err == nil || !strings.Contains(err.Error(), "palisade/policies[nodeport.yaml]:8: policy acme/no-nodeport: validations[0].expression: compile CEL") {
		t.Fatalf("broken edit: %v", err)
	}
	resp = w.Engine.Review(ctx, review(t, "shop", "Service", svc()))
	if !resp.Allowed || len(resp.Warnings) == 0 {
		t.Fatalf("after a broken edit the last good policy must stay: allowed=%v warnings=%q", resp.Allowed, resp.Warnings)
	}

	// Within the interval, requests do not re-read the ConfigMap.
	cm.Data = map[string]string{}
	if _, err := cs.CoreV1().ConfigMaps("palisade").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if resp = w.Engine.Review(ctx, review(t, "shop", "Service", svc())); len(resp.Warnings) == 0 && time.Since(refreshed) < 9*time.Second {
		t.Fatal("the ConfigMap was re-read before its interval passed")
	}
	if err := src.Source.Refresh(ctx, true); err != nil {
		t.Fatal(err)
	}
	if resp = w.Engine.Review(ctx, review(t, "shop", "Service", svc())); !resp.Allowed || len(resp.Warnings) != 0 {
		t.Fatalf("after emptying the ConfigMap: allowed=%v warnings=%q", resp.Allowed, resp.Warnings)
	}
}
