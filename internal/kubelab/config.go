package kubelab

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// DefaultAuditPolicy records metadata for every request, full request and
// response bodies for changes to workloads and RBAC (what detections read),
// and never the bodies of Secrets, ConfigMaps or token reviews, which would
// copy credentials into the audit trail.
const DefaultAuditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: None
    users: ["system:apiserver"]
    verbs: ["get", "list", "watch"]
  - level: Metadata
    resources:
      - group: ""
        resources: ["secrets", "configmaps", "serviceaccounts/token"]
      - group: "authentication.k8s.io"
        resources: ["tokenreviews"]
  - level: RequestResponse
    verbs: ["create", "update", "patch", "delete"]
    resources:
      - group: ""
        resources: ["pods", "pods/exec", "pods/attach", "pods/portforward", "pods/ephemeralcontainers", "services", "namespaces", "serviceaccounts"]
      - group: "apps"
      - group: "batch"
      - group: "rbac.authorization.k8s.io"
      - group: "admissionregistration.k8s.io"
      - group: "certificates.k8s.io"
  - level: Metadata
`

func (c *Cluster) writeConfig(opts Options, now time.Time) error {
	p, err := newPKI(now)
	if err != nil {
		return err
	}
	c.pki, c.CAData = p, p.caPEM
	serverCert, serverKey, err := p.issue(now, "kube-apiserver", nil, true)
	if err != nil {
		return err
	}
	saKey, saPub, err := serviceAccountKeys()
	if err != nil {
		return err
	}
	if c.AdminToken, err = randomToken(); err != nil {
		return err
	}
	files := map[string][]byte{
		"ca.crt":            p.caPEM,
		"apiserver.crt":     serverCert,
		"apiserver.key":     serverKey,
		"sa.key":            saKey,
		"sa.pub":            saPub,
		"tokens.csv":        []byte(c.AdminToken + `,admin,admin,"system:masters"` + "\n"),
		"audit-policy.yaml": auditPolicy(opts),
	}
	if opts.AuditWebhook != nil {
		kc, err := c.auditWebhookKubeconfig(now, opts.AuditWebhook)
		if err != nil {
			return err
		}
		files["audit-webhook.kubeconfig"] = kc
	}
	return writeFiles(c.Dir, files)
}

func auditPolicy(opts Options) []byte {
	if opts.AuditPolicy != nil {
		return opts.AuditPolicy
	}
	return []byte(DefaultAuditPolicy)
}

// auditWebhookKubeconfig is the file --audit-webhook-config-file reads: the
// receiver is the "cluster", the API server is the "user".
func (c *Cluster) auditWebhookKubeconfig(now time.Time, ep *Endpoint) ([]byte, error) {
	if !strings.HasPrefix(ep.URL, "https://") {
		return nil, fmt.Errorf("audit webhook URL %q: must be https", ep.URL)
	}
	auth := &clientcmdapi.AuthInfo{Token: ep.Token}
	if ep.ClientCert != "" {
		cert, key, err := c.pki.issue(now, ep.ClientCert, nil, false)
		if err != nil {
			return nil, err
		}
		auth.ClientCertificateData, auth.ClientKeyData = cert, key
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["receiver"] = &clientcmdapi.Cluster{Server: ep.URL, CertificateAuthorityData: ep.CAData}
	cfg.AuthInfos["apiserver"] = auth
	cfg.Contexts["default"] = &clientcmdapi.Context{Cluster: "receiver", AuthInfo: "apiserver"}
	cfg.CurrentContext = "default"
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("write audit webhook kubeconfig: %w", err)
	}
	return b, nil
}

// writeKubeconfig writes the admin kubeconfig once the URL is known.
func (c *Cluster) writeKubeconfig() error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kubelab"] = &clientcmdapi.Cluster{Server: c.URL, CertificateAuthorityData: c.CAData}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: c.AdminToken}
	cfg.Contexts["kubelab"] = &clientcmdapi.Context{Cluster: "kubelab", AuthInfo: "admin"}
	cfg.CurrentContext = "kubelab"
	c.Kubeconfig = filepath.Join(c.Dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, c.Kubeconfig); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	c.Config = &rest.Config{
		Host:            c.URL,
		BearerToken:     c.AdminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.CAData},
		QPS:             200,
		Burst:           400,
	}
	return nil
}

// TokenConfig returns a client config that authenticates with token instead
// of the admin token; use it with tokens from AddUser or service accounts.
func (c *Cluster) TokenConfig(token string) *rest.Config {
	cfg := rest.CopyConfig(c.Config)
	cfg.BearerToken = token
	return cfg
}

// AnonymousConfig returns a client config with no credentials.
func (c *Cluster) AnonymousConfig() *rest.Config {
	cfg := rest.AnonymousClientConfig(c.Config)
	cfg.TLSClientConfig = rest.TLSClientConfig{CAData: c.CAData}
	return cfg
}

// ClientCertConfig returns a client config that authenticates with a client
// certificate for user cn in groups, signed by the lab CA.
func (c *Cluster) ClientCertConfig(cn string, groups ...string) (*rest.Config, error) {
	cert, key, err := c.pki.issue(time.Now(), cn, groups, false)
	if err != nil {
		return nil, err
	}
	cfg := rest.AnonymousClientConfig(c.Config)
	cfg.TLSClientConfig = rest.TLSClientConfig{CAData: c.CAData, CertData: cert, KeyData: key}
	return cfg, nil
}
