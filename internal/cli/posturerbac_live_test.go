package cli

import (
	"encoding/json"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture/rbac"
)

// TestPostureRBACAndVersionsLive runs who-can and can against a real
// kube-apiserver and checks each answer with a SubjectAccessReview, then
// scans the cluster for its version and an object last applied in a removed
// API version (the rbac package's kubelab test covers the full matrix).
func TestPostureRBACAndVersionsLive(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}))
	must(cs.RbacV1().Roles("shop").Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "secret-reader"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}}},
	}, metav1.CreateOptions{}))
	must(cs.RbacV1().RoleBindings("shop").Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "readers"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "secret-reader"},
		Subjects: []rbacv1.Subject{
			{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "alice"},
			{Kind: "ServiceAccount", Name: "ci", Namespace: "shop"},
			{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "auditors"},
		},
	}, metav1.CreateOptions{}))

	code, out, errOut := run(t, "posture", "who-can", "get", "secrets", "-n", "shop", "-o", "json", "--kubeconfig", c.Kubeconfig)
	if code != ExitOK {
		t.Fatalf("who-can: exit %d: %s", code, errOut)
	}
	var whoCan struct{ Subjects []rbac.Subject }
	if err := json.Unmarshal([]byte(out), &whoCan); err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, s := range whoCan.Subjects {
		named[s.String()] = true
	}
	for _, subject := range []string{"user:alice", "sa:shop:ci", "group:auditors", "user:bob", "group:system:masters"} {
		s, _ := rbac.ParseSubject(subject)
		id := rbac.IdentityOf(s)
		sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: id.Name, Groups: id.Groups,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "shop", Verb: "get", Resource: "secrets"},
		}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if named[subject] != sar.Status.Allowed {
			t.Errorf("who-can names %s: %v; the API server allows it: %v", subject, named[subject], sar.Status.Allowed)
		}
	}

	code, out, errOut = run(t, "posture", "can", "sa:shop:ci", "--dangerous", "-o", "json", "--kubeconfig", c.Kubeconfig)
	if code != ExitOK {
		t.Fatalf("can: exit %d: %s", code, errOut)
	}
	var can struct {
		Rules []struct {
			Dangerous []string
			Binding   rbac.ObjectRef
		}
	}
	if err := json.Unmarshal([]byte(out), &can); err != nil {
		t.Fatal(err)
	}
	if len(can.Rules) != 1 || can.Rules[0].Binding.Name != "readers" || len(can.Rules[0].Dangerous) != 1 || can.Rules[0].Dangerous[0] != "secrets-read" {
		t.Errorf("can sa:shop:ci --dangerous = %s", out)
	}

	// A CronJob last applied as batch/v1beta1: the cluster serves it as
	// batch/v1, the annotation keeps what the manifest said.
	must(cs.BatchV1().CronJobs("shop").Create(ctx, &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "nightly", Annotations: map[string]string{
			"kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"batch/v1beta1","kind":"CronJob","metadata":{"name":"nightly","namespace":"shop"}}`,
		}},
		Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "job", Image: "job:1"}}},
		}}}},
	}, metav1.CreateOptions{}))
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"cluster version is the target", nil, "posture/removed-api shop/CronJob/nightly"},
		{"older target", []string{"--target-version", "1.24"}, "posture/deprecated-api shop/CronJob/nightly"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"posture", "scan", "-o", "json", "--fail-on", "none", "--kubeconfig", c.Kubeconfig}, tc.args...)
			code, out, errOut := run(t, args...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			got := ruleSet(decodeReport(t, out))
			if !got[tc.want] {
				t.Errorf("no finding %q in %v", tc.want, got)
			}
			for k := range got {
				// kubelab runs the newest release: nothing to upgrade.
				if k == "posture/outdated-version /Cluster/kubelab" || k == "posture/end-of-support /Cluster/kubelab" {
					t.Errorf("unexpected version finding %s", k)
				}
			}
		})
	}

	// A table that `db update` saved, newer than the embedded one, where
	// the lab's 1.37 is two minors behind and, at the test clock, past its
	// end of life.
	t.Setenv("PALISADE_CACHE_DIR", t.TempDir())
	if err := writeFileAtomic(versionsTablePath(), []byte(`asOf: 2029-01-10
sources: [test]
distributions:
  upstream:
    - {minor: "1.39", endOfLife: 2030-06-28, latest: 1.39.3}
    - {minor: "1.38", endOfLife: 2029-10-28, latest: 1.38.7}
    - {minor: "1.37", endOfLife: 2026-11-01, latest: 1.37.9}
`)); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, "posture", "scan", "-o", "json", "--fail-on", "none", "--kubeconfig", c.Kubeconfig, "--distribution", "aks")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rep := decodeReport(t, out)
	got := ruleSet(rep)
	for _, want := range []string{"posture/outdated-version /Cluster/kubelab", "posture/end-of-support /Cluster/kubelab"} {
		if !got[want] {
			t.Errorf("no finding %q with the saved table; got %v", want, got)
		}
	}
	for _, f := range rep.Findings {
		if f.RuleID == "posture/end-of-support" && !strings.Contains(f.Message, "upstream 1.37 reached its end of life on 2026-11-01 (versions table as of 2029-01-10)") {
			t.Errorf("end-of-support message: %s", f.Message)
		}
	}
}
