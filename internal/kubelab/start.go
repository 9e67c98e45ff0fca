package kubelab

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

func (c *Cluster) startEtcd(ctx context.Context) (string, error) {
	ports, err := freePorts(2)
	if err != nil {
		return "", err
	}
	client := "http://127.0.0.1:" + itoa(ports[0])
	args := []string{
		"--name=kubelab",
		"--data-dir=" + filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls=" + client,
		"--advertise-client-urls=" + client,
		"--listen-peer-urls=http://127.0.0.1:" + itoa(ports[1]),
		"--initial-advertise-peer-urls=http://127.0.0.1:" + itoa(ports[1]),
		"--initial-cluster=kubelab=http://127.0.0.1:" + itoa(ports[1]),
		// A lab cluster is thrown away: durability buys nothing, fsync costs
		// seconds on a shared disk.
		"--unsafe-no-fsync",
		"--quota-backend-bytes=1073741824",
		"--log-level=warn",
	}
	p, err := startProcess("etcd", filepath.Join(c.binDir, "etcd"), filepath.Join(c.Dir, "etcd.log"), args)
	if err != nil {
		return "", err
	}
	c.procs = append(c.procs, p)
	if err := waitTCP(ctx, p, "127.0.0.1:"+itoa(ports[0]), 30*time.Second); err != nil {
		return "", fmt.Errorf("start etcd: %w", err)
	}
	return client, nil
}

func (c *Cluster) startAPIServer(ctx context.Context, opts Options, etcdURL string) error {
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	c.URL = "https://127.0.0.1:" + itoa(ports[0])
	f := func(name string) string { return filepath.Join(c.Dir, name) }
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--secure-port=" + itoa(ports[0]),
		"--cert-dir=" + f("certs"),
		"--tls-cert-file=" + f("apiserver.crt"),
		"--tls-private-key-file=" + f("apiserver.key"),
		"--client-ca-file=" + f("ca.crt"),
		"--service-account-key-file=" + f("sa.pub"),
		"--service-account-signing-key-file=" + f("sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--token-auth-file=" + f("tokens.csv"),
		"--authorization-mode=RBAC",
		// Otherwise privileged pods are refused before any webhook sees them.
		"--allow-privileged=true",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--anonymous-auth=" + fmt.Sprint(opts.AnonymousAuth),
		"--profiling=false",
		"--v=1",
	}
	if !opts.ServiceAccountAdmission {
		args = append(args, "--disable-admission-plugins=ServiceAccount")
	}
	if opts.AuditLog || opts.AuditWebhook != nil {
		args = append(args, "--audit-policy-file="+f("audit-policy.yaml"))
	}
	if opts.AuditLog {
		c.AuditLogPath = f("audit.log")
		args = append(args, "--audit-log-path="+c.AuditLogPath, "--audit-log-format=json", "--audit-log-maxsize=100")
	}
	if ep := opts.AuditWebhook; ep != nil {
		wait := ep.BatchMaxWait
		if wait == 0 {
			wait = time.Second
		}
		args = append(args,
			"--audit-webhook-config-file="+f("audit-webhook.kubeconfig"),
			"--audit-webhook-mode=batch",
			"--audit-webhook-batch-max-wait="+wait.String(),
			"--audit-webhook-initial-backoff=1s",
		)
	}
	args = append(args, opts.ExtraAPIServerFlags...)
	p, err := startProcess("kube-apiserver", filepath.Join(c.binDir, "kube-apiserver"), f("kube-apiserver.log"), args)
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	return c.writeKubeconfig()
}

// waitReady polls /readyz with the admin token until it answers 200.
func (c *Cluster) waitReady(ctx context.Context, timeout time.Duration) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAData)
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}
	defer client.CloseIdleConnections()
	apiserver := c.procs[len(c.procs)-1]
	deadline := time.Now().Add(timeout)
	last := "no answer yet"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+"/readyz", nil)
		if err != nil {
			return fmt.Errorf("build readiness request: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+c.AdminToken)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if apiserver.exited() || time.Now().After(deadline) {
			return fmt.Errorf("%w (last readiness answer: %s)", apiserver.failure("wait for kube-apiserver /readyz"), last)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for kube-apiserver: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Cluster) createWebhooks(ctx context.Context, opts Options) error {
	if len(opts.ValidatingWebhooks) == 0 && len(opts.MutatingWebhooks) == 0 {
		return nil
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("build client: %w", err)
	}
	for i := range opts.ValidatingWebhooks {
		w := &opts.ValidatingWebhooks[i]
		if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, w, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create validating webhook configuration %s: %w", w.Name, err)
		}
	}
	for i := range opts.MutatingWebhooks {
		w := &opts.MutatingWebhooks[i]
		if _, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, w, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create mutating webhook configuration %s: %w", w.Name, err)
		}
	}
	return nil
}

// Kubectl returns the path of the kubectl built alongside the control plane
// and the arguments that point it at this cluster, for exec.Command.
func (c *Cluster) Kubectl(args ...string) (string, []string) {
	return filepath.Join(c.binDir, "kubectl"), append([]string{"--kubeconfig=" + c.Kubeconfig}, args...)
}

// Version returns the gitVersion the API server reports.
func (c *Cluster) Version() (string, error) {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return "", fmt.Errorf("build client: %w", err)
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		return "", fmt.Errorf("read server version: %w", err)
	}
	return strings.TrimSpace(v.GitVersion), nil
}
