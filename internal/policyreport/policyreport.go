// Package policyreport publishes Palisade's admission results as
// wgpolicyk8s.io/v1alpha2 PolicyReport objects, one per namespace, so that
// cluster tooling (policy-reporter, dashboards, `kubectl get polr`) can read
// what the webhook saw in audit and warn mode without reading Palisade's
// logs. Reports are bounded: each keeps the newest MaxResults results.
package policyreport

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"

	"github.com/palisade-sec/palisade/internal/finding"
)

// GVR is the PolicyReport resource.
var GVR = schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "policyreports"}

// ReportName is the name of Palisade's report in each namespace.
const ReportName = "palisade-admission"

// DefaultMaxResults bounds a report: etcd objects are capped at 1.5 MiB and
// a result is a few hundred bytes.
const DefaultMaxResults = 500

// The result values of the PolicyReport API.
const (
	Pass  = "pass"
	Fail  = "fail"
	Warn  = "warn"
	Error = "error"
	Skip  = "skip"
)

// Resource is the object a result is about.
type Resource struct {
	APIVersion, Kind, Namespace, Name, UID string
}

// Result is one policy's verdict on one object.
type Result struct {
	Policy   string
	Rule     string
	Message  string
	Severity finding.Severity
	Status   string // Pass, Fail, Warn, Error or Skip
	Resource Resource
	Time     time.Time
	// Properties carry extra context (the admission mode, the request's
	// user); values are shown as is by report viewers.
	Properties map[string]string
}

// key identifies a result within a report: a newer verdict of the same
// policy and rule on the same object replaces the older one.
type key struct{ policy, rule, kind, name string }

func (r *Result) key() key { return key{r.Policy, r.Rule, r.Resource.Kind, r.Resource.Name} }

// Publisher collects results and writes them to the cluster in batches, so
// that a rollout of 500 pods updates each namespace's report once per
// interval, not 500 times.
type Publisher struct {
	Client     dynamic.Interface
	MaxResults int           // per report; 0 is DefaultMaxResults
	Interval   time.Duration // between flushes in Run; 0 is 10 s
	Logger     *slog.Logger

	mu      sync.Mutex
	pending map[string]map[key]Result // namespace → newest result per key
}

// Record queues r for the next flush. It never blocks on the API server;
// the queue holds at most MaxResults results per namespace, keeping the
// newest.
func (p *Publisher) Record(r Result) {
	if r.Resource.Namespace == "" || r.Policy == "" {
		return // PolicyReports are namespaced; cluster-scoped objects have none
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending == nil {
		p.pending = map[string]map[key]Result{}
	}
	ns := p.pending[r.Resource.Namespace]
	if ns == nil {
		ns = map[key]Result{}
		p.pending[r.Resource.Namespace] = ns
	}
	ns[r.key()] = r
	if len(ns) > p.max() {
		trimMap(ns, p.max())
	}
}

func (p *Publisher) max() int { return cmp.Or(p.MaxResults, DefaultMaxResults) }

// Run flushes every Interval until ctx ends, then flushes once more with a
// short deadline so that a graceful shutdown does not lose queued results.
func (p *Publisher) Run(ctx context.Context) error {
	t := time.NewTicker(cmp.Or(p.Interval, 10*time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := p.Flush(final); err != nil {
				p.logger().Warn("final policy report flush failed", "error", err)
			}
			return nil
		case <-t.C:
			if err := p.Flush(ctx); err != nil {
				p.logger().Warn("policy report flush failed; results stay queued", "error", err)
			}
		}
	}
}

// Flush writes the queued results into each namespace's report, creating it
// when absent. Results of a namespace whose write failed stay queued for
// the next flush (merged with newer ones); a namespace that no longer
// exists is dropped.
func (p *Publisher) Flush(ctx context.Context) error {
	p.mu.Lock()
	batch := p.pending
	p.pending = nil
	p.mu.Unlock()
	var errs []error
	for _, ns := range slices.Sorted(maps.Keys(batch)) {
		err := p.write(ctx, ns, batch[ns])
		switch {
		case err == nil:
		case namespaceGone(err):
			p.logger().Info("namespace gone; dropping its policy report results", "namespace", ns, "results", len(batch[ns]))
		default:
			errs = append(errs, fmt.Errorf("write policy report in %s: %w", ns, err))
			p.requeue(ns, batch[ns])
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d namespace(s) failed: %w", len(errs), errs[0])
	}
	return nil
}

func (p *Publisher) requeue(ns string, old map[key]Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending == nil {
		p.pending = map[string]map[key]Result{}
	}
	cur := p.pending[ns]
	if cur == nil {
		p.pending[ns] = old
		return
	}
	for k, r := range old {
		if _, newer := cur[k]; !newer {
			cur[k] = r
		}
	}
	trimMap(cur, p.max())
}

func (p *Publisher) write(ctx context.Context, ns string, results map[key]Result) error {
	client := p.Client.Resource(GVR).Namespace(ns)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		existing, err := client.Get(ctx, ReportName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			obj := newReport(ns)
			setResults(obj, merge(nil, results, p.max()))
			_, err = client.Create(ctx, obj, metav1.CreateOptions{FieldManager: "palisade"})
			return err
		}
		if err != nil {
			return err
		}
		setResults(existing, merge(existing, results, p.max()))
		_, err = client.Update(ctx, existing, metav1.UpdateOptions{FieldManager: "palisade"})
		return err
	})
}

// namespaceGone tells a create refused because the namespace no longer
// exists from one refused because the PolicyReport CRD is not installed
// (both are 404s): the first drops the results, the second keeps them
// queued (bounded) until the CRD appears.
func namespaceGone(err error) bool {
	var st apierrors.APIStatus
	if !apierrors.IsNotFound(err) || !errors.As(err, &st) {
		return false
	}
	d := st.Status().Details
	return d != nil && d.Kind == "namespaces"
}

func (p *Publisher) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// trimMap keeps the n newest results of m.
func trimMap(m map[key]Result, n int) {
	if len(m) <= n {
		return
	}
	all := slices.Collect(maps.Values(m))
	sortNewestFirst(all)
	for _, r := range all[n:] {
		delete(m, r.key())
	}
}

func sortNewestFirst(rs []Result) {
	slices.SortFunc(rs, func(a, b Result) int {
		return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(a.Policy, b.Policy), cmp.Compare(a.Resource.Kind, b.Resource.Kind),
			cmp.Compare(a.Resource.Name, b.Resource.Name), cmp.Compare(a.Rule, b.Rule))
	})
}
