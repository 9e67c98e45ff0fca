package bench

import (
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/audit"
)

// auditBurstRSSBound is the peak RSS the 1M-event burst may reach. The
// engine's state is bounded by EngineOptions.MaxState (100,000 entries in
// each of the dedupe, per-request, throttle, threshold and correlation
// tables; at a few hundred bytes per entry that is well under 150 MB even if
// all filled), the parallel decoder holds at most 4 batches of ≤ 1 MiB per
// worker, and the Go heap may grow to twice the live data before a GC
// (GOGC=100). 400 MB leaves room for the test binary itself (~60 MB) and
// still fails clearly if anything grows with the number of events: 1M
// events are ~1 GB of JSON and several GB as decoded Events.
const auditBurstRSSBound = 400 << 20

// BenchmarkAuditBurstMemory streams 1,000,000 generated events (the
// BenchmarkAuditPipeline mix, each with a fresh auditID, generated as read
// and never held) through the whole pipeline and reports the peak RSS,
// failing if it exceeds auditBurstRSSBound. Run it on its own
// (-run XXX -bench AuditBurstMemory -benchtime 1x) so that other
// benchmarks' memory does not count.
func BenchmarkAuditBurstMemory(b *testing.B) {
	const n = 1_000_000
	env, err := audit.NewCELEnv()
	if err != nil {
		b.Fatal(err)
	}
	set, err := audit.Builtin(env)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		en, err := audit.NewEngine(set, audit.EngineOptions{})
		if err != nil {
			b.Fatal(err)
		}
		base := rssBase()
		alerts := 0
		start := time.Now()
		st, err := audit.Replay(b.Context(), en, newAuditGen(b, n), audit.Source{Name: "burst"}, time.Now, func(*audit.Alert) error {
			alerts++
			return nil
		})
		elapsed := time.Since(start)
		if err != nil || st.Events != n {
			b.Fatalf("pipeline: %d events, err %v", st.Events, err)
		}
		peak := peakRSS()
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
		b.ReportMetric(float64(peak-base)/(1<<20), "RSS-growth-MB")
		b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(alerts), "alerts")
		if peak > auditBurstRSSBound {
			b.Fatalf("peak RSS %d MB over a 1M-event burst, bound %d MB", peak>>20, auditBurstRSSBound>>20)
		}
	}
}
