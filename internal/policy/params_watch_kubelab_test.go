package policy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

// TestParamsWatcher runs the watcher on a real API server: informers start
// on first use and follow edits and deletion, their number is bounded,
// Retain stops those no longer named (but never Watch's), a ConfigMap
// the webhook may not read fails at once with the API server's reason,
// and Close ends every lookup.
func TestParamsWatcher(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	admin := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ref := func(name string) ConfigMapRef { return ConfigMapRef{Namespace: "shop", Name: name} }
	create := func(name string, data map[string]string) *corev1.ConfigMap {
		t.Helper()
		cm, err := admin.CoreV1().ConfigMaps("shop").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"}, Data: data}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return cm
	}
	lookupCtx := func() context.Context {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		t.Cleanup(cancel)
		return ctx
	}
	w := NewParamsWatcher(admin, 2, nil)
	defer w.Close()

	limits := create("limits", map[string]string{"maxPorts": "1"})
	if _, _, err := w.Params(ref("limits")); err == nil || !strings.Contains(err.Error(), "is not watched") {
		t.Fatalf("Params before any lookup: %v", err)
	}
	p, found, err := w.Lookup(lookupCtx(), ref("limits"))
	if err != nil || !found || p["maxPorts"] != "1" {
		t.Fatalf("first lookup: %v %v %v", p, found, err)
	}
	if _, found, err := w.Lookup(lookupCtx(), ref("absent")); err != nil || found {
		t.Fatalf("a ConfigMap that does not exist: found=%v err=%v", found, err)
	}
	if got := w.Watched(); !slices.Equal(got, []ConfigMapRef{ref("absent"), ref("limits")}) {
		t.Fatalf("watched %v", got)
	}
	// The limit counts Lookup's informers: a third is refused, by name.
	if _, _, err := w.Lookup(lookupCtx(), ref("third")); err == nil || !strings.Contains(err.Error(), "params ConfigMap shop/third: policies name more than 2 params ConfigMaps") {
		t.Fatalf("over the limit: %v", err)
	}

	// Edits and deletion reach the next lookup through the watch.
	limits.Data = map[string]string{"maxPorts": "3"}
	if _, err := admin.CoreV1().ConfigMaps("shop").Update(ctx, limits, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, "the edit", func() bool {
		p, found, err := w.Lookup(ctx, ref("limits"))
		return err == nil && found && p["maxPorts"] == "3"
	})
	create("absent", map[string]string{"k": "v"})
	poll(t, "the creation", func() bool {
		_, found, err := w.Lookup(ctx, ref("absent"))
		return err == nil && found
	})
	if err := admin.CoreV1().ConfigMaps("shop").Delete(ctx, "limits", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, "the deletion", func() bool {
		_, found, err := w.Lookup(ctx, ref("limits"))
		return err == nil && !found
	})

	// Watch pins its refs: Retain stops only Lookup's, and pinned ones do
	// not count against the limit.
	if err := w.Watch(ctx, []ConfigMapRef{ref("pinned")}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	w.Retain([]ConfigMapRef{ref("limits")})
	if got := w.Watched(); !slices.Equal(got, []ConfigMapRef{ref("limits"), ref("pinned")}) {
		t.Fatalf("after Retain: watched %v", got)
	}
	if _, found, err := w.Params(ref("pinned")); err != nil || found {
		t.Fatalf("pinned: found=%v err=%v", found, err)
	}
	// A ref the policies stopped naming is read once, not watched again.
	if _, found, err := w.Lookup(lookupCtx(), ref("absent")); err != nil || !found {
		t.Fatalf("a ref Retain left out: found=%v err=%v", found, err)
	}
	if got := w.Watched(); len(got) != 2 {
		t.Fatalf("a left-out ref was watched again: %v", got)
	}
	w.Retain([]ConfigMapRef{ref("limits"), ref("new")})
	if _, found, err := w.Lookup(lookupCtx(), ref("new")); err != nil || found {
		t.Fatalf("a newly named ref: found=%v err=%v", found, err)
	}

	// Without RBAC the list is forbidden: the lookup fails at once, with
	// the API server's reason, instead of waiting out the request.
	nobody := rest.CopyConfig(c.Config)
	nobody.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:shop:nobody", Groups: []string{"system:serviceaccounts", "system:authenticated"}}
	denied := NewParamsWatcher(kubernetes.NewForConfigOrDie(nobody), 0, nil)
	defer denied.Close()
	start := time.Now()
	_, _, err = denied.Lookup(lookupCtx(), ref("limits"))
	if err == nil || !strings.Contains(err.Error(), "read params ConfigMap shop/limits (may palisade get, list and watch it?)") || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("forbidden lookup: %v", err)
	}
	if waited := time.Since(start); waited > 9*time.Second {
		t.Errorf("the forbidden lookup waited for its context (%s)", waited)
	}
	if err := denied.Watch(ctx, []ConfigMapRef{ref("other")}, 2*time.Second); err == nil || !strings.Contains(err.Error(), "params ConfigMaps [shop/other] not read within 2s (may palisade get, list and watch them?)") {
		t.Fatalf("forbidden Watch: %v", err)
	}

	w.Close()
	if _, _, err := w.Lookup(ctx, ref("limits")); !errors.Is(err, ErrParamsWatcherClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if got := w.Watched(); len(got) != 0 {
		t.Fatalf("after Close: watched %v", got)
	}
}

// poll waits up to 10 s for ok, the time a watch may take to deliver.
func poll(t *testing.T, what string, ok func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return ok(), nil
	})
	if err != nil {
		t.Fatalf("%s never reached the watcher: %v", what, err)
	}
}
