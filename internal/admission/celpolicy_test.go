package admission

import (
	"context"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/policy"
)

// celEngine runs the built-in library with the given IDs in mode, plus
// extra user policies.
func celEngine(t *testing.T, mode policy.Mode, ids []string, extra []*policy.Policy, excs ...config.Exception) *Engine {
	t.Helper()
	ps, err := policy.Load(t.Context(), policy.Selection{Builtin: ids})
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]policy.Mode{}
	for _, p := range ps {
		modes[p.ID] = mode
	}
	ps, err = policy.Select(append(ps, extra...), nil, modes, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Engine{Rules: CELRules(ps, nil), ExcludedNamespaces: []string{"kube-system"}, Exceptions: excs}
}

func privilegedDeployment() *appsv1.Deployment {
	p := privileged(pod("registry.example/shop/web:1.0"))
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec:       appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: p.Spec}},
	}
}

func nodePortService(annotations map[string]string) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Annotations: annotations},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}
}

func TestCELPoliciesThroughEngine(t *testing.T) {
	userPolicy, err := policy.Parse("acme.yaml", []byte(`apiVersion: palisade.dev/v1alpha1
kind: Policy
metadata: {name: acme/no-cluster-admin}
spec:
  mode: enforce
  matchResources: {apiGroups: [rbac.authorization.k8s.io], kinds: [ClusterRoleBinding, RoleBinding]}
  matchConditions:
    - {name: not-platform-team, expression: "!('platform' in request.userInfo.groups)"}
  validations:
    - expression: object.roleRef.name != 'cluster-admin'
      messageExpression: "'binds cluster-admin (dryRun=' + string(request.dryRun) + ')'"
`))
	if err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: "bob-admin"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: "User", Name: "bob"}},
	}
	withUser := func(ar *admissionv1.AdmissionRequest, groups ...string) *admissionv1.AdmissionRequest {
		ar.UserInfo.Username, ar.UserInfo.Groups = "alice", groups
		ar.Kind = metav1.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding"}
		ar.DryRun = new(true)
		return ar
	}
	tests := []struct {
		name      string
		mode      policy.Mode
		ids       []string
		req       *admissionv1.AdmissionRequest
		excepting []config.Exception
		allowed   bool
		wantDeny  string
		wantWarn  string
		wantAudit string // key=value
	}{
		{name: "privileged deployment denied in enforce mode", mode: policy.Enforce, ids: []string{"lp/no-privileged"},
			req: review(t, "shop", "Deployment", privilegedDeployment()), wantDeny: "lp/no-privileged: container c0 (registry.example/shop/web:1.0): sets securityContext.privileged=true"},
		{name: "privileged deployment warned in warn mode", mode: policy.Warn, ids: []string{"lp/no-privileged"},
			req: review(t, "shop", "Deployment", privilegedDeployment()), allowed: true, wantWarn: "lp/no-privileged: container c0"},
		{name: "privileged deployment recorded in audit mode", mode: policy.Audit, ids: []string{"lp/no-privileged"},
			req: review(t, "shop", "Deployment", privilegedDeployment()), allowed: true, wantAudit: "lp.no-privileged-0=lp/no-privileged: container c0"},
		{name: "exception covers the container", mode: policy.Enforce, ids: []string{"lp/no-privileged"},
			req: review(t, "shop", "Deployment", privilegedDeployment()), allowed: true,
			excepting: []config.Exception{{ID: "x1", Owner: "sre", Reason: "node agent", Expires: time.Now().Add(time.Hour), Match: config.Match{Rules: []string{"lp/no-privileged"}, Namespace: "shop"}}}},
		{name: "NodePort service is judged", mode: policy.Enforce, ids: []string{"all"},
			req: review(t, "shop", "Service", nodePortService(nil)), wantDeny: "palisade denied Service shop/web: lp/no-nodeport-loadbalancer: is of type NodePort"},
		{name: "annotated NodePort service is admitted", mode: policy.Enforce, ids: []string{"all"},
			req: review(t, "shop", "Service", nodePortService(map[string]string{"palisade.dev/expose": "true"})), allowed: true},
		{name: "excluded namespace", mode: policy.Enforce, ids: []string{"all"},
			req: review(t, "kube-system", "Service", nodePortService(nil)), allowed: true},
		{name: "user policy on RBAC sees userInfo and dryRun", mode: policy.Enforce,
			req: withUser(review(t, "", "ClusterRoleBinding", binding), "dev"), wantDeny: "acme/no-cluster-admin: binds cluster-admin (dryRun=true)"},
		{name: "user policy exempts a group", mode: policy.Enforce,
			req: withUser(review(t, "", "ClusterRoleBinding", binding), "platform"), allowed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var extra []*policy.Policy
			if tt.ids == nil {
				extra = userPolicy
			}
			resp := celEngine(t, tt.mode, tt.ids, extra, tt.excepting...).Review(t.Context(), tt.req)
			if resp.Allowed != tt.allowed {
				t.Fatalf("allowed = %v, want %v (%+v)", resp.Allowed, tt.allowed, resp.Result)
			}
			if tt.wantDeny != "" && !strings.Contains(resp.Result.Message, tt.wantDeny) {
				t.Errorf("denial %q lacks %q", resp.Result.Message, tt.wantDeny)
			}
			if tt.wantWarn != "" && (len(resp.Warnings) == 0 || !strings.Contains(resp.Warnings[0], tt.wantWarn)) {
				t.Errorf("warnings %q lack %q", resp.Warnings, tt.wantWarn)
			}
			if tt.wantAudit != "" {
				k, v, _ := strings.Cut(tt.wantAudit, "=")
				if !strings.Contains(resp.AuditAnnotations[k], v) {
					t.Errorf("audit annotations %q lack %s", resp.AuditAnnotations, tt.wantAudit)
				}
			}
			if tt.wantWarn == "" && len(resp.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", resp.Warnings)
			}
		})
	}
}

