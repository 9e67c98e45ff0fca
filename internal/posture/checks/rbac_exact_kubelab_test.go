package checks_test

import (
	"slices"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// TestRuleWildcardsOnAPIServer asks a real kube-apiserver (a
// SubjectAccessReview per role) which rule shapes let a user exec into
// pods, and checks that rbac-pods-exec from behaviour version 5 reports
// exactly those roles: "pods/*" is a resource of that literal name, not
// every subresource of pods; "*/exec" is a wildcard; verbs and resources
// are case-sensitive. Version 4 read the first and the last as grants, and
// scans pinned to it still do.
func TestRuleWildcardsOnAPIServer(t *testing.T) {
	roles := []struct {
		name  string
		rule  rbacv1.PolicyRule
		execs bool // what the API server answers
	}{
		{"exact", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create", "get"}}, true},
		{"star-exec", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"*/exec"}, Verbs: []string{"create"}}, true},
		{"pods-star", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/*"}, Verbs: []string{"create", "get"}}, false},
		{"upper-verbs", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"CREATE", "GET"}}, false},
		{"upper-resource", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"Pods/Exec"}, Verbs: []string{"create"}}, false},
	}
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	var objs []*kube.Object
	for _, r := range roles {
		role := &rbacv1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: metav1.ObjectMeta{Name: r.name}, Rules: []rbacv1.PolicyRule{r.rule}}
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s: %v", r.name, err)
		}
		binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: r.name},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: r.name},
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: r.name}}}
		if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
			t.Fatalf("bind %s: %v", r.name, err)
		}
		doc, err := yaml.Marshal(role)
		if err != nil {
			t.Fatal(err)
		}
		decoded, err := kube.Decode(ctx, r.name+".yaml", doc, kube.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, decoded...)
	}
	var execs []string
	for _, r := range roles {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: r.name,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "shop", Verb: "create", Resource: "pods", Subresource: "exec"}}}
		got, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.Allowed != r.execs {
			t.Errorf("API server: %s may exec = %v, want %v", r.name, got.Status.Allowed, r.execs)
		}
		if got.Status.Allowed {
			execs = append(execs, r.name)
		}
	}
	reported := func(pin posture.Version) []string {
		t.Helper()
		reg, err := posture.NewRegistry(checks.All(), pin)
		if err != nil {
			t.Fatal(err)
		}
		out, err := posture.NewScanner(reg.Only("rbac-pods-exec"), nil).Scan(ctx, kube.NewInventory(objs), posture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range out.Findings {
			names = append(names, f.Resource.Name)
		}
		slices.Sort(names)
		return names
	}
	slices.Sort(execs)
	if got := reported(posture.Latest); !slices.Equal(got, execs) {
		t.Errorf("rbac-pods-exec reports %q, the API server lets %q exec", got, execs)
	}
	if got, want := reported(4), []string{"exact", "pods-star", "star-exec", "upper-resource", "upper-verbs"}; !slices.Equal(got, want) {
		t.Errorf("pinned to version 4: %q, want %q", got, want)
	}
}
