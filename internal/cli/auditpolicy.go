package cli

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/palisade-sec/palisade/internal/audit/receiver"
)

// RecommendedAuditPolicy is the audit.k8s.io/v1 Policy Palisade's rules are
// written against. Rules are first-match, so the order is the policy:
// noise out first, then credentials at Metadata (so their content never
// lands in the audit trail), then full bodies where detections need them,
// request bodies for every other write, and metadata for the remaining reads.
const RecommendedAuditPolicy = `# Recommended Kubernetes audit policy for Palisade (palisade audit policy).
# kube-apiserver --audit-policy-file=audit-policy.yaml
apiVersion: audit.k8s.io/v1
kind: Policy
# The RequestReceived stage duplicates ResponseComplete for every request.
omitStages: ["RequestReceived"]
rules:
  # Noise: health checks, discovery, and the high-rate reads and watches of
  # events, endpoints and leader-election leases.
  - level: None
    nonResourceURLs: ["/healthz*", "/livez*", "/readyz*", "/version", "/metrics", "/openapi/*", "/api", "/apis", "/apis/*"]
  - level: None
    verbs: ["get", "list", "watch"]
    resources:
      - group: ""
        resources: ["events", "endpoints"]
      - group: "events.k8s.io"
        resources: ["events"]
      - group: "coordination.k8s.io"
        resources: ["leases"]
      - group: "discovery.k8s.io"
        resources: ["endpointslices"]
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
  - level: None
    userGroups: ["system:nodes"]
    verbs: ["get", "list", "watch"]
    resources:
      - group: ""
        resources: ["nodes", "nodes/status"]
  # Credentials: who touched them and when, never their content (a Secret's
  # data or a review's token would otherwise be copied into the log).
  - level: Metadata
    resources:
      - group: ""
        resources: ["secrets", "configmaps"]
      - group: "authentication.k8s.io"
        resources: ["tokenreviews"]
  # Minted service account tokens: the request (audience, lifetime, bound
  # pod) but not the response, which is the token itself.
  - level: Request
    resources:
      - group: ""
        resources: ["serviceaccounts/token"]
  # Privilege changes: RBAC, admission webhooks and certificate approval,
  # with request and response, for every write.
  - level: RequestResponse
    verbs: ["create", "update", "patch", "delete", "deletecollection"]
    resources:
      - group: "rbac.authorization.k8s.io"
      - group: "admissionregistration.k8s.io"
      - group: "certificates.k8s.io"
        resources: ["certificatesigningrequests", "certificatesigningrequests/approval", "certificatesigningrequests/status"]
  # Getting into running workloads (exec over websockets is a "get").
  - level: RequestResponse
    resources:
      - group: ""
        resources: ["pods/exec", "pods/attach", "pods/portforward", "pods/ephemeralcontainers", "pods/proxy", "nodes/proxy", "services/proxy"]
  # Every other write: the request body says what changed.
  - level: Request
    verbs: ["create", "update", "patch", "delete", "deletecollection"]
  # Everything else (reads): who read what.
  - level: Metadata
`

type auditPolicyFlags struct {
	webhookURL string
	caFile     string
	tokenFile  string
	outputDir  string
}