// TestCELUpdateChangedOnly: the built-ins judge only what an UPDATE
// changed, so scaling an already-privileged Deployment is not refused.
func TestCELUpdateChangedOnly(t *testing.T) {
	e := celEngine(t, policy.Enforce, []string{"lp/no-privileged"}, nil)
	old := review(t, "shop", "Deployment", privilegedDeployment())
	scaled := privilegedDeployment()
	scaled.Spec.Replicas = new(int32(5))
	ar := review(t, "shop", "Deployment", scaled)
	ar.Operation, ar.OldObject = admissionv1.Update, old.Object
	if resp := e.Review(t.Context(), ar); !resp.Allowed {
		t.Fatalf("scaling a privileged deployment was denied: %v", resp.Result.Message)
	}
	fixed := privilegedDeployment()
	fixed.Spec.Template.Spec.Containers[0].SecurityContext = nil
	ar = review(t, "shop", "Deployment", privilegedDeployment())
	ar.Operation, ar.OldObject = admissionv1.Update, review(t, "shop", "Deployment", fixed).Object
	if resp := e.Review(t.Context(), ar); resp.Allowed {
		t.Fatal("making a deployment privileged on UPDATE was admitted")
	}
}

// TestCELSkipsKindsNoPolicyJudges: policies whose matchResources cannot
// match the request's kind build nothing for it, not even the namespace
// lookup; a kind one does match still gets both.
func TestCELSkipsKindsNoPolicyJudges(t *testing.T) {
	ps, err := policy.Load(t.Context(), policy.Selection{Builtin: []string{"lp/no-privileged", "lp/no-host-path"}})
	if err != nil {
		t.Fatal(err)
	}
	lookups := 0
	ns := func(context.Context, string) (map[string]any, error) {
		lookups++
		return nil, nil
	}
	e := &Engine{Rules: CELRules(ps, ns)}
	if resp := e.Review(t.Context(), review(t, "shop", "Service", nodePortService(nil))); !resp.Allowed || lookups != 0 {
		t.Fatalf("service: allowed %v, %d namespace lookups; want admitted with none", resp.Allowed, lookups)
	}
	if resp := e.Review(t.Context(), review(t, "shop", "Deployment", privilegedDeployment())); !resp.Allowed || lookups != 1 {
		t.Fatalf("deployment: allowed %v, %d namespace lookups; want admitted (audit) with one", resp.Allowed, lookups)
	}
}

// TestCELFailurePolicy checks spec.failurePolicy: a policy that cannot be
// evaluated (here an unguarded field the object lacks) denies in enforce
// mode by default (Fail) and admits with a warning under Ignore.
func TestCELFailurePolicy(t *testing.T) {
	for _, tt := range []struct {
		failurePolicy string
		allowed       bool
	}{
		{"", false},
		{"Fail", false},
		{"Ignore", true},
	} {
		t.Run("failurePolicy="+tt.failurePolicy, func(t *testing.T) {
			doc := `apiVersion: palisade.dev/v1alpha1
kind: Policy
metadata: {name: acme/needs-owner}
spec:
  mode: enforce
  matchResources: {kinds: [Deployment]}
  validations:
    - expression: object.metadata.labels.owner != ""
      message: names no owner
`
			if tt.failurePolicy != "" {
				doc = strings.Replace(doc, "  mode: enforce\n", "  mode: enforce\n  failurePolicy: "+tt.failurePolicy+"\n", 1)
			}
			ps, err := policy.Parse("acme.yaml", []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			e := &Engine{Rules: CELRules(ps, nil)}
			d := privilegedDeployment()
			d.Spec.Template.Spec.Containers[0].SecurityContext = nil
			resp := e.Review(t.Context(), review(t, "shop", "Deployment", d))
			if resp.Allowed != tt.allowed {
				t.Fatalf("allowed = %v, want %v (%+v)", resp.Allowed, tt.allowed, resp.Result)
			}
			if tt.allowed && (len(resp.Warnings) == 0 || !strings.Contains(resp.Warnings[0], "acme/needs-owner could not be checked")) {
				t.Errorf("warnings %q", resp.Warnings)
			}
			if !tt.allowed && !strings.Contains(resp.Result.Message, "fails closed") {
				t.Errorf("denial %q does not say the policy fails closed", resp.Result.Message)
			}
		})
	}
	if _, err := policy.Parse("bad.yaml", []byte("apiVersion: palisade.dev/v1alpha1\nkind: Policy\nmetadata: {name: acme/x}\nspec:\n  failurePolicy: Sometimes\n  validations: [{expression: 'true'}]\n")); err == nil || !strings.Contains(err.Error(), "bad.yaml:5") {
		t.Errorf("a bad failurePolicy: err = %v, want one naming bad.yaml:5", err)
	}
}
