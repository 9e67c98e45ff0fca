package checks_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// TestAvailabilityFixturesLive puts the fixtures of the reliability checks
// on a real kube-apiserver, which defaults replicas, an HPA's minReplicas
// and pull policies, and checks that a live scan gives the manifests'
// verdicts. The restart policies and strategy types restart-policy and
// rollout-strategy call refused are refused there, each one.
func TestAvailabilityFixturesLive(t *testing.T) {
	ids := []string{"replicas", "pod-disruption-budget", "pod-spread", "restart-policy", "image-pull-policy", "bare-pod", "rollout-strategy"}
	fl := startFixtureLab(t)
	fl.addFixtures(ids)
	fl.match(ids, posture.Latest)

	inv, err := kube.Load(t.Context(), []string{
		filepath.Join("testdata", "restart_policy", "fail", "refused.yaml"),
		filepath.Join("testdata", "rollout_strategy", "fail", "refused.yaml"),
	}, nil, kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range inv.Objects {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o.Typed)
		if err != nil {
			t.Fatal(err)
		}
		obj := &unstructured.Unstructured{Object: u}
		obj.SetAPIVersion(o.Ref.APIVersion)
		obj.SetKind(o.Ref.Kind)
		obj.SetNamespace("default")
		m, err := fl.lf.mapper.RESTMapping(obj.GroupVersionKind().GroupKind(), obj.GroupVersionKind().Version)
		if err != nil {
			t.Fatal(err)
		}
		_, err = fl.lf.dyn.Resource(m.Resource).Namespace("default").Create(t.Context(), obj, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "restartPolicy") && !strings.Contains(err.Error(), "spec.strategy") {
			t.Errorf("%s: the API server answered %v, want a refusal naming restartPolicy or spec.strategy", o.Ref, err)
		}
	}
}

// TestPriorityClassLive checks what priority-class rests on against a real
// API server: it refuses a pod naming a class that does not exist, but
// stores a Deployment that does (its ReplicaSet's pods are then refused),
// which a live scan reports until the class is created; a globalDefault
// class covers pods that name none.
func TestPriorityClassLive(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	spec := corev1.PodSpec{PriorityClassName: "tier-one", Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/app:1"}}}
	_, err := cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: spec}, metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "tier-one") {
		t.Fatalf("pod with an undefined priority class: %v, want a refusal naming it", err)
	}
	labels := map[string]string{"app": "web"}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
	}}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatalf("the API server refuses a Deployment naming an undefined class: %v", err)
	}
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	scan := func() []string {
		inv, missing, err := kube.ListCluster(ctx, c.Config, "lab", 0)
		if err != nil || len(missing) > 0 {
			t.Fatalf("list cluster: %v %v", err, missing)
		}
		out, err := posture.NewScanner(reg.Only("priority-class"), nil).Scan(ctx, inv, posture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range out.Findings {
			if f.Resource.Namespace == "default" {
				got = append(got, f.Resource.Kind+"/"+f.Resource.Name+" "+allEvidence(f))
			}
		}
		slices.Sort(got)
		return got
	}
	if got, want := scan(), []string{"Deployment/web problem=undefined priorityClassName=tier-one"}; !slices.Equal(got, want) {
		t.Errorf("before the class exists: %q, want %q", got, want)
	}
	for _, pc := range []*schedulingv1.PriorityClass{
		{ObjectMeta: metav1.ObjectMeta{Name: "tier-one"}, Value: 1000},
		{ObjectMeta: metav1.ObjectMeta{Name: "standard"}, Value: 100, GlobalDefault: true},
	} {
		if _, err := cs.SchedulingV1().PriorityClasses().Create(ctx, pc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare"}, Spec: corev1.PodSpec{Containers: spec.Containers}}
	// The Priority admission plugin reads classes from an informer, which
	// sees a new class a moment after it is stored: dry runs (admitted,
	// not stored) until it does, for up to 10 s.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		dry, err := cs.CoreV1().Pods("default").Create(ctx, bare, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			t.Fatal(err)
		}
		if dry.Spec.PriorityClassName != "" {
			break
		}
	}
	stored, err := cs.CoreV1().Pods("default").Create(ctx, bare, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if stored.Spec.PriorityClassName != "standard" {
		t.Errorf("a pod naming no class got %q, want the globalDefault class", stored.Spec.PriorityClassName)
	}
	if got := scan(); len(got) != 0 {
		t.Errorf("after the classes exist: %q, want none", got)
	}
}
