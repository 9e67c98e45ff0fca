package admission

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the admission webhook's Prometheus metrics. A nil *Metrics
// records nothing, so engines built in tests need none.
type Metrics struct {
	decisions  *prometheus.CounterVec
	duration   prometheus.Histogram
	cache      *prometheus.CounterVec
	stale      *prometheus.CounterVec
	exceptions *prometheus.CounterVec
}

// Results of palisade_admission_decisions_total.
const (
	resultPass     = "pass"     // no violation
	resultFail     = "fail"     // violations, acted on per the rule's mode
	resultError    = "error"    // the policy could not decide
	resultExcepted = "excepted" // violations, all covered by exceptions
)

// NewMetrics registers the admission metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "palisade_admission_decisions_total",
			Help: "Policy decisions on admission reviews, by policy, result (pass, fail, error, excepted) and mode.",
		}, []string{"policy", "result", "mode"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "palisade_admission_review_duration_seconds",
			Help: "Time to decide one admission review, registry lookups included.",
			// The API server gives up at 3 s; most reviews hit warm caches.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "palisade_admission_cache_requests_total",
			Help: "Lookups in the admission caches (digest: tag to digest, verdict: digest to scan verdict), by result (hit, miss).",
		}, []string{"cache", "result"}),
		// A counter of its own, not a third result of cache_requests_total,
		// so that the documented hit ratio (hit / all) keeps its meaning.
		stale: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "palisade_admission_cache_stale_total",
			Help: "Expired admission cache entries served because the registry or store could not be reached, by cache (digest: tag to digest, verdict: digest to scan verdict).",
		}, []string{"cache"}),
		exceptions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "palisade_admission_exceptions_total",
			Help: "Exception uses, by kind: exception (a configured exception admitted a violation), break_glass and break_glass_inherited (an admin's break-glass admitted it, directly or through a controller), expired (an expired exception matched and did not apply).",
		}, []string{"kind"}),
	}
	for _, c := range []prometheus.Collector{m.decisions, m.duration, m.cache, m.stale, m.exceptions} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register admission metrics: %w", err)
		}
	}
	return m, nil
}

func (m *Metrics) decision(policy, result string, mode Mode) {
	if m != nil {
		m.decisions.WithLabelValues(policy, result, string(mode)).Inc()
	}
}

func (m *Metrics) observe(seconds float64) {
	if m != nil {
		m.duration.Observe(seconds)
	}
}

func (m *Metrics) cacheLookup(cache string, hit bool) {
	if m == nil {
		return
	}
	r := "miss"
	if hit {
		r = "hit"
	}
	m.cache.WithLabelValues(cache, r).Inc()
}

func (m *Metrics) staleServed(cache string) {
	if m != nil {
		m.stale.WithLabelValues(cache).Inc()
	}
}

func (m *Metrics) exception(kind string) {
	if m != nil {
		m.exceptions.WithLabelValues(kind).Inc()
	}
}
