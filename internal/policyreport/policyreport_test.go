package policyreport

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func result(ns, name, policy string, at time.Time, status string) Result {
	return Result{
		Policy: policy, Rule: "containers", Message: "container app runs privileged", Severity: finding.SeverityHigh,
		Status: status, Resource: Resource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: name}, Time: at,
		Properties: map[string]string{"mode": "audit"},
	}
}

func TestMergeKeepsNewestBounded(t *testing.T) {
	fresh := map[key]Result{}
	for i := range 10 {
		r := result("shop", fmt.Sprintf("d%02d", i), "lp/no-privileged", t0.Add(time.Duration(i)*time.Second), Fail)
		fresh[r.key()] = r
	}
	obj := newReport("shop")
	setResults(obj, merge(nil, fresh, 4))
	got := merge(obj, map[key]Result{}, 100)
	if len(got) != 4 {
		t.Fatalf("%d results, want the bound 4", len(got))
	}
	for i, r := range got {
		if want := fmt.Sprintf("d%02d", 9-i); r.Resource.Name != want {
			t.Errorf("result %d is %s, want %s (newest first)", i, r.Resource.Name, want)
		}
	}
	// A newer verdict on the same object and policy replaces the older one.
	upd := result("shop", "d09", "lp/no-privileged", t0.Add(time.Hour), Pass)
	got = merge(obj, map[key]Result{upd.key(): upd}, 100)
	if len(got) != 4 || got[0].Status != Pass || !got[0].Time.Equal(upd.Time) {
		t.Errorf("after an update: %+v", got[0])
	}
}

func TestRecordBoundsQueue(t *testing.T) {
	p := &Publisher{MaxResults: 3}
	for i := range 10 {
		p.Record(result("shop", fmt.Sprintf("d%d", i), "lp/x", t0.Add(time.Duration(i)*time.Second), Fail))
	}
	p.Record(result("", "cluster-scoped", "lp/x", t0, Fail)) // ignored: no namespace
	if n := len(p.pending["shop"]); n != 3 {
		t.Errorf("queue holds %d, want 3", n)
	}
	if _, ok := p.pending["shop"][key{"lp/x", "containers", "Deployment", "d9"}]; !ok {
		t.Error("the newest result was evicted")
	}
}

// TestPublishOnAPIServer writes reports to a real kube-apiserver with the
// PolicyReport CRD: creation, merge across publishers (a second replica, a
// restart), the bound, concurrent writers, and a deleted namespace.
func TestPublishOnAPIServer(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	cs := kubernetes.NewForConfigOrDie(c.Config)
	dyn := dynamic.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	for _, ns := range []string{"shop", "batch"} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Without the CRD a flush fails and the results stay queued.
	early := &Publisher{Client: dyn}
	early.Record(result("shop", "early", "lp/x", t0, Fail))
	if err := early.Flush(ctx); err == nil || len(early.pending["shop"]) != 1 {
		t.Fatalf("flush without the CRD: err %v, queued %d; want an error and the result kept", err, len(early.pending["shop"]))
	}
	bin, args := c.Kubectl("apply", "-f", "testdata/policyreport-crd.yaml")
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("install CRD: %v\n%s", err, out)
	}
	bin, args = c.Kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/policyreports.wgpolicyk8s.io")
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("wait for CRD: %v\n%s", err, out)
	}
	get := func(ns string) *unstructured.Unstructured {
		t.Helper()
		var obj *unstructured.Unstructured
		// The CRD's REST mapping may take a moment after Established.
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
			var err error
			obj, err = dyn.Resource(GVR).Namespace(ns).Get(ctx, ReportName, metav1.GetOptions{})
			return err == nil, nil
		})
		if err != nil {
			t.Fatalf("get report in %s: %v", ns, err)
		}
		return obj
	}
	summary := func(obj *unstructured.Unstructured) string {
		s, _, _ := unstructured.NestedMap(obj.Object, "summary")
		return fmt.Sprintf("pass=%v fail=%v warn=%v", s["pass"], s["fail"], s["warn"])
	}

	a := &Publisher{Client: dyn, MaxResults: 50}
	a.Record(result("shop", "api", "lp/no-privileged", t0, Fail))
	a.Record(result("shop", "web", "lp/run-as-non-root", t0, Warn))
	a.Record(result("batch", "job", "lp/resource-limits", t0, Fail))
	flushEventually(t, a)
	if s := summary(get("shop")); s != "pass=0 fail=1 warn=1" {
		t.Errorf("shop summary %s", s)
	}

	// A second replica (or this one after a restart) adds to the report and
	// replaces its own earlier verdicts.
	b := &Publisher{Client: dyn, MaxResults: 50}
	b.Record(result("shop", "api", "lp/no-privileged", t0.Add(time.Minute), Pass))
	b.Record(result("shop", "cart", "lp/no-privileged", t0.Add(time.Minute), Fail))
	flushEventually(t, b)
	if s := summary(get("shop")); s != "pass=1 fail=1 warn=1" {
		t.Errorf("shop summary after merge %s", s)
	}

	// Concurrent writers to one report: optimistic concurrency retries,
	// nothing is lost.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			p := &Publisher{Client: dyn, MaxResults: 50}
			for i := range 5 {
				p.Record(result("batch", fmt.Sprintf("w%d-%d", w, i), "lp/no-host-path", t0.Add(time.Hour), Fail))
			}
			if err := p.Flush(ctx); err != nil {
				t.Errorf("writer %d: %v", w, err)
			}
		})
	}
	wg.Wait()
	items, _, _ := unstructured.NestedSlice(get("batch").Object, "results")
	if len(items) != 21 {
		t.Errorf("batch report has %d results, want 21 (1 + 4 writers × 5)", len(items))
	}

	// The bound holds on the server, newest kept.
	small := &Publisher{Client: dyn, MaxResults: 10}
	for i := range 30 {
		small.Record(result("batch", fmt.Sprintf("n%02d", i), "lp/bound", t0.Add(2*time.Hour+time.Duration(i)*time.Second), Fail))
	}
	flushEventually(t, small)
	items, _, _ = unstructured.NestedSlice(get("batch").Object, "results")
	if len(items) != 10 || !strings.Contains(fmt.Sprint(items[0]), "n29") {
		t.Errorf("bounded report: %d results, first %v", len(items), items[0])
	}

	// A namespace that is gone is dropped, not retried forever.
	gone := &Publisher{Client: dyn}
	gone.Record(result("nowhere", "x", "lp/x", t0, Fail))
	if err := gone.Flush(ctx); err != nil {
		t.Errorf("flush to a missing namespace: %v", err)
	}
	if len(gone.pending) != 0 {
		t.Errorf("results for a missing namespace stay queued: %v", gone.pending)
	}
}

// flushEventually retries while the CRD's endpoint is still being wired
// into the API server's discovery.
func flushEventually(t *testing.T, p *Publisher) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, 15*time.Second, true, func(ctx context.Context) (bool, error) {
		last = p.Flush(ctx)
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("flush: %v", last)
	}
}
