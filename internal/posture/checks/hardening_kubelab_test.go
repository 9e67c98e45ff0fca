package checks_test

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// TestNamespaceBoundsLive checks, against a real kube-apiserver, the two
// API behaviours namespace-limit-range version 4 rests on: a Container
// max becomes the default limit, and a Pod max makes the LimitRanger refuse
// containers without limits. Then a live scan reports the LimitRange that
// bounds nothing from above, and only it.
func TestNamespaceBoundsLive(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	q := resource.MustParse
	create := func(ns string, items ...corev1.LimitRangeItem) {
		t.Helper()
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		lr := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "lr"}, Spec: corev1.LimitRangeSpec{Limits: items}}
		if _, err := cs.CoreV1().LimitRanges(ns).Create(ctx, lr, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	create("lr-max", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer,
		Max: corev1.ResourceList{corev1.ResourceCPU: q("1"), corev1.ResourceMemory: q("256Mi")}})
	create("lr-podmax", corev1.LimitRangeItem{Type: corev1.LimitTypePod,
		Max: corev1.ResourceList{corev1.ResourceCPU: q("2"), corev1.ResourceMemory: q("1Gi")}})
	create("lr-floors", corev1.LimitRangeItem{Type: corev1.LimitTypeContainer,
		Min:            corev1.ResourceList{corev1.ResourceCPU: q("10m"), corev1.ResourceMemory: q("8Mi")},
		DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: q("50m"), corev1.ResourceMemory: q("32Mi")}})

	stored, err := cs.CoreV1().LimitRanges("lr-max").Get(ctx, "lr", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := stored.Spec.Limits[0].Default; d.Cpu().String() != "1" || d.Memory().String() != "256Mi" {
		t.Errorf("Container max did not become the default limit: default %v", d)
	}

	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "unbounded"}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/app:1.0.0"}}}}
	if _, err := cs.CoreV1().Pods("lr-podmax").Create(ctx, pod, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("pod without limits under a Pod max: err %v, want Forbidden", err)
	}

	out := scanLive(t, c.Config, "namespace-limit-range")
	var got []string
	for _, f := range out.Findings {
		if f.Resource.Kind == "LimitRange" {
			v := f.Resource.Namespace
			for _, e := range f.Evidence {
				v += " " + e.Name + "=" + e.Value
			}
			got = append(got, v)
		}
	}
	slices.Sort(got)
	if want := []string{"lr-floors incomplete=limits.cpu,limits.memory bounds=incomplete"}; !slices.Equal(got, want) {
		t.Errorf("live LimitRange findings %q, want %q", got, want)
	}
}

// TestLinuxHardeningLive creates the linux-hardening and
// exposed-sensitive-interface fixtures in a real kube-apiserver, which must
// accept them (the appArmorProfile field, an empty seLinuxOptions, Gateway
// API objects once their CRDs are installed), and
// checks that a live scan of what the server stored finds the same
// containers as the manifests.
func TestLinuxHardeningLive(t *testing.T) {
	ids := []string{"linux-hardening", "exposed-sensitive-interface"}
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	// The exposure fixtures include Gateway API objects.
	if err := kube.InstallLabCRDs(ctx, c.Config, kube.CRDKinds()); err != nil {
		t.Fatal(err)
	}
	lf := newLiveFixtures(t, c.Config)
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	sc := posture.NewScanner(reg.Only(ids...), nil)
	lf.addFixtures(ids)
	lf.matchLive(sc, c.Config, ids)
}
