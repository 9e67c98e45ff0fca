package bench

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
	"github.com/palisade-sec/palisade/internal/posture/compliance"
)

// tokenBindings appends, for each of the n Deployments of
// postureManifests(n), a RoleBinding of its own service account in its
// namespace, and for every tenth one a ClusterRoleBinding: as many
// bindings as service accounts, the case where resolving each account
// against every binding would grow with their product.
func tokenBindings(n int) []byte {
	var b bytes.Buffer
	nsCount := max(1, n/100)
	for i := range n {
		fmt.Fprintf(&b, `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: app-%[1]d, namespace: team-%[2]d}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
subjects:
- {kind: ServiceAccount, name: app-%[1]d, namespace: team-%[2]d}
---
`, i, i%nsCount)
		if i%10 == 0 {
			fmt.Fprintf(&b, `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: app-%[1]d-view}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
- {kind: ServiceAccount, name: app-%[1]d, namespace: team-%[2]d}
---
`, i, i%nsCount)
		}
	}
	return b.Bytes()
}

// BenchmarkWorkloadTokenTakeover scans 10,000 Deployments (over 20,000
// objects) with every check, and with every check but
// workload-token-takeover, and reports the ratio of the two scan times
// (target ≤ 1.05) and of the check alone to the rest (the steadier
// figure on a shared machine): the check builds one RBAC engine per scan
// and resolves each service account once, through its bindings only. "bound" adds a binding per service account.
// Run with -benchtime 3x; POSTURE_BENCH_N changes the number of Deployments.
func BenchmarkWorkloadTokenTakeover(b *testing.B) {
	n := 10_000
	if s := os.Getenv("POSTURE_BENCH_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		b.Fatal(err)
	}
	var others []string
	for _, c := range reg.Checks() {
		if c.ID != "workload-token-takeover" {
			others = append(others, c.ID)
		}
	}
	m, err := compliance.Load()
	if err != nil {
		b.Fatal(err)
	}
	with, without := posture.NewScanner(reg, m.ControlsOf), posture.NewScanner(reg.Only(others...), m.ControlsOf)
	alone := posture.NewScanner(reg.Only("workload-token-takeover"), m.ControlsOf)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"plain", postureManifests(n)},
		{"bound", append(postureManifests(n), tokenBindings(n)...)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := b.Context()
			objs, err := kube.Decode(ctx, "bench.yaml", tc.data, kube.Limits{})
			if err != nil {
				b.Fatal(err)
			}
			inv := kube.NewInventory(objs)
			scan := func(sc *posture.Scanner) (time.Duration, time.Duration, int) {
				runtime.GC()
				start, cpu0 := time.Now(), cpuTime()
				out, err := sc.Scan(ctx, inv, posture.Options{})
				if err != nil {
					b.Fatal(err)
				}
				return time.Since(start), cpuTime() - cpu0, len(out.Findings)
			}
			// The fastest of b.N runs of each is compared: the figure least
			// disturbed by other processes on a shared machine.
			baseWall, baseCPU := time.Duration(1<<62), time.Duration(1<<62)
			scanWall, scanCPU := time.Duration(1<<62), time.Duration(1<<62)
			aloneWall, aloneCPU := time.Duration(1<<62), time.Duration(1<<62)
			var baseN, scanN, aloneN int
			b.ResetTimer()
			for range b.N {
				w, c, f := scan(without)
				baseWall, baseCPU, baseN = min(baseWall, w), min(baseCPU, c), f
				w, c, f = scan(with)
				scanWall, scanCPU, scanN = min(scanWall, w), min(scanCPU, c), f
				w, c, f = scan(alone)
				aloneWall, aloneCPU, aloneN = min(aloneWall, w), min(aloneCPU, c), f
			}
			b.StopTimer()
			b.ReportMetric(float64(scanWall)/float64(baseWall), "with/without")
			b.ReportMetric(float64(scanCPU)/float64(baseCPU), "with/without-cpu")
			// The check alone against the rest: steadier than the
			// difference of two noisy full scans.
			b.ReportMetric(float64(aloneCPU)/float64(baseCPU), "alone/without-cpu")
			b.ReportMetric(float64(len(objs)), "objects")
			b.Logf("%d objects: scan without workload-token-takeover %v (cpu %v, %d findings), with it %v (cpu %v, %d findings): ratio %.3f wall, %.3f cpu; the check alone %v (cpu %v, %d findings): %.3f of the rest's cpu",
				len(objs), baseWall, baseCPU, baseN, scanWall, scanCPU, scanN,
				float64(scanWall)/float64(baseWall), float64(scanCPU)/float64(baseCPU),
				aloneWall, aloneCPU, aloneN, float64(aloneCPU)/float64(baseCPU))
		})
	}
}
