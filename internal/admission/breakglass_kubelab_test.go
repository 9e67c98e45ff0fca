package admission

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/palisade-sec/palisade/internal/kubelab"
)

// ownerTTL is how long the test's webhook caches owners: long enough for
// "lookups are cached", short enough to wait out.
const ownerTTL = 2 * time.Second

// controllerSA is the user a kube-controller-manager controller sends
// requests as (with --use-service-account-credentials, the default of
// kubeadm and managed clusters).
func controllerSA(name string) string { return "system:serviceaccount:kube-system:" + name }

// TestBreakGlassThroughControllers runs break-glass behind a real
// kube-apiserver. kubelab runs no kube-controller-manager, so the test
// sends the controllers' requests itself, impersonating their service
// accounts: the API server then hands the webhook the same userInfo a real
// controller would get, and authorizes the request with the controller's
// bootstrap RBAC role. The webhook reads owners as the chart's service
// account, with the chart's RBAC rules.
func TestBreakGlassThroughControllers(t *testing.T) {
	l := newLab(t)
	other := l.Push(t, "shop/api:2.0", "pass", time.Now())
	var logs syncBuffer
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	e := l.engine(t, Enforce)
	e.BreakGlassGroups, e.Metrics, e.Logger = []string{"sre"}, m, slog.New(slog.NewJSONHandler(&logs, nil))
	c, admin := startWithWebhook(t, func(c *kubelab.Cluster) Reviewer {
		oc := rest.CopyConfig(c.Config)
		oc.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:palisade:palisade"}
		oc.Timeout = OwnerLookupTimeout
		e.Owners = NewOwnerLookup(kubernetes.NewForConfigOrDie(oc), 64, ownerTTL)
		e.Owners.Metrics = m
		return e
	}, "shop")
	ctx := t.Context()
	grantRBAC(t, admin)

	alice, aliceWarns := as(t, c, "alice", "sre")
	bob, _ := as(t, c, "bob", "dev")
	deployCtl, deployWarns := as(t, c, controllerSA("deployment-controller"))
	rsCtl, rsWarns := as(t, c, controllerSA("replicaset-controller"))
	cronCtl, _ := as(t, c, controllerSA("cronjob-controller"))
	jobCtl, jobWarns := as(t, c, controllerSA("job-controller"))
	// RBAC bindings reach the authorizer's cache with a lag.
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		_, err1 := bob.AppsV1().Deployments("shop").List(ctx, metav1.ListOptions{})
		_, err2 := e.Owners.client.AppsV1().Deployments("shop").Get(ctx, "none", metav1.GetOptions{})
		return err1 == nil && err2 != nil && strings.Contains(err2.Error(), "not found"), nil
	})
	if err != nil {
		t.Fatal("the test's RBAC never took effect")
	}

	const reason = "INC-7 payments down"
	tpl := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}, Annotations: map[string]string{BreakGlassAnnotation: reason}},
		Spec:       privileged(pod(l.Good)).Spec,
	}
	deployment := func(name string) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, Template: *tpl.DeepCopy()}}
	}

	// The admin's Deployment is admitted by break-glass …
	web, err := alice.AppsV1().Deployments("shop").Create(ctx, deployment("web"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("admin's break-glass Deployment denied: %v", err)
	}
	aliceWarns.want(t, "palisade: break-glass admitted despite admission/pod-security-baseline")
	// … the deployment controller's ReplicaSet inherits it …
	rsTpl := *web.Spec.Template.DeepCopy()
	rsTpl.Labels["pod-template-hash"] = "6d4"
	rs, err := deployCtl.AppsV1().ReplicaSets("shop").Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-6d4", Labels: rsTpl.Labels, OwnerReferences: []metav1.OwnerReference{controllerRef("apps/v1", "Deployment", web.Name, web.UID)}},
		Spec:       appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: rsTpl.Labels}, Template: rsTpl},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("the deployment controller's ReplicaSet denied: %v", err)
	}
	deployWarns.want(t, "palisade: break-glass (inherited from Deployment/web) admitted")
	// … and so do the replicaset controller's pods.
	rsRef := controllerRef("apps/v1", "ReplicaSet", rs.Name, rs.UID)
	fromRS := func(name string, images ...string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: *rs.Spec.Template.ObjectMeta.DeepCopy(), Spec: *rs.Spec.Template.Spec.DeepCopy()}
		p.Name, p.OwnerReferences = name, []metav1.OwnerReference{rsRef}
		for i, img := range images {
			p.Spec.Containers[i].Image = img
		}
		return p
	}
	if _, err := rsCtl.CoreV1().Pods("shop").Create(ctx, fromRS("web-6d4-a"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("the replicaset controller's pod denied: %v", err)
	}
	rsWarns.want(t, "palisade: break-glass (inherited from ReplicaSet/web-6d4 <- Deployment/web) admitted")

	// Pod → Job → CronJob.
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "nightly"}, Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *",
		JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: *tpl.DeepCopy()}}}}
	cj.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
	cj, err = alice.BatchV1().CronJobs("shop").Create(ctx, cj, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("admin's break-glass CronJob denied: %v", err)
	}
	job, err := cronCtl.BatchV1().Jobs("shop").Create(ctx, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "nightly-1", OwnerReferences: []metav1.OwnerReference{controllerRef("batch/v1", "CronJob", cj.Name, cj.UID)}},
		Spec:       *cj.Spec.JobTemplate.Spec.DeepCopy(),
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("the cronjob controller's Job denied: %v", err)
	}
	jobPod := &corev1.Pod{ObjectMeta: *job.Spec.Template.ObjectMeta.DeepCopy(), Spec: *job.Spec.Template.Spec.DeepCopy()}
	jobPod.Name, jobPod.OwnerReferences = "nightly-1-x", []metav1.OwnerReference{controllerRef("batch/v1", "Job", job.Name, job.UID)}
	if _, err := jobCtl.CoreV1().Pods("shop").Create(ctx, jobPod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("the job controller's pod denied: %v", err)
	}
	jobWarns.want(t, "inherited from Job/nightly-1 <- CronJob/nightly")
	if got := value(t, m.exceptions.WithLabelValues("break_glass_inherited")); got != 4 {
		t.Errorf(`exceptions_total{kind="break_glass_inherited"} = %v, want 4`, got)
	}

	forged := fromRS("forged")
	wrongUID := fromRS("wrong-uid")
	wrongUID.OwnerReferences[0].UID = types.UID("00000000-0000-0000-0000-000000000000")
	ghost := fromRS("ghost")
	ghost.OwnerReferences[0].Name = "web-gone"
	tests := []struct {
		name     string
		create   func() error
		wantDeny string
	}{
		{"the same Deployment by a non-admin", func() error {
			_, err := bob.AppsV1().Deployments("shop").Create(ctx, deployment("web-bob"), metav1.CreateOptions{})
			return err
		}, "may be set only by a break-glass group (bob is in none)"},
		{"a user's pod with a forged ownerReference", func() error {
			_, err := bob.CoreV1().Pods("shop").Create(ctx, forged, metav1.CreateOptions{})
			return err
		}, "privileged"},
		{"a controller's pod whose image is not the template's", func() error {
			_, err := rsCtl.CoreV1().Pods("shop").Create(ctx, fromRS("other-image", other), metav1.CreateOptions{})
			return err
		}, "break-glass not inherited: the object is not its owner's template: container c0 runs " + other},
		{"an owner re-created under the same name", func() error {
			_, err := rsCtl.CoreV1().Pods("shop").Create(ctx, wrongUID, metav1.CreateOptions{})
			return err
		}, "not the 00000000-0000-0000-0000-000000000000 its ownerReference names"},
		{"an owner that does not exist", func() error {
			_, err := rsCtl.CoreV1().Pods("shop").Create(ctx, ghost, metav1.CreateOptions{})
			return err
		}, "ReplicaSet shop/web-gone does not exist"},
		{"a controller creating for another kind of owner", func() error {
			_, err := jobCtl.CoreV1().Pods("shop").Create(ctx, fromRS("wrong-controller"), metav1.CreateOptions{})
			return err
		}, "job-controller does not create objects owned by a ReplicaSet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.create(); err == nil || !strings.Contains(err.Error(), tt.wantDeny) {
				t.Fatalf("err = %v, want a denial containing %q", err, tt.wantDeny)
			}
		})
	}

	t.Run("updates", func(t *testing.T) {
		// A non-admin's metadata update of the break-glass Deployment
		// passes: its pod spec is unchanged, so nothing is judged again
		// (as the built-in PodSecurity admission does). A change of its
		// template is judged without break-glass.
		d, err := bob.AppsV1().Deployments("shop").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		d.Labels = map[string]string{"touched": "bob"}
		if d, err = bob.AppsV1().Deployments("shop").Update(ctx, d, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("non-admin metadata update of a break-glass Deployment: %v", err)
		}
		d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "DEBUG", Value: "1"}}
		if _, err := bob.AppsV1().Deployments("shop").Update(ctx, d, metav1.UpdateOptions{}); err == nil || !strings.Contains(err.Error(), "privileged") {
			t.Errorf("non-admin template change of a break-glass Deployment: err = %v, want a pod security denial", err)
		}
		// The same change by the admin passes.
		if _, err := alice.AppsV1().Deployments("shop").Update(ctx, d, metav1.UpdateOptions{}); err != nil {
			t.Errorf("admin update of a break-glass Deployment: %v", err)
		}
		// A compliant template: a non-admin cannot add the annotation,
		// which controllers would inherit later …
		calm := deployment("calm")
		calm.Spec.Template.Spec = pod(l.Good).Spec
		delete(calm.Spec.Template.Annotations, BreakGlassAnnotation)
		calm, err = bob.AppsV1().Deployments("shop").Create(ctx, calm, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		calm.Spec.Template.Annotations = map[string]string{BreakGlassAnnotation: "just in case"}
		if _, err := bob.AppsV1().Deployments("shop").Update(ctx, calm, metav1.UpdateOptions{}); err == nil || !strings.Contains(err.Error(), "may be set only by a break-glass group") {
			t.Errorf("non-admin adding break-glass to a compliant template: err = %v", err)
		}
		// … nor change the template of one the admin annotated; metadata
		// updates (labels, finalizers, ownerReferences) pass.
		calm.Spec.Template.Annotations[BreakGlassAnnotation] = reason
		if calm, err = alice.AppsV1().Deployments("shop").Update(ctx, calm, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("admin annotating a compliant template: %v", err)
		}
		calm.Labels = map[string]string{"touched": "bob"}
		if calm, err = bob.AppsV1().Deployments("shop").Update(ctx, calm, metav1.UpdateOptions{}); err != nil {
			t.Errorf("non-admin metadata update of an annotated compliant Deployment: %v", err)
		}
		calm.Spec.Template.Spec.Containers[0].Image = other
		if _, err := bob.AppsV1().Deployments("shop").Update(ctx, calm, metav1.UpdateOptions{}); err == nil || !strings.Contains(err.Error(), "may be set only by a break-glass group") {
			t.Errorf("non-admin changing an annotated template: err = %v", err)
		}
		// Controllers update what they created (scaling, labels) as long
		// as the images stay.
		rs, err := rsCtl.AppsV1().ReplicaSets("shop").Get(ctx, "web-6d4", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rs.Spec.Replicas = new(int32(3))
		if rs, err = deployCtl.AppsV1().ReplicaSets("shop").Update(ctx, rs, metav1.UpdateOptions{}); err != nil {
			t.Errorf("the deployment controller scaling its ReplicaSet: %v", err)
		}
		rs.Spec.Template.Spec.Containers[0].Image = other
		if _, err := deployCtl.AppsV1().ReplicaSets("shop").Update(ctx, rs, metav1.UpdateOptions{}); err == nil || !strings.Contains(err.Error(), "the update changes images: container c0 runs "+other) {
			t.Errorf("a controller changing images: err = %v", err)
		}
	})

	t.Run("lookups are cached", func(t *testing.T) {
		before := value(t, m.cache.WithLabelValues("owner", "miss"))
		for _, name := range []string{"web-6d4-b", "web-6d4-c"} {
			if _, err := rsCtl.CoreV1().Pods("shop").Create(ctx, fromRS(name), metav1.CreateOptions{}); err != nil {
				t.Fatalf("pod %s denied: %v", name, err)
			}
		}
		if got := value(t, m.cache.WithLabelValues("owner", "miss")) - before; got != 0 {
			t.Errorf("two more pods of a known ReplicaSet made %v owner lookups", got)
		}
	})

	t.Run("after the incident", func(t *testing.T) {
		// The admin fixes the Deployment and removes the annotation. The
		// deployment controller may still scale the old ReplicaSet down …
		d, err := alice.AppsV1().Deployments("shop").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		d.Spec.Template.Spec, d.Spec.Template.Annotations = pod(l.Good).Spec, nil
		if _, err := alice.AppsV1().Deployments("shop").Update(ctx, d, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("admin's fix: %v", err)
		}
		old, err := deployCtl.AppsV1().ReplicaSets("shop").Get(ctx, "web-6d4", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		old.Spec.Replicas = new(int32(0))
		if _, err := deployCtl.AppsV1().ReplicaSets("shop").Update(ctx, old, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("scaling the old ReplicaSet down: %v", err)
		}
		// (Its pod spec is unchanged, so nothing is judged: no
		// break-glass is needed for it.)
		// … but no new pod inherits from it once the cached owner expires.
		time.Sleep(ownerTTL)
		_, err = rsCtl.CoreV1().Pods("shop").Create(ctx, fromRS("web-6d4-late"), metav1.CreateOptions{})
		if want := "the pod template of Deployment shop/web does not carry " + BreakGlassAnnotation; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want a denial containing %q", err, want)
		}
	})

	if s := logs.String(); !strings.Contains(s, `"msg":"break-glass used"`) || !strings.Contains(s, `"inherited_from":"ReplicaSet/web-6d4 <- Deployment/web"`) {
		t.Errorf("inherited break-glass not logged:\n%s", s)
	}
}

