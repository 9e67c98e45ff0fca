package deploy

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/palisade-sec/palisade/internal/admission"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/policy"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
	"github.com/palisade-sec/palisade/internal/posture/compliance"
)

var rel = release{Name: "palisade", Namespace: "palisade"}

const pinned = "sha256:0f5c5a3c1f2b4e8b7a6d9c0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c"

func decodeChart(t *testing.T, files map[string]string) []*kube.Object {
	t.Helper()
	objs, err := kube.Decode(context.Background(), "chart", []byte(joined(files)), kube.Limits{})
	if err != nil {
		t.Fatalf("decode rendered chart: %v", err)
	}
	return objs
}

func kinds(objs []*kube.Object) []string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.Ref.Kind+"/"+o.Ref.Name)
	}
	slices.Sort(ks)
	return ks
}

func TestChartRenders(t *testing.T) {
	base := []string{
		"ClusterRole/palisade-admission", "ClusterRoleBinding/palisade-admission",
		"ConfigMap/palisade-config", "Deployment/palisade", "NetworkPolicy/default-deny-ingress", "NetworkPolicy/palisade", "NetworkPolicy/palisade-egress",
		"PodDisruptionBudget/palisade", "Role/palisade-policies", "RoleBinding/palisade-policies",
		"Service/palisade", "ServiceAccount/palisade",
	}
	posture := []string{"ClusterRole/palisade-posture-reader", "ClusterRoleBinding/palisade-posture-reader"}
	webhook := []string{"ValidatingWebhookConfiguration/palisade"}
	mutating := []string{"MutatingWebhookConfiguration/palisade"}
	certificate := []string{"Certificate/palisade"}
	tests := []struct {
		name      string
		overrides map[string]any
		want      [][]string
		args      []string // expected among the container's args
		replicas  int32
	}{
		// The default store is SQLite in each pod: replicas would not share
		// scan records, so one replica whatever values.replicas says.
		{"defaults", nil, [][]string{base, posture, webhook}, []string{"serve", "--listen=0.0.0.0:8443"}, 1},
		{"replicas on SQLite", map[string]any{"replicas": 3}, [][]string{base, posture, webhook}, nil, 1},
		{"postgres and external NATS", map[string]any{"store.dsnSecret": "pg", "natsURL": "nats://nats:4222", "image.digest": pinned},
			[][]string{base, posture, webhook}, []string{"--store=$(PALISADE_STORE_DSN)", "--nats-url=nats://nats:4222"}, 2},
		{"replicas on postgres", map[string]any{"store.dsnSecret": "pg", "replicas": 3}, [][]string{base, posture, webhook}, nil, 3},
		{"no posture reader, no webhook", map[string]any{"posture.enabled": false, "webhook.enabled": false}, [][]string{base}, nil, 1},
		{"pin digests", map[string]any{"webhook.pinDigests": true}, [][]string{base, posture, webhook, mutating}, nil, 1},
		{"pin digests, no webhook", map[string]any{"webhook.pinDigests": true, "webhook.enabled": false}, [][]string{base, posture}, nil, 1},
		{"cert-manager", map[string]any{"certManager.issuer": "ca"}, [][]string{base, posture, webhook, certificate}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := decodeChart(t, renderChart(t, rel, tt.overrides))
			want := slices.Concat(tt.want...)
			slices.Sort(want)
			if diff := cmp.Diff(want, kinds(objs)); diff != "" {
				t.Errorf("rendered objects (-want +got):\n%s", diff)
			}
			for _, o := range objs {
				if d, ok := o.Typed.(*appsv1.Deployment); ok && (d.Spec.Replicas == nil || *d.Spec.Replicas != tt.replicas) {
					t.Errorf("replicas %v, want %d", d.Spec.Replicas, tt.replicas)
				}
				w := kube.WorkloadOf(o)
				if w == nil {
					continue
				}
				if !slices.ContainsFunc(w.PodSpec.Containers[0].Env, func(e corev1.EnvVar) bool {
					return e.Name == "POD_NAMESPACE" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace"
				}) {
					t.Error("POD_NAMESPACE is not set from the pod's namespace: serve would not exclude its own namespace")
				}
				if got := w.PodSpec.Containers[0].Args; !containsAll(got, tt.args) {
					t.Errorf("args %q, want to contain %q", got, tt.args)
				}
				if tt.overrides["image.digest"] != nil && !strings.HasSuffix(w.PodSpec.Containers[0].Image, "@"+pinned) {
					t.Errorf("image %s is not pinned by the digest", w.PodSpec.Containers[0].Image)
				}
			}
		})
	}
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// TestChartPassesOwnPosture runs Palisade's posture checks on its own
// chart: the product that tells users to drop capabilities and pin images
// must ship manifests that do.
func TestChartPassesOwnPosture(t *testing.T) {
	objs := decodeChart(t, renderChart(t, rel, map[string]any{"image.digest": pinned}))
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	mapping, err := compliance.Load()
	if err != nil {
		t.Fatal(err)
	}
	out, err := posture.NewScanner(reg, mapping.ControlsOf).Scan(context.Background(), kube.NewInventory(objs), posture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range out.Findings {
		// An excepted finding carries its reason on the object (the single
		// replica of the default SQLite store).
		if f.Open() && f.Severity >= finding.SeverityLow && !acceptedFinding[f.RuleID] {
			t.Errorf("%s %s: %s (%s)", f.Severity, f.RuleID, f.Resource.Name, f.Message)
		}
	}
}

// acceptedFinding lists the posture checks the chart fails on purpose, with
// the reason: each is a property of the target cluster, not of the chart.
var acceptedFinding = map[string]bool{}

// TestChartWebhookMatchesInstall keeps the chart's webhook in step with the
// configuration `palisade admission install` generates for the chart's own
// palisade.yaml: same rules (the workload rules and the rules the enabled
// policies need, webhook.extraRules), timeout, failure policy and excluded
// namespaces.
func TestChartWebhookMatchesInstall(t *testing.T) {
	files := renderChart(t, rel, map[string]any{"webhook.caBundle": "Y2E="})
	var got admissionregistrationv1.ValidatingWebhookConfiguration
	if err := yaml.UnmarshalStrict([]byte(files["webhook.yaml"]), &got); err != nil {
		t.Fatalf("webhook.yaml: %v", err)
	}
	cfg := chartConfig(t)
	ps, err := admission.LoadPolicies(t.Context(), cfg.Admission.Policies, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	extra, _, err := admission.PolicyRules(ps.Policies, admission.BuiltinKinds())
	if err != nil {
		t.Fatal(err)
	}
	want, err := admission.WebhookConfiguration(admission.InstallOptions{
		Service: "palisade/palisade", CABundle: []byte("ca"), ExcludeNamespaces: cfg.Admission.ExcludeNamespaces,
		ExtraRules: extra,
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.Webhooks, got.Webhooks); diff != "" {
		t.Errorf("chart webhook differs from admission install (-install +chart):\n%s", diff)
	}
	if len(extra) == 0 {
		t.Error("the built-in policies need no rule beyond workloads: lp/no-nodeport-loadbalancer judges Services")
	}

	// webhook.pinDigests: the mutating webhook install prints with
	// admission.imageTrust.pinDigests.
	files = renderChart(t, rel, map[string]any{"webhook.caBundle": "Y2E=", "webhook.pinDigests": true})
	var gotM admissionregistrationv1.MutatingWebhookConfiguration
	if err := yaml.UnmarshalStrict([]byte(files["mutatingwebhook.yaml"]), &gotM); err != nil {
		t.Fatalf("mutatingwebhook.yaml: %v", err)
	}
	wantM, err := admission.MutatingWebhookConfiguration(admission.InstallOptions{
		Service: "palisade/palisade", CABundle: []byte("ca"), ExcludeNamespaces: cfg.Admission.ExcludeNamespaces, ExtraRules: extra,
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantM.Webhooks, gotM.Webhooks); diff != "" {
		t.Errorf("chart mutating webhook differs from admission install (-install +chart):\n%s", diff)
	}

	// cert-manager: the same Certificate and inject-ca-from annotation as
	// install --cert-manager-issuer.
	objs := decodeChart(t, renderChart(t, rel, map[string]any{"certManager.issuer": "ca", "certManager.issuerKind": "ClusterIssuer", "webhook.pinDigests": true}))
	ref := admission.ServiceRef{Namespace: rel.Namespace, Name: rel.Name, Port: 443}
	wantCert, err := admission.CertManagerCertificate(ref, "palisade-tls", "ca", "ClusterIssuer")
	if err != nil {
		t.Fatal(err)
	}
	injected := 0
	for _, o := range objs {
		switch o.Ref.Kind {
		case "Certificate":
			u, ok := o.Typed.(*unstructured.Unstructured)
			if !ok {
				t.Fatalf("Certificate decoded as %T", o.Typed)
			}
			if diff := cmp.Diff(wantCert.Object["spec"], u.Object["spec"]); diff != "" {
				t.Errorf("chart Certificate differs from admission install (-install +chart):\n%s", diff)
			}
		case "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration":
			if o.Meta.Annotations[admission.InjectCAFromAnnotation] == ref.Namespace+"/"+wantCert.GetName() {
				injected++
			}
		}
	}
	if injected != 2 {
		t.Errorf("%d of 2 webhook configurations have cert-manager inject the CA of the Certificate", injected)
	}
}

// TestChartServiceMatchesInstall keeps the Service install prints with
// --service in step with the chart's: same selector (the chart's pod
// labels) and ports.
func TestChartServiceMatchesInstall(t *testing.T) {
	var got corev1.Service
	if err := yaml.UnmarshalStrict([]byte(renderChart(t, rel, nil)["service.yaml"]), &got); err != nil {
		t.Fatalf("service.yaml: %v", err)
	}
	want := admission.Service(admission.ServiceRef{Namespace: rel.Namespace, Name: rel.Name, Port: 443})
	if diff := cmp.Diff(want.Spec, got.Spec); diff != "" {
		t.Errorf("chart Service differs from admission install (-install +chart):\n%s", diff)
	}
	var d appsv1.Deployment
	if err := yaml.Unmarshal([]byte(renderChart(t, rel, nil)["deployment.yaml"]), &d); err != nil {
		t.Fatalf("deployment.yaml: %v", err)
	}
	for k, v := range want.Spec.Selector {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("pod label %s=%q, the Service selects %q", k, d.Spec.Template.Labels[k], v)
		}
	}
	if !slices.ContainsFunc(d.Spec.Template.Spec.Containers[0].Ports, func(p corev1.ContainerPort) bool { return p.Name == admission.ServiceTargetPort }) {
		t.Errorf("no container port named %s", admission.ServiceTargetPort)
	}
}

// chartConfig is the palisade.yaml the chart mounts by default.
func chartConfig(t *testing.T) *config.Config {
	t.Helper()
	files := renderChart(t, rel, nil)
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict([]byte(files["configmap.yaml"]), &cm); err != nil {
		t.Fatalf("configmap.yaml: %v", err)
	}
	cfg, err := config.Parse("palisade.yaml", []byte(cm.Data["palisade.yaml"]))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestChartParamsRBACMatchesInstall renders webhook.paramsConfigMaps and
// compares the Roles and RoleBindings with those `palisade admission
// install` prints for the same ConfigMaps: one ConfigMap each, by name.
func TestChartParamsRBACMatchesInstall(t *testing.T) {
	refs := []policy.ConfigMapRef{{Namespace: "palisade", Name: "limits"}, {Namespace: "shop", Name: "registries"}}
	var values []any
	for _, r := range refs {
		values = append(values, map[string]any{"namespace": r.Namespace, "name": r.Name})
	}
	objs := decodeChart(t, renderChart(t, rel, map[string]any{"webhook.paramsConfigMaps": values}))
	want, err := admission.ParamsRBAC(refs, rel.Namespace+"/"+rel.Name)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]runtime.Object{}
	for _, o := range objs {
		byName[o.Ref.Kind+"/"+o.Meta.Namespace+"/"+o.Meta.Name] = o.Typed
	}
	for _, w := range want {
		switch w := w.(type) {
		case *rbacv1.Role:
			got, ok := byName["Role/"+w.Namespace+"/"+w.Name].(*rbacv1.Role)
			if !ok {
				t.Errorf("chart lacks Role %s/%s", w.Namespace, w.Name)
				continue
			}
			if diff := cmp.Diff(w.Rules, got.Rules); diff != "" {
				t.Errorf("Role %s/%s (-install +chart):\n%s", w.Namespace, w.Name, diff)
			}
		case *rbacv1.RoleBinding:
			got, ok := byName["RoleBinding/"+w.Namespace+"/"+w.Name].(*rbacv1.RoleBinding)
			if !ok {
				t.Errorf("chart lacks RoleBinding %s/%s", w.Namespace, w.Name)
				continue
			}
			if diff := cmp.Diff([]any{w.RoleRef, w.Subjects}, []any{got.RoleRef, got.Subjects}); diff != "" {
				t.Errorf("RoleBinding %s/%s (-install +chart):\n%s", w.Namespace, w.Name, diff)
			}
		default:
			t.Fatalf("ParamsRBAC returned a %T", w)
		}
	}
	if n := len(kinds(objs)) - len(kinds(decodeChart(t, renderChart(t, rel, nil)))); n != len(want) {
		t.Errorf("chart added %d objects for %d ConfigMaps, want %d", n, len(refs), len(want))
	}
}

// TestChartOnAPIServer applies the chart to a real kube-apiserver and asks
// the apiserver's own authorizer what the service account may do: what the
// webhook needs, and nothing near Secrets or cluster writes.
func TestChartOnAPIServer(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	kubectl := func(stdin string, args ...string) (string, error) {
		bin, full := c.Kubectl(args...)
		cmd := exec.Command(bin, full...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	for _, ns := range []string{rel.Namespace, "shop"} {
		if out, err := kubectl("", "create", "namespace", ns); err != nil {
			t.Fatalf("create namespace: %v: %s", err, out)
		}
	}
	// The webhook is left out: with failurePolicy Fail and no running
	// Palisade it would deny every pod, which is right but not this test.
	manifests := joined(renderChart(t, rel, map[string]any{
		"image.digest": pinned, "webhook.enabled": false,
		"webhook.paramsConfigMaps": []any{map[string]any{"namespace": "shop", "name": "limits"}},
	}))
	if out, err := kubectl(manifests, "apply", "-f", "-"); err != nil {
		t.Fatalf("apply chart: %v\n%s", err, out)
	}
	webhook := joined(renderChart(t, rel, map[string]any{"webhook.caBundle": "Y2E=", "webhook.pinDigests": true}))
	if out, err := kubectl(webhook, "apply", "--dry-run=server", "-f", "-"); err != nil {
		t.Fatalf("server dry-run of the chart with its webhook: %v\n%s", err, out)
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	sa := "system:serviceaccount:palisade:palisade"
	// Asked as SubjectAccessReviews, so the authorizer answers even for
	// resources whose CRD (PolicyReport) this cluster does not have.
	tests := []struct {
		verb, group, resource, sub, ns string
		want                           bool
		name                           string
	}{
		// The params Role (webhook.paramsConfigMaps) reads one ConfigMap; it
		// grants no write. (With posture.enabled the posture reader may read
		// every ConfigMap anyway; params_kubelab_test checks the params Role
		// alone is enough for the webhook's watch.)
		{"update", "", "configmaps", "", "shop", false, "limits"},
		{"list", "", "namespaces", "", "", true, ""},
		{"watch", "", "namespaces", "", "", true, ""},
		{"create", "wgpolicyk8s.io", "policyreports", "", "shop", true, ""},
		{"list", "", "configmaps", "", "palisade", true, ""},
		{"list", "apps", "deployments", "", "shop", true, ""},
		{"list", "rbac.authorization.k8s.io", "clusterrolebindings", "", "", true, ""},
		{"get", "", "secrets", "", "palisade", false, ""},
		{"list", "", "secrets", "", "", false, ""},
		{"update", "", "configmaps", "", "palisade", false, ""},
		{"create", "", "pods", "", "shop", false, ""},
		{"delete", "apps", "deployments", "", "shop", false, ""},
		{"create", "rbac.authorization.k8s.io", "clusterrolebindings", "", "", false, ""},
		{"create", "", "pods", "exec", "shop", false, ""},
		{"create", "", "serviceaccounts", "token", "palisade", false, ""},
		{"impersonate", "", "users", "", "", false, ""},
	}
	for _, tt := range tests {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   sa,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:palisade", "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Verb: tt.verb, Group: tt.group, Resource: tt.resource, Subresource: tt.sub, Namespace: tt.ns, Name: tt.name,
			},
		}}
		got, err := cs.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), sar, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("SubjectAccessReview: %v", err)
		}
		if got.Status.Allowed != tt.want {
			t.Errorf("%s may %s %s.%s/%s %q in %q: %v, want %v", sa, tt.verb, tt.resource, tt.group, tt.sub, tt.name, tt.ns, got.Status.Allowed, tt.want)
		}
	}
}
