package cli

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/audit/audittest"
	"github.com/palisade-sec/palisade/internal/audit/receiver"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// TestNoLossAcrossKill runs the real palisade binary as the audit webhook
// of a real kube-apiserver that also writes its own audit log, kills the
// server with SIGKILL while the API server is streaming, restarts it on the
// same data directory, and checks that every event the API server logged is
// in the store exactly once: a batch is answered 200 only when durable, an
// unanswered one is retried by the API server, and the bus's consumer
// resumes where the dead process stopped.
func TestNoLossAcrossKill(t *testing.T) {
	if testing.Short() {
		// make test never passes -short; a run that requires kubelab must
		// not pass this test by skipping it.
		if os.Getenv(kubelabtest.RequireEnv) == "1" {
			t.Fatalf("-short skips the kill -9 test, but %s=1 requires it", kubelabtest.RequireEnv)
		}
		t.Skip("builds the binary and runs a control plane")
	}
	bin := filepath.Join(t.TempDir(), "palisade")
	build := exec.Command("go", "build", "-o", bin, "github.com/palisade-sec/palisade/cmd/palisade")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dataDir := t.TempDir()
	const token = "no-loss-audit-source-token-0123456789"
	tokensFile := filepath.Join(dataDir, "tokens.csv")
	if err := os.WriteFile(tokensFile, []byte(token+",lab,"+server.AuditSourceGroup+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The certificate serve would generate, made first so that the API
	// server can be told its CA before serve starts.
	cert, err := server.LoadOrCreateSelfSigned(filepath.Join(dataDir, "tls"), server.DefaultHosts("127.0.0.1"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	addr := freeAddr(t)
	storePath := filepath.Join(dataDir, "palisade.db")
	// The API server's own log is also tailed by serve, as cluster
	// "filelab": the same events must arrive through the file too.
	labDir := t.TempDir()
	auditLog := filepath.Join(labDir, "audit.log")

	serve := func(n int) *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--listen", addr, "--tokens-file", tokensFile, "--store", storePath,
			"--audit-log-path", "filelab="+auditLog)
		cmd.Env = append(os.Environ(), "PALISADE_DATA_DIR="+dataDir)
		logf, err := os.Create(filepath.Join(dataDir, fmt.Sprintf("serve-%d.log", n)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { logf.Close() })
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Whatever happens to the test, no server outlives it.
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		waitReady(t, addr, caPEM, logf.Name())
		return cmd
	}
	// Serving before the API server starts: its own start-up requests are
	// audited too, and the test compares all of them.
	first := serve(1)

	c := kubelabtest.Start(t, kubelab.Options{
		Dir:      labDir,
		AuditLog: true,
		AuditWebhook: &kubelab.Endpoint{
			URL: "https://" + addr + receiver.Path, CAData: caPEM, Token: token, BatchMaxWait: 100 * time.Millisecond,
		},
		// Small batches, and a log the API server rotates (by rename, at 1 MB).
		ExtraAPIServerFlags: []string{"--audit-webhook-batch-max-size=50", "--audit-log-maxsize=1"},
	})

	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "load"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const total = 3000
	var done atomic.Int64
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := w; i < total; i += 6 {
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%05d", i)}, Data: map[string]string{"i": fmt.Sprint(i)}}
				if _, err := cs.CoreV1().ConfigMaps("load").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
					t.Errorf("create configmap %d: %v", i, err)
					return
				}
				done.Add(1)
			}
		})
	}
	for done.Load() < total/3 {
		time.Sleep(5 * time.Millisecond)
	}
	// kill -9 mid-stream: no shutdown, no flush, batches in flight.
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	killedAt := done.Load()
	serve(2)
	wg.Wait()
	t.Logf("killed after %d of %d requests", killedAt, total)
	if killedAt >= total {
		t.Fatal("the load finished before the kill; the test proves nothing")
	}

	// What the API server logged by then must all arrive, through the
	// webhook and through the file.
	time.Sleep(time.Second)
	want := map[string]bool{}
	logs, _ := filepath.Glob(filepath.Join(labDir, "audit*.log"))
	for _, f := range logs {
		for k := range audittest.LogKeys(t, f) {
			want[k] = true
		}
	}
	t.Logf("the API server wrote %d events in %d log files", len(want), len(logs))
	st, err := sqlite.Open(ctx, storePath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if c.AuditLogPath != auditLog {
		t.Fatalf("kubelab logs to %s, serve tails %s", c.AuditLogPath, auditLog)
	}
	for _, cluster := range []string{"lab", "filelab"} {
		checkStored(t, st, cluster, want, dataDir)
	}
	if len(want) < total {
		t.Errorf("the audit log holds %d events for %d requests", len(want), total)
	}
}

// checkStored waits until every key of want is stored for cluster, and
// checks that each is stored once.
func checkStored(t *testing.T, st *sqlite.Store, cluster string, want map[string]bool, dataDir string) {
	t.Helper()
	ctx := t.Context()
	deadline := time.Now().Add(90 * time.Second)
	var missing []string
	for {
		evs, err := st.QueryAuditEvents(ctx, store.AuditQuery{Cluster: cluster})
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, e := range evs {
			count[e.AuditID+"/"+e.Stage]++
		}
		missing = missing[:0]
		for k := range want {
			if count[k] == 0 {
				missing = append(missing, k)
			}
		}
		if len(missing) == 0 {
			for k := range want {
				if count[k] != 1 {
					t.Errorf("%s: event %s stored %d times", cluster, k, count[k])
				}
			}
			t.Logf("%s: %d logged events, all stored exactly once (%d stored in all)", cluster, len(want), len(evs))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d events the API server logged never reached the store, e.g. %v (serve logs in %s)",
				cluster, len(missing), len(want), missing[:min(5, len(missing))], dataDir)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitReady polls /readyz until the server answers 200.
func waitReady(t *testing.T, addr string, caPEM []byte, logFile string) {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get("https://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	log, _ := os.ReadFile(logFile)
	t.Fatalf("palisade serve not ready on %s after 30s:\n%s", addr, log)
}
