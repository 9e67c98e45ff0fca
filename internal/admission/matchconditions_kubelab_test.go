package admission

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

// updateCounter is a policy that admits everything and counts the
// requests that reached it, by operation and object name.
type updateCounter struct {
	mu   sync.Mutex
	seen map[string]int
}

func (u *updateCounter) ID() string { return "test/count" }

func (u *updateCounter) Evaluate(_ context.Context, req *Request) ([]Violation, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.seen[string(req.Review.Operation)+" "+req.Review.Name]++
	return nil, nil
}

func (u *updateCounter) count(key string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.seen[key]
}

// TestMatchConditionKeepsNoOpUpdatesAway registers the generated webhook
// configuration in a real API server and checks its match condition: an
// update that changes nothing a policy judges never reaches the webhook,
// while one that changes a label, an annotation or the spec does.
func TestMatchConditionKeepsNoOpUpdatesAway(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	counter := &updateCounter{seen: map[string]int{}}
	url, ca := serveWebhook(t, &Engine{Rules: []Rule{{Policy: counter, Mode: Enforce}}})
	vwc, err := WebhookConfiguration(InstallOptions{URL: url, CABundle: ca, ExcludeNamespaces: []string{"kube-system"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, vwc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("the API server refused the generated configuration (is the match condition valid CEL?): %v", err)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := cs.CoreV1().Pods("shop")
	// The API server loads webhook configurations asynchronously.
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		_ = pods.Delete(ctx, "web", metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
		_, err := pods.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"app": "web"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.example/web:1"}}}}, metav1.CreateOptions{})
		if err != nil {
			return false, nil
		}
		return counter.count("CREATE web") > 0, nil
	})
	if err != nil {
		t.Fatal("the webhook never saw a create")
	}

	update := func(change func(*corev1.Pod)) {
		t.Helper()
		p, err := pods.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		change(p)
		if _, err := pods.Update(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("update: %v", err)
		}
	}
	// An update of nothing (kubectl apply of an unchanged manifest, a
	// controller re-writing what it has): admission runs, the condition
	// keeps it away from the webhook.
	update(func(*corev1.Pod) {})
	if n := counter.count("UPDATE web"); n != 0 {
		t.Errorf("a no-op update reached the webhook %d times", n)
	}
	steps := []struct {
		name   string
		change func(*corev1.Pod)
	}{
		{"label", func(p *corev1.Pod) { p.Labels["tier"] = "front" }},
		{"annotation", func(p *corev1.Pod) { p.Annotations = map[string]string{"palisade.dev/break-glass": "INC-1"} }},
		{"spec (image)", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "registry.example/web:2" }},
		{"finalizer", func(p *corev1.Pod) { p.Finalizers = []string{"example.com/hold"} }},
	}
	for i, s := range steps {
		update(s.change)
		if n := counter.count("UPDATE web"); n != i+1 {
			t.Errorf("after an update of the %s the webhook saw %d updates, want %d", s.name, n, i+1)
		}
	}
	update(func(p *corev1.Pod) { p.Finalizers = nil })
	if !strings.Contains(vwc.Webhooks[0].MatchConditions[0].Expression, "object.spec != oldObject.spec") {
		t.Error("the match condition does not compare the spec")
	}
}
