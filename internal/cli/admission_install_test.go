package cli

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/admission"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/policy"
)

const widgetPolicy = `apiVersion: palisade.dev/v1alpha1
kind: Policy
metadata: {name: acme/widgets}
spec:
  matchResources: {apiGroups: [example.com], kinds: [Widget]}
  validations: [{expression: "true"}]
`

const limitPolicy = `apiVersion: palisade.dev/v1alpha1
kind: Policy
metadata: {name: acme/port-limit}
spec:
  paramsRef: {namespace: shop, name: port-limit}
  matchResources: {kinds: [Service, ClusterRoleBinding]}
  validations: [{expression: "size(object.spec.ports) <= int(params.maxPorts)"}]
`

// installFixture writes a CA file and a palisade.yaml enabling the policy
// file doc, and returns their paths.
func installFixture(t *testing.T, doc string) (ca, cfg string) {
	t.Helper()
	dir := t.TempDir()
	ca = filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg = filepath.Join(dir, "palisade.yaml")
	if err := os.WriteFile(cfg, []byte("admission:\n  policies:\n    files: [p.yaml]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return ca, cfg
}

func TestAdmissionInstallPolicyRules(t *testing.T) {
	ca, cfg := installFixture(t, limitPolicy)
	code, out, errOut := run(t, "admission", "install", "--config", cfg, "--service", "palisade/palisade:8443", "--ca-file", ca)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"    - services\n", "    - clusterrolebindings\n", "  - rbac.authorization.k8s.io\n",
		"kind: Role\n", "  name: palisade-params-port-limit\n  namespace: shop\n", "  - port-limit\n", "kind: RoleBinding\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Without a Service there is no identity to grant: a warning says so.
	code, out, errOut = run(t, "admission", "install", "--config", cfg, "--url", "https://palisade.example", "--ca-file", ca)
	if code != ExitOK || strings.Contains(out, "kind: Role") || !strings.Contains(errOut, "give --service-account") {
		t.Errorf("--url without --service-account: exit %d\n%s\n%s", code, out, errOut)
	}

	ca, cfg = installFixture(t, widgetPolicy)
	code, _, errOut = run(t, "admission", "install", "--config", cfg, "--service", "palisade/palisade", "--ca-file", ca)
	if code != ExitUsage || !strings.Contains(errOut, `policy acme/widgets`) || !strings.Contains(errOut, "--kubeconfig") {
		t.Errorf("unknown kind offline: exit %d, stderr %s", code, errOut)
	}
	if code, _, errOut := run(t, "admission", "install", "--apply", "--service", "palisade/palisade", "--ca-file", ca); code != ExitUsage || !strings.Contains(errOut, "--apply needs --kubeconfig") {
		t.Errorf("--apply without a cluster: exit %d, stderr %s", code, errOut)
	}
}

// TestAdmissionInstallApply applies the configurations to a real API
// server: rules mapped with its discovery, RBAC for the params ConfigMap,
// and a second apply updates rather than fails. Then serve's wiring
// watches the params ConfigMap the same policy names.
func TestAdmissionInstallApply(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ca, cfg := installFixture(t, limitPolicy)
	limitsCfg := cfg
	args := []string{"admission", "install", "--config", cfg, "--kubeconfig", c.Kubeconfig, "--apply", "--url", "https://127.0.0.1:1", "--service-account", "palisade/palisade", "--ca-file", ca}
	for range 2 {
		code, out, errOut := run(t, args...)
		if code != ExitOK || !strings.Contains(errOut, "validatingwebhookconfiguration/palisade applied") || !strings.Contains(errOut, "role/shop/palisade-params-port-limit applied") {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
	}
	vwc, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, "palisade", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var resources []string
	for _, r := range vwc.Webhooks[0].Rules {
		resources = append(resources, r.Resources...)
	}
	if got := strings.Join(resources, ","); !strings.Contains(got, "services") || !strings.Contains(got, "clusterrolebindings") {
		t.Errorf("applied rules cover %s", got)
	}
	role, err := cs.RbacV1().Roles("shop").Get(ctx, "palisade-params-port-limit", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if names := role.Rules[0].ResourceNames; len(names) != 1 || names[0] != "port-limit" {
		t.Errorf("role resourceNames %q", names)
	}
	// The widget kind is not served by this cluster: discovery says so.
	ca, cfg = installFixture(t, widgetPolicy)
	code, _, errOut := run(t, "admission", "install", "--config", cfg, "--kubeconfig", c.Kubeconfig, "--url", "https://127.0.0.1:1", "--ca-file", ca)
	if code != ExitUsage || !strings.Contains(errOut, "not served by the cluster") {
		t.Errorf("unknown kind with discovery: exit %d, stderr %s", code, errOut)
	}

	// serve watches the ConfigMap the policy names, live.
	conf, err := config.Load(limitsCfg)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	lookup := policy.NewParamsWatcher(cs, 0, logger)
	t.Cleanup(lookup.Close)
	w, err := admission.Build(conf, admission.Deps{Params: lookup})
	if err != nil {
		t.Fatal(err)
	}
	if err := watchParams(ctx, w.Engine.Rules, lookup); err != nil {
		t.Fatal(err)
	}
	ref := policy.ConfigMapRef{Namespace: "shop", Name: "port-limit"}
	if _, found, err := lookup.Params(ref); err != nil || found {
		t.Fatalf("before the ConfigMap exists: found=%v err=%v", found, err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "port-limit"}, Data: map[string]string{"maxPorts": "2"}}
	if _, err := cs.CoreV1().ConfigMaps("shop").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		p, found, err := lookup.Params(ref)
		return err == nil && found && p["maxPorts"] == "2", nil
	})
	if err != nil {
		t.Fatal("serve never saw the params ConfigMap")
	}
	none, err := admission.Build(config.Default(), admission.Deps{Params: lookup})
	if err != nil {
		t.Fatal(err)
	}
	if err := watchParams(ctx, none.Engine.Rules, lookup); err != nil || len(lookup.Watched()) != 1 {
		t.Errorf("without paramsRef policies: watching %v, %v", lookup.Watched(), err)
	}
}