func newAuditPolicyCommand() *cobra.Command {
	var f auditPolicyFlags
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Print the recommended API-server audit policy and, optionally, the webhook kubeconfig",
		Long: `Policy prints the audit.k8s.io/v1 Policy that Palisade's detections are written
against: nothing for health checks and the noisy reads of events, endpoints and
leases; Metadata for Secrets, ConfigMaps and TokenReviews, so credentials never
reach the audit trail; Request for minted service account tokens (the response
is the token); RequestResponse for RBAC, admission webhook configurations and
certificate approvals, and for exec, attach, port-forward and proxy; Request
for every other write; Metadata for the remaining reads.

With --webhook-url (Palisade's audit receiver, e.g.
https://palisade.example:8443/audit/v1/webhook) it also prints the kubeconfig
for --audit-webhook-config-file, trusting --ca-file and authenticating with
the token in --token-file (a token of group palisade:audit-sources whose name
is the cluster's name; without --token-file a placeholder is written).

--output-dir writes audit-policy.yaml and audit-webhook.kubeconfig (mode 0600)
instead of printing them. Point kube-apiserver at them with
--audit-policy-file and --audit-webhook-config-file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAuditPolicy(cmd.OutOrStdout(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.webhookURL, "webhook-url", "", "https URL of Palisade's audit receiver; also produce the webhook kubeconfig")
	fl.StringVar(&f.caFile, "ca-file", "", "PEM CA certificate the API server trusts for --webhook-url")
	fl.StringVar(&f.tokenFile, "token-file", "", "file holding the audit-source token to put in the kubeconfig")
	fl.StringVar(&f.outputDir, "output-dir", "", "write audit-policy.yaml (and audit-webhook.kubeconfig) here instead of printing")
	return cmd
}

// Placeholder is written instead of a token when no --token-file is given.
const auditTokenPlaceholder = "REPLACE-WITH-AN-AUDIT-SOURCE-TOKEN"

func runAuditPolicy(stdout io.Writer, f auditPolicyFlags) error {
	var kubeconfig []byte
	if f.webhookURL == "" && (f.caFile != "" || f.tokenFile != "") {
		return usageError(errors.New("--ca-file and --token-file need --webhook-url"))
	}
	if f.webhookURL != "" {
		var err error
		if kubeconfig, err = auditWebhookKubeconfig(f); err != nil {
			return err
		}
	}
	if f.outputDir == "" {
		if _, err := io.WriteString(stdout, RecommendedAuditPolicy); err != nil {
			return err
		}
		if kubeconfig != nil {
			_, err := fmt.Fprintf(stdout, "---\n# audit-webhook.kubeconfig (kube-apiserver --audit-webhook-config-file)\n%s", kubeconfig)
			return err
		}
		return nil
	}
	if err := os.MkdirAll(f.outputDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", f.outputDir, err)
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{{"audit-policy.yaml", []byte(RecommendedAuditPolicy), 0o644}}
	if kubeconfig != nil {
		files = append(files, struct {
			name string
			data []byte
			mode os.FileMode
		}{"audit-webhook.kubeconfig", kubeconfig, 0o600})
	}
	for _, fl := range files {
		p := filepath.Join(f.outputDir, fl.name)
		if err := os.WriteFile(p, fl.data, fl.mode); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		fmt.Fprintln(stdout, p)
	}
	return nil
}

// auditWebhookKubeconfig builds the file --audit-webhook-config-file reads:
// the receiver is the "cluster" and the API server the "user".
func auditWebhookKubeconfig(f auditPolicyFlags) ([]byte, error) {
	u, err := url.Parse(f.webhookURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, usageError(fmt.Errorf("--webhook-url %q: want an https:// URL such as https://palisade.example:8443%s", f.webhookURL, receiver.Path))
	}
	cluster := &clientcmdapi.Cluster{Server: f.webhookURL}
	if f.caFile != "" {
		ca, err := os.ReadFile(f.caFile)
		if err != nil {
			return nil, usageError(fmt.Errorf("--ca-file: %w", err))
		}
		if !strings.Contains(string(ca), "-----BEGIN CERTIFICATE-----") {
			return nil, usageError(fmt.Errorf("--ca-file %s: no PEM certificate in it", f.caFile))
		}
		cluster.CertificateAuthorityData = ca
	}
	token := auditTokenPlaceholder
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return nil, usageError(fmt.Errorf("--token-file: %w", err))
		}
		if token = strings.TrimSpace(string(b)); token == "" {
			return nil, usageError(fmt.Errorf("--token-file %s is empty", f.tokenFile))
		}
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["palisade"] = cluster
	cfg.AuthInfos["kube-apiserver"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["palisade"] = &clientcmdapi.Context{Cluster: "palisade", AuthInfo: "kube-apiserver"}
	cfg.CurrentContext = "palisade"
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("write audit webhook kubeconfig: %w", err)
	}
	return b, nil
}
