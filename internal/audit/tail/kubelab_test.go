package tail

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/audit/audittest"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

// TestRealAPIServerLog tails a real kube-apiserver's audit log while the
// API server rotates it (its own lumberjack rotation, by rename, at 1 MB),
// restarts the tailer in the middle, and checks that every event in the
// current and rotated files was published exactly once.
func TestRealAPIServerLog(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{AuditLog: true, ExtraAPIServerFlags: []string{"--audit-log-maxsize=1"}})
	pub := newBus(t)
	cp := filepath.Join(t.TempDir(), "checkpoint.json")
	r := start(t, pub, c.AuditLogPath, cp)

	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "load"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const total = 2500
	var done atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < total; i += 4 {
				// ~1 KiB of data so that the log rotates a few times.
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%05d", i)},
					Data: map[string]string{"pad": fmt.Sprintf("%01000d", i)}}
				if _, err := cs.CoreV1().ConfigMaps("load").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
					t.Errorf("create configmap %d: %v", i, err)
					return
				}
				done.Add(1)
			}
		})
	}
	for done.Load() < total/2 {
		time.Sleep(5 * time.Millisecond)
	}
	r.halt(t)
	time.Sleep(300 * time.Millisecond) // the log moves on while nobody tails it
	r = start(t, pub, c.AuditLogPath, cp)
	wg.Wait()
	time.Sleep(time.Second)

	want := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(c.AuditLogPath), "audit*.log"))
	for _, f := range files {
		for k := range audittest.LogKeys(t, f) {
			want["lab/"+k] = true
		}
	}
	if len(files) < 2 {
		t.Fatalf("the API server did not rotate its log (files %v); the test proves nothing", files)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := pub.published()
		missing := 0
		for k := range want {
			if got[k] == 0 {
				missing++
			}
		}
		if missing == 0 {
			for k := range want {
				if got[k] != 1 {
					t.Errorf("%s published %d times", k, got[k])
				}
			}
			t.Logf("%d events in %d files published exactly once; stats %+v", len(want), len(files), r.t.Stats())
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d logged events never published; stats %+v", missing, len(want), r.t.Stats())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if s := r.t.Stats(); s.Malformed != 0 {
		t.Errorf("%d malformed lines in a real audit log: %s", s.Malformed, s.LastMalformed)
	}
}
