package admission

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/policy"
)

const portLimitPolicies = `apiVersion: palisade.dev/v1alpha1
kind: Policy
metadata: {name: acme/port-limit}
spec:
  mode: enforce
  paramsRef: {namespace: shop, name: port-limit}
  matchResources: {apiGroups: [""], kinds: [Service]}
  validations:
    - expression: size(object.spec.ports) <= int(params.maxPorts)
      messageExpression: "'has ' + string(size(object.spec.ports)) + ' ports; ' + params.message"
---
apiVersion: palisade.dev/v1alpha1
kind: Policy
metadata: {name: acme/optional-params}
spec:
  mode: enforce
  paramsRef: {namespace: shop, name: not-there, parameterNotFoundAction: Allow}
  matchResources: {apiGroups: [""], kinds: [Service]}
  validations:
    - expression: "false"
      message: never reached without its ConfigMap
`

// TestParamsFromConfigMap runs policies whose params are a ConfigMap's
// data, watched live with no more RBAC than admission install grants:
// edits of the ConfigMap change the next decisions, and a missing
// ConfigMap follows parameterNotFoundAction.
func TestParamsFromConfigMap(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	admin := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	for _, ns := range []string{"palisade", "shop"} {
		if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), "limits.yaml")
	if err := os.WriteFile(file, []byte(portLimitPolicies), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Admission.Policies = config.Policies{Builtin: []string{}, Files: []string{file}}
	ps, err := LoadPolicies(ctx, cfg.Admission.Policies, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	refs := policy.ParamsRefs(ps.Policies)
	if len(refs) != 2 || refs[0].String() != "shop/not-there" || refs[1].String() != "shop/port-limit" {
		t.Fatalf("params refs %v", refs)
	}

	// The webhook runs as its service account, with only the Roles
	// admission install prints for these ConfigMaps.
	rbac, err := ParamsRBAC(refs, "palisade/palisade")
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range rbac {
		switch o := obj.(type) {
		case *rbacv1.Role:
			_, err = admin.RbacV1().Roles(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.RoleBinding:
			_, err = admin.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	asWebhook := rest.CopyConfig(c.Config)
	asWebhook.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:palisade:palisade", Groups: []string{"system:serviceaccounts", "system:authenticated"}}
	webhook := kubernetes.NewForConfigOrDie(asWebhook)
	// A ConfigMap the Roles do not name cannot be watched.
	ungranted := policy.NewParamsWatcher(webhook, 0, nil)
	defer ungranted.Close()
	if err := ungranted.Watch(ctx, []policy.ConfigMapRef{{Namespace: "shop", Name: "other"}}, 2*time.Second); err == nil || !strings.Contains(err.Error(), "may palisade get, list and watch them?") {
		t.Fatalf("watching an ungranted ConfigMap: %v", err)
	}
	src := policy.NewParamsWatcher(webhook, 0, nil)
	defer src.Close()
	if err := src.Watch(ctx, refs, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(cfg, Deps{}); err == nil || !strings.Contains(err.Error(), "policy acme/optional-params: paramsRef shop/not-there needs a Kubernetes client") {
		t.Fatalf("Build without params: %v", err)
	}
	w, err := Build(cfg, Deps{Params: src})
	if err != nil {
		t.Fatal(err)
	}

	svc := func(ports int) *admissionv1.AdmissionRequest {
		s := &corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}, ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}}
		for i := range ports {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Port: int32(80 + i)})
		}
		return review(t, "shop", "Service", s)
	}
	// until waits for the watch to bring the engine to a decision.
	until := func(what string, ar func() *admissionv1.AdmissionRequest, ok func(*admissionv1.AdmissionResponse) bool) {
		t.Helper()
		var last *admissionv1.AdmissionResponse
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
			last = w.Engine.Review(ctx, ar())
			return ok(last), nil
		})
		if err != nil {
			t.Fatalf("%s: last response allowed=%v %+v", what, last.Allowed, last.Result)
		}
	}
	denied := func(text string) func(*admissionv1.AdmissionResponse) bool {
		return func(r *admissionv1.AdmissionResponse) bool {
			return !r.Allowed && strings.Contains(r.Result.Message, text)
		}
	}
	allowed := func(r *admissionv1.AdmissionResponse) bool { return r.Allowed }

	// No ConfigMap yet: Deny names it; the Allow policy stays silent.
	resp := w.Engine.Review(ctx, svc(1))
	if resp.Allowed || !strings.Contains(resp.Result.Message, "acme/port-limit: its params ConfigMap shop/port-limit does not exist (paramsRef.parameterNotFoundAction: Deny)") ||
		strings.Contains(resp.Result.Message, "optional-params") {
		t.Fatalf("without the ConfigMap: allowed=%v %+v", resp.Allowed, resp.Result)
	}
	// A kind the policy does not match is not denied for its missing params.
	cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "shop"}}
	if resp := w.Engine.Review(ctx, review(t, "shop", "ConfigMap", cm)); !resp.Allowed {
		t.Errorf("a ConfigMap was denied for a Service policy's missing params: %+v", resp.Result)
	}

	limits := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "port-limit", Namespace: "shop"},
		Data:       map[string]string{"maxPorts": "1", "message": "shop services expose one port"},
	}
	if limits, err = admin.CoreV1().ConfigMaps("shop").Create(ctx, limits, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	until("after creating the ConfigMap", func() *admissionv1.AdmissionRequest { return svc(2) }, denied("acme/port-limit: has 2 ports; shop services expose one port"))
	if resp := w.Engine.Review(ctx, svc(1)); !resp.Allowed {
		t.Fatalf("one port within the limit: %+v", resp.Result)
	}

	limits.Data = map[string]string{"maxPorts": "2", "message": "at most two"}
	if _, err := admin.CoreV1().ConfigMaps("shop").Update(ctx, limits, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	until("after raising the limit", func() *admissionv1.AdmissionRequest { return svc(2) }, allowed)
	if resp := w.Engine.Review(ctx, svc(3)); resp.Allowed || !strings.Contains(resp.Result.Message, "has 3 ports; at most two") {
		t.Fatalf("three ports over the new limit: allowed=%v %+v", resp.Allowed, resp.Result)
	}

	if err := admin.CoreV1().ConfigMaps("shop").Delete(ctx, "port-limit", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	until("after deleting the ConfigMap", func() *admissionv1.AdmissionRequest { return svc(1) }, denied("its params ConfigMap shop/port-limit does not exist"))
}
