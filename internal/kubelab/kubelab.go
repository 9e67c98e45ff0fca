// Package kubelab starts a real Kubernetes control plane — etcd and
// kube-apiserver built from the Go module proxy by tools/kubelab — on loopback
// ports, for tests and the demo. There is no kubelet or scheduler: objects are
// stored, not run, which is what admission, audit and posture need.
//
// A cluster starts in about two seconds once the binaries are cached:
//
//	c, err := kubelab.Start(ctx, kubelab.Options{})
//	defer c.Stop()
//	client := kubernetes.NewForConfigOrDie(c.Config)
package kubelab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/rest"
)

// KubernetesVersion is the version tools/kubelab builds. Keep it equal to
// k8s_version in tools/kubelab/build.sh.
const KubernetesVersion = "v1.37.2"

// ErrBinariesMissing is returned by Start when etcd, kube-apiserver or kubectl
// have not been built yet.
var ErrBinariesMissing = errors.New("kubelab binaries missing: run 'make kubelab' (tools/kubelab/build.sh) to build etcd, kube-apiserver and kubectl")

// Options configures a lab cluster. The zero value starts a plain cluster.
type Options struct {
	// BinDir holds etcd, kube-apiserver and kubectl. Default: BinDir().
	BinDir string
	// Dir is where certificates, data and logs go. Default: a new temporary
	// directory that Stop removes. A caller-supplied Dir is left in place.
	Dir string
	// AnonymousAuth lets unauthenticated requests through as system:anonymous,
	// as some real clusters do; off by default like hardened clusters.
	AnonymousAuth bool
	// AuditPolicy is an audit.k8s.io/v1 Policy in YAML. When nil and an audit
	// sink is configured, DefaultAuditPolicy is used.
	AuditPolicy []byte
	// AuditLog writes audit events as JSON lines to Cluster.AuditLogPath.
	AuditLog bool
	// AuditWebhook sends audit events in batches to a receiver.
	AuditWebhook *Endpoint
	// ValidatingWebhooks and MutatingWebhooks are created once the API server
	// is ready, before Start returns.
	ValidatingWebhooks []admissionregistrationv1.ValidatingWebhookConfiguration
	MutatingWebhooks   []admissionregistrationv1.MutatingWebhookConfiguration
	// ServiceAccountAdmission keeps the ServiceAccount admission plugin on.
	// Without a controller manager no namespace gets its "default" service
	// account, so the plugin would refuse every pod; it is off unless asked.
	ServiceAccountAdmission bool
	// ExtraAPIServerFlags are appended to the kube-apiserver command line.
	ExtraAPIServerFlags []string
	// ReadyTimeout bounds the wait for /readyz. Default 90s.
	ReadyTimeout time.Duration
	// Logger receives progress messages. Default: discard.
	Logger *slog.Logger
}

// Endpoint is a TLS endpoint the API server calls: an audit webhook receiver.
type Endpoint struct {
	URL string
	// CAData is the PEM CA bundle that verifies the endpoint's certificate.
	CAData []byte
	// Token is sent as a bearer token, when set.
	Token string
	// ClientCert makes the API server present a client certificate signed by
	// the lab CA with this common name (see Cluster.CAData to verify it).
	ClientCert string
	// BatchMaxWait is the audit webhook batch window. Default 1s.
	BatchMaxWait time.Duration
}

// Cluster is a running lab control plane.
type Cluster struct {
	// Config is an admin (system:masters) client config.
	Config *rest.Config
	// Kubeconfig is the path of a kubeconfig file with the same credentials.
	Kubeconfig string
	// URL is the API server's https URL.
	URL string
	// CAData is the PEM CA that signed the API server's certificate and the
	// client certificates it presents.
	CAData []byte
	// AdminToken authenticates as user "admin" in group system:masters.
	AdminToken string
	// AuditLogPath is the audit log file, when Options.AuditLog is set.
	AuditLogPath string
	// Dir holds certificates, etcd data and the components' logs.
	Dir string
	// StartupTime is how long the control plane took from start to ready.
	StartupTime time.Duration

	binDir    string
	ownsDir   bool
	pki       *pki
	procs     []*process // started order; stopped in reverse
	logger    *slog.Logger
	tokensCSV string
}

// BinDir returns where tools/kubelab/build.sh puts the binaries:
// $KUBELAB_BIN, else $XDG_CACHE_HOME/palisade/kubelab/<version>, else
// ~/.cache/palisade/kubelab/<version>.
func BinDir() string {
	if d := os.Getenv("KUBELAB_BIN"); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = filepath.Join(os.TempDir(), "palisade-cache")
	}
	return filepath.Join(base, "palisade", "kubelab", KubernetesVersion)
}

// BinariesPresent reports whether etcd, kube-apiserver and kubectl exist in dir.
func BinariesPresent(dir string) bool {
	for _, name := range []string{"etcd", "kube-apiserver", "kubectl"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// Start starts etcd and kube-apiserver and waits until the API server is
// ready. On error everything already started is stopped and removed.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	if opts.BinDir == "" {
		opts.BinDir = BinDir()
	}
	if !BinariesPresent(opts.BinDir) {
		return nil, fmt.Errorf("%w (looked in %s)", ErrBinariesMissing, opts.BinDir)
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 90 * time.Second
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{binDir: opts.BinDir, logger: logger, Dir: opts.Dir}
	if c.Dir == "" {
		d, err := os.MkdirTemp("", "kubelab-")
		if err != nil {
			return nil, fmt.Errorf("create lab directory: %w", err)
		}
		c.Dir, c.ownsDir = d, true
	} else if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create lab directory: %w", err)
	}
	defer func() {
		if err != nil {
			if stopErr := c.Stop(); stopErr != nil {
				err = errors.Join(err, fmt.Errorf("clean up after failed start: %w", stopErr))
			}
		}
	}()
	began := time.Now()
	if err := c.writeConfig(opts, began); err != nil {
		return nil, err
	}
	etcdURL, err := c.startEtcd(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.startAPIServer(ctx, opts, etcdURL); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx, opts.ReadyTimeout); err != nil {
		return nil, err
	}
	c.StartupTime = time.Since(began)
	if err := c.createWebhooks(ctx, opts); err != nil {
		return nil, err
	}
	logger.Info("kubelab ready", "url", c.URL, "startup", c.StartupTime.Round(time.Millisecond), "dir", c.Dir)
	return c, nil
}

// Stop terminates the control plane and, when Start created it, removes the
// lab directory. It is safe to call more than once.
func (c *Cluster) Stop() error {
	var errs []error
	for i := len(c.procs) - 1; i >= 0; i-- {
		if err := c.procs[i].stop(10 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	c.procs = nil
	if c.ownsDir && c.Dir != "" {
		if err := os.RemoveAll(c.Dir); err != nil {
			errs = append(errs, fmt.Errorf("remove lab directory: %w", err))
		}
		c.Dir = ""
	}
	return errors.Join(errs...)
}

// PIDs returns the process IDs of the running components.
func (c *Cluster) PIDs() []int {
	var pids []int
	for _, p := range c.procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	return pids
}

func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
