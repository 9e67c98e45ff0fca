package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/palisade-sec/palisade/internal/admission"
	"github.com/palisade-sec/palisade/internal/attest"
	"github.com/palisade-sec/palisade/internal/config"
)

// The "own core" variant of BenchmarkAdmissionThroughAPIServer runs the
// webhook as a child process on CPU 1 while etcd, the API server and the
// client share CPU 0: the topology of a cluster, where the webhook's pods
// run on worker nodes and not on the control plane's cores. The child is
// this test binary, started with webhookChildEnv naming a directory that
// holds the trusted public key (key.pub) and the serving certificate.
const (
	webhookChildEnv      = "PALISADE_BENCH_WEBHOOK_DIR"
	webhookChildHTTP1Env = "PALISADE_BENCH_WEBHOOK_HTTP1"
	webhookChildNullEnv  = "PALISADE_BENCH_WEBHOOK_NULL"
)

// benchEngine is the webhook of the benchmark: image trust with
// attestation verification against the lab registry, and PSS restricted.
func benchEngine(reg attest.Registry, key *attest.PublicKey) (*admission.Engine, error) {
	v, err := admission.NewVerifier(reg, []*attest.PublicKey{key}, 1024)
	if err != nil {
		return nil, err
	}
	pss, err := admission.NewPodSecurity("restricted", "latest")
	if err != nil {
		return nil, err
	}
	return &admission.Engine{Rules: []admission.Rule{
		{Policy: &admission.ImageTrust{Registries: config.Registries{Trusted: []string{"127.0.0.1:*/shop/*"}}, Verifier: v}, Mode: admission.Enforce},
		{Policy: pss, Mode: admission.Enforce},
	}}, nil
}

// webhookStats is what the webhook served so far.
type webhookStats struct {
	Reviews, HandlerNanos, Peak, Conns int64
}

// benchWebhook is a running webhook: where it listens, its certificate,
// its counters, and its process when it runs in a child (0 in-process).
type benchWebhook struct {
	addr  string
	caPEM []byte
	stats func() webhookStats
	pid   int
}

func mustBenchEngine(b *testing.B, reg attest.Registry, key *attest.PublicKey) *admission.Engine {
	engine, err := benchEngine(reg, key)
	if err != nil {
		b.Fatal(err)
	}
	return engine
}

func inProcessWebhook(b *testing.B, h http.Handler, http1Only bool) benchWebhook {
	served := &timedHandler{h: h}
	addr, caPEM, conns := serveWebhook(b, served, http1Only)
	return benchWebhook{addr: addr, caPEM: caPEM, stats: func() webhookStats {
		return webhookStats{Reviews: served.n.Load(), HandlerNanos: served.ns.Load(), Peak: served.peak.Load(), Conns: conns.Load()}
	}}
}

// childWebhook starts the webhook in a child process pinned to cpu and
// stops it when the benchmark ends.
func childWebhook(b *testing.B, key *attest.PublicKey, http1Only, null bool, cpu int) benchWebhook {
	dir := b.TempDir()
	pub, err := key.PEM()
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pub"), pub, 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("taskset", "-c", strconv.Itoa(cpu), os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), webhookChildEnv+"="+dir, webhookChildHTTP1Env+"="+strconv.FormatBool(http1Only), webhookChildNullEnv+"="+strconv.FormatBool(null))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start webhook child: %v", err)
	}
	b.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	// The child prints its webhook address, its stats address and the path
	// of its certificate, one per line.
	lines := bufio.NewScanner(stdout)
	var got []string
	for len(got) < 3 && lines.Scan() {
		got = append(got, lines.Text())
	}
	if len(got) < 3 {
		b.Fatalf("webhook child printed %q", got)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	caPEM, err := os.ReadFile(got[2])
	if err != nil {
		b.Fatal(err)
	}
	statsURL := "http://" + got[1] + "/stats"
	return benchWebhook{addr: got[0], caPEM: caPEM, pid: cmd.Process.Pid, stats: func() webhookStats {
		var s webhookStats
		resp, err := http.Get(statsURL)
		if err != nil {
			b.Logf("read webhook child stats: %v", err)
			return s
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			b.Logf("decode webhook child stats: %v", err)
		}
		return s
	}}
}

// webhookChild serves the benchmark's webhook until its stdin closes.
func webhookChild(dir string, http1Only, null bool) error {
	h := &admission.Handler{Reviewer: allowAll{}}
	if !null {
		engine, err := childEngine(dir)
		if err != nil {
			return err
		}
		h = &admission.Handler{Engine: engine}
	}
	served := &timedHandler{h: h}
	addr, caPEM, conns, stop, err := listenWebhook(dir, served, http1Only)
	if err != nil {
		return err
	}
	defer stop()
	certPath := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(certPath, caPEM, 0o600); err != nil {
		return err
	}
	statsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	stats := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(webhookStats{Reviews: served.n.Load(), HandlerNanos: served.ns.Load(), Peak: served.peak.Load(), Conns: conns.Load()})
	})}
	go func() { _ = stats.Serve(statsLn) }()
	defer stats.Close()
	fmt.Println(addr)
	fmt.Println(statsLn.Addr().String())
	fmt.Println(certPath)
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it
	return nil
}

// childEngine is benchEngine with the key the parent left in dir.
func childEngine(dir string) (*admission.Engine, error) {
	pubPEM, err := os.ReadFile(filepath.Join(dir, "key.pub"))
	if err != nil {
		return nil, err
	}
	key, err := attest.ParsePublicKey("key.pub", pubPEM)
	if err != nil {
		return nil, err
	}
	return benchEngine(attest.Registry{Insecure: true, Keychain: authn.NewMultiKeychain()}, key)
}

// maybeWebhookChild runs webhookChild when this binary was started as one,
// and reports whether it was.
func maybeWebhookChild() (bool, error) {
	dir := os.Getenv(webhookChildEnv)
	if dir == "" {
		return false, nil
	}
	return true, webhookChild(dir, os.Getenv(webhookChildHTTP1Env) == "true", os.Getenv(webhookChildNullEnv) == "true")
}

// pinCPU pins every thread of process pid to cpus (a taskset list such as
// "0" or "0,1").
func pinCPU(pid int, cpus string) error {
	out, err := exec.Command("taskset", "-a", "-p", "-c", cpus, strconv.Itoa(pid)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("taskset %d to %s: %v: %s", pid, cpus, err, out)
	}
	return nil
}