// controllerRef is the ownerReference a controller sets on what it creates.
func controllerRef(apiVersion, kind, name string, uid types.UID) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid, Controller: new(true), BlockOwnerDeletion: new(true)}
}

// grantRBAC lets groups sre and dev manage workloads in namespace shop, and
// gives the webhook's service account the chart's owner-lookup rules.
func grantRBAC(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	ctx := t.Context()
	workloads := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "create", "update"}},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments", "replicasets"}, Verbs: []string{"get", "list", "create", "update"}},
		{APIGroups: []string{"batch"}, Resources: []string{"jobs", "cronjobs"}, Verbs: []string{"get", "list", "create", "update"}},
	}
	// The rules of deploy/helm/palisade/templates/rbac.yaml for owner lookups.
	owners := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"replicationcontrollers"}, Verbs: []string{"get"}},
		{APIGroups: []string{"apps"}, Resources: []string{"replicasets", "deployments", "statefulsets", "daemonsets"}, Verbs: []string{"get"}},
		{APIGroups: []string{"batch"}, Resources: []string{"jobs", "cronjobs"}, Verbs: []string{"get"}},
	}
	for name, rules := range map[string][]rbacv1.PolicyRule{"workloads": workloads, "owners": owners} {
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs.RbacV1().RoleBindings("shop").Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "workloads"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "workloads"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "sre"}, {Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "dev"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "owners"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "owners"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "palisade", Namespace: "palisade"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// as returns a client that impersonates user in groups (a service account
// when user is one: the API server adds its groups), and the warnings the
// API server returns to it — the channel kubectl prints.
func as(t *testing.T, c *kubelab.Cluster, user string, groups ...string) (*kubernetes.Clientset, *warnings) {
	t.Helper()
	cfg := rest.CopyConfig(c.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	w := &warnings{}
	cfg.WarningHandler = w
	return kubernetes.NewForConfigOrDie(cfg), w
}

// warnings records the warnings of a client's responses.
type warnings struct {
	mu   sync.Mutex
	seen []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, text)
}

// want fails t unless a warning received so far contains s.
func (w *warnings) want(t *testing.T, s string) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, x := range w.seen {
		if strings.Contains(x, s) {
			return
		}
	}
	t.Errorf("no warning contains %q; got %q", s, w.seen)
}
