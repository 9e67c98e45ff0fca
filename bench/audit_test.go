package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/audit"
)

// auditEvents builds n real-shaped audit events as JSON lines: the events
// of Falco's k8s_audit trace files (pod, RBAC, configmap, exec…), each
// copied with a fresh auditID, interleaved with the get/list/watch metadata
// events that dominate a real audit log (about 4 reads per write).
func auditEvents(b *testing.B, n int) []byte {
	b.Helper()
	g := newAuditGen(b, n)
	var buf bytes.Buffer
	for i := range n {
		buf.Write(g.line(i))
	}
	return buf.Bytes()
}

// auditGen generates the events of auditEvents one line at a time, so
// that a long stream need not be held in memory.
type auditGen struct {
	read   []byte
	writes [][]byte
	idRE   *regexp.Regexp
	n, i   int
	rest   []byte // unread part of the current line
}

func newAuditGen(b *testing.B, n int) *auditGen {
	b.Helper()
	files, _ := filepath.Glob("../../shared/audit-samples/falco/trace_files/*.json")
	var writes [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			if bytes.Contains(line, []byte(`"auditID"`)) {
				writes = append(writes, line)
			}
		}
	}
	if len(writes) == 0 {
		b.Skip("Falco trace files not available under ../../shared/audit-samples")
	}
	read := []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"AUDITID","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods?limit=500","verb":"list","user":{"username":"system:serviceaccount:monitoring:prometheus","uid":"5b1c","groups":["system:serviceaccounts","system:serviceaccounts:monitoring","system:authenticated"]},"sourceIPs":["10.0.3.17"],"userAgent":"prometheus/2.53.0","objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-11-25T10:00:00.000000Z","stageTimestamp":"2026-11-25T10:00:00.004000Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"prometheus\""}}`)
	return &auditGen{read: read, writes: writes, idRE: regexp.MustCompile(`"auditID":"[^"]*"`), n: n}
}

// line returns event i with its newline.
func (g *auditGen) line(i int) []byte {
	tmpl := g.read
	if i%5 == 4 {
		tmpl = g.writes[(i/5)%len(g.writes)]
	}
	l := g.idRE.ReplaceAll(tmpl, []byte(fmt.Sprintf(`"auditID":"bench-%08d"`, i)))
	return append(l, '\n')
}

// Read streams the n events.
func (g *auditGen) Read(p []byte) (int, error) {
	for len(g.rest) == 0 {
		if g.i == g.n {
			return 0, io.EOF
		}
		g.rest = g.line(g.i)
		g.i++
	}
	n := copy(p, g.rest)
	g.rest = g.rest[n:]
	return n, nil
}

// BenchmarkAuditPipeline measures decode + normalize + all built-in rules +
// correlation over the same events as a baseline that only JSON-decodes
// them into the audit event struct, in the same run, and reports the ratio
// and events/s of both. It also reports the process CPU time each phase
// used (GC included), which other work on a shared machine disturbs far
// less than wall time: the pipeline runs on GOMAXPROCS goroutines, the
// baseline on one.
func BenchmarkAuditPipeline(b *testing.B) {
	const n = 20_000
	data := auditEvents(b, n)
	env, err := audit.NewCELEnv()
	if err != nil {
		b.Fatal(err)
	}
	set, err := audit.Builtin(env)
	if err != nil {
		b.Fatal(err)
	}
	var decodeDur, pipeDur, decodeCPU, pipeCPU time.Duration
	alerts := 0
	for b.Loop() {
		cpu := cpuTime()
		start := time.Now()
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		decoded := 0
		for sc.Scan() {
			var ev audit.K8sEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				b.Fatal(err)
			}
			decoded++
		}
		decodeDur += time.Since(start)
		decodeCPU += cpuTime() - cpu
		if decoded != n {
			b.Fatalf("decoded %d events, want %d", decoded, n)
		}

		en, err := audit.NewEngine(set, audit.EngineOptions{})
		if err != nil {
			b.Fatal(err)
		}
		cpu = cpuTime()
		start = time.Now()
		st, err := audit.Replay(b.Context(), en, bytes.NewReader(data), audit.Source{Name: "bench"}, time.Now, func(*audit.Alert) error {
			alerts++
			return nil
		})
		pipeDur += time.Since(start)
		pipeCPU += cpuTime() - cpu
		if err != nil || st.Events != n {
			b.Fatalf("pipeline: %d events, err %v", st.Events, err)
		}
	}
	b.ReportMetric(float64(pipeDur)/float64(decodeDur), "pipeline/decode")
	b.ReportMetric(float64(n*b.N)/pipeDur.Seconds(), "pipeline-events/s")
	b.ReportMetric(float64(n*b.N)/decodeDur.Seconds(), "decode-events/s")
	b.ReportMetric(float64(pipeCPU)/float64(decodeCPU), "pipeline-cpu/decode-cpu")
	b.ReportMetric(float64(pipeCPU.Nanoseconds())/float64(n*b.N), "pipeline-cpu-ns/event")
	b.ReportMetric(float64(alerts)/float64(b.N), "alerts/op")
	b.ReportMetric(float64(len(set.Rules)), "rules")
}
