package admission

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
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

// cmPortLimit is a policy ConfigMap's policy whose params are a ConfigMap
// beside it; PARAMS names that ConfigMap.
const cmPortLimit = `apiVersion: palisade.dev/v1alpha1
kind: Policy
metadata: {name: acme/cm-port-limit}
spec:
  mode: enforce
  paramsRef: {namespace: palisade, name: PARAMS}
  matchResources: {apiGroups: [""], kinds: [Service]}
  validations:
    - expression: size(object.spec.ports) <= int(params.maxPorts)
      messageExpression: "'has ' + string(size(object.spec.ports)) + ' ports; ' + params.message"
`

// cmElsewhere names params in a namespace other than its policy
// ConfigMap's: refused.
const cmElsewhere = `apiVersion: palisade.dev/v1alpha1
kind: Policy
metadata: {name: acme/cm-elsewhere}
spec:
  mode: enforce
  paramsRef: {namespace: shop, name: secrets-of-shop}
  matchResources: {apiGroups: [""], kinds: [Service]}
  validations:
    - expression: "true"
      messageExpression: params.password
`

// TestConfigMapPolicyParams runs a policy of a policy ConfigMap whose
// paramsRef names a ConfigMap, through a real API server that calls the
// webhook, with the webhook reading ConfigMaps as its service account
// with the chart's RBAC (ConfigMaps of its own namespace): creating,
// editing and deleting the params ConfigMap changes the decisions; a
// policy change stops the watch of params no longer named; params outside
// the policy ConfigMap's namespace are refused, naming why.
func TestConfigMapPolicyParams(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	admin := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	for _, ns := range []string{"palisade", "shop"} {
		if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The chart's Role: get, list and watch ConfigMaps in Palisade's own
	// namespace, and nowhere else.
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "palisade-policies", Namespace: "palisade"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "watch"}}},
	}
	if _, err := admin.RbacV1().Roles("palisade").Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "palisade-policies", Namespace: "palisade"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "palisade-policies"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "palisade", Name: "palisade"}},
	}
	if _, err := admin.RbacV1().RoleBindings("palisade").Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	policies := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "policies", Namespace: "palisade"},
		Data:       map[string]string{"ports.yaml": strings.Replace(cmPortLimit, "PARAMS", "port-limit", 1)},
	}
	if _, err := admin.CoreV1().ConfigMaps("palisade").Create(ctx, policies, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	asWebhook := rest.CopyConfig(c.Config)
	asWebhook.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:palisade:palisade", Groups: []string{"system:serviceaccounts", "system:authenticated"}}
	webhook := kubernetes.NewForConfigOrDie(asWebhook)
	params := policy.NewParamsWatcher(webhook, 0, nil)
	defer params.Close()
	cfg := config.Default()
	cfg.Admission.Policies = config.Policies{Builtin: []string{}, ConfigMaps: []config.ConfigMapRef{{Namespace: "palisade", Name: "policies"}}}
	w, err := Build(cfg, Deps{Kube: webhook, ConfigMapParams: params})
	if err != nil {
		t.Fatal(err)
	}
	var src *CELSource
	for _, r := range w.Engine.Rules {
		if s, ok := r.Policy.(*CELSource); ok {
			src = s
		}
	}
	url, ca := serveWebhook(t, w.Engine)
	vwc, err := WebhookConfiguration(InstallOptions{
		URL: url, CABundle: ca, ExcludeNamespaces: []string{"kube-system", "palisade"},
		ExtraRules: []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"*"}, Resources: []string{"services"}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, vwc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	services := 0
	create := func(ports int) error {
		services++
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d", services), Namespace: "shop"}}
		for i := range ports {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: fmt.Sprintf("p%d", i), Port: int32(80 + i)})
		}
		_, err := admin.CoreV1().Services("shop").Create(ctx, s, metav1.CreateOptions{})
		return err
	}
	// until waits for a create's outcome to satisfy ok: the API server
	// loads the webhook configuration, and the watch delivers edits,
	// asynchronously.
	until := func(what string, ports int, ok func(error) bool) {
		t.Helper()
		var last error
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
			last = create(ports)
			return ok(last), nil
		})
		if err != nil {
			t.Fatalf("%s: last create of %d ports: %v", what, ports, last)
		}
	}
	denied := func(text string) func(error) bool {
		return func(err error) bool { return err != nil && strings.Contains(err.Error(), text) }
	}
	allowed := func(err error) bool { return err == nil }

	// No params ConfigMap yet: parameterNotFoundAction defaults to Deny.
	until("without the params ConfigMap", 1, denied("acme/cm-port-limit: its params ConfigMap palisade/port-limit does not exist (paramsRef.parameterNotFoundAction: Deny)"))

	limits := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "port-limit", Namespace: "palisade"},
		Data:       map[string]string{"maxPorts": "1", "message": "shop services expose one port"},
	}
	if limits, err = admin.CoreV1().ConfigMaps("palisade").Create(ctx, limits, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	until("after creating the params", 2, denied("acme/cm-port-limit: has 2 ports; shop services expose one port"))
	if err := create(1); err != nil {
		t.Fatalf("one port within the limit: %v", err)
	}

	limits.Data = map[string]string{"maxPorts": "2", "message": "at most two"}
	if _, err := admin.CoreV1().ConfigMaps("palisade").Update(ctx, limits, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	until("after raising the limit", 2, allowed)
	if err := create(3); err == nil || !strings.Contains(err.Error(), "has 3 ports; at most two") {
		t.Fatalf("three ports over the new limit: %v", err)
	}

	if err := admin.CoreV1().ConfigMaps("palisade").Delete(ctx, "port-limit", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	until("after deleting the params", 1, denied("its params ConfigMap palisade/port-limit does not exist"))
	if got := params.Watched(); !slices.Equal(got, []policy.ConfigMapRef{{Namespace: "palisade", Name: "port-limit"}}) {
		t.Fatalf("watched %v", got)
	}

	// The policy now names other params, optional: the old watch stops.
	policies.Data["ports.yaml"] = strings.Replace(strings.Replace(cmPortLimit, "PARAMS", "port-limit-v2", 1), "name: port-limit-v2}", "name: port-limit-v2, parameterNotFoundAction: Allow}", 1)
	if policies, err = admin.CoreV1().ConfigMaps("palisade").Update(ctx, policies, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := src.Source.Refresh(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := create(5); err != nil {
		t.Fatalf("optional params that do not exist: %v", err)
	}
	if got := params.Watched(); !slices.Equal(got, []policy.ConfigMapRef{{Namespace: "palisade", Name: "port-limit-v2"}}) {
		t.Fatalf("after the policy change: watched %v", got)
	}

	// Params in another namespace are refused before any read: the
	// webhook must not read (and echo) ConfigMaps of namespaces whose
	// owners did not write the policy.
	policies.Data["elsewhere.yaml"] = cmElsewhere
	if _, err := admin.CoreV1().ConfigMaps("palisade").Update(ctx, policies, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := src.Source.Refresh(ctx, true); err != nil {
		t.Fatal(err)
	}
	err = create(1)
	if err == nil || !strings.Contains(err.Error(), "acme/cm-elsewhere: its paramsRef shop/secrets-of-shop is outside namespace palisade of its policy ConfigMap palisade/policies; params of ConfigMap policies must be ConfigMaps in that namespace") {
		t.Fatalf("params in another namespace: %v", err)
	}
	if got := params.Watched(); slices.Contains(got, policy.ConfigMapRef{Namespace: "shop", Name: "secrets-of-shop"}) {
		t.Fatalf("the refused ref is watched: %v", got)
	}
}
