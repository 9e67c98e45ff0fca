package admission

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/palisade-sec/palisade/internal/policy"
	"github.com/palisade-sec/palisade/internal/policyreport"
)

func TestWebhookConfiguration(t *testing.T) {
	ca := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	tests := []struct {
		name    string
		o       InstallOptions
		wantErr string
	}{
		{name: "url", o: InstallOptions{URL: "https://palisade.example:8443", CABundle: ca}},
		{name: "service", o: InstallOptions{Service: "palisade/palisade:8443", CABundle: ca, FailOpen: true}},
		{name: "plain http refused", o: InstallOptions{URL: "http://x", CABundle: ca}, wantErr: "want https"},
		{name: "both", o: InstallOptions{URL: "https://x", Service: "a/b", CABundle: ca}, wantErr: "not both"},
		{name: "neither", o: InstallOptions{CABundle: ca}, wantErr: "URL or Service"},
		{name: "no CA", o: InstallOptions{URL: "https://x"}, wantErr: "CA bundle"},
		{name: "bad service", o: InstallOptions{Service: "nonamespace", CABundle: ca}, wantErr: "namespace/name"},
		{name: "bad port", o: InstallOptions{Service: "a/b:99999", CABundle: ca}, wantErr: "bad port"},
		{name: "cert-manager injects the CA", o: InstallOptions{Service: "palisade/palisade", CAInjectFrom: "palisade/palisade"}},
		{name: "CA bundle and injection", o: InstallOptions{Service: "palisade/palisade", CABundle: ca, CAInjectFrom: "palisade/palisade"}, wantErr: "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vwc, err := WebhookConfiguration(tt.o)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := vwc.Webhooks[0]
			if *w.TimeoutSeconds != 3 || len(w.Rules) != 3 {
				t.Errorf("webhook = %+v", w)
			}
			// Non-dry-run reviews write PolicyReports: None would be false.
			if w.SideEffects == nil || *w.SideEffects != admissionregistrationv1.SideEffectClassNoneOnDryRun {
				t.Errorf("sideEffects %v, want NoneOnDryRun", w.SideEffects)
			}
			if got := vwc.Annotations[InjectCAFromAnnotation]; got != tt.o.CAInjectFrom || (got != "") == (len(w.ClientConfig.CABundle) > 0) {
				t.Errorf("inject-ca-from %q with caBundle of %d bytes; want %q and a caBundle only without it", got, len(w.ClientConfig.CABundle), tt.o.CAInjectFrom)
			}
			if got := string(*w.FailurePolicy); got != map[bool]string{true: "Ignore", false: "Fail"}[tt.o.FailOpen] {
				t.Errorf("failurePolicy %s with FailOpen=%v", got, tt.o.FailOpen)
			}
		})
	}
}

func TestMutatingWebhookConfiguration(t *testing.T) {
	ca := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	extra := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
		Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"*"}, Resources: []string{"services"}},
	}}
	o := InstallOptions{Service: "palisade/palisade:8443", CABundle: ca, ExcludeNamespaces: []string{"kube-system"}, ExtraRules: extra}
	mwc, err := MutatingWebhookConfiguration(o)
	if err != nil {
		t.Fatal(err)
	}
	vwc, err := WebhookConfiguration(o)
	if err != nil {
		t.Fatal(err)
	}
	m, v := mwc.Webhooks[0], vwc.Webhooks[0]
	if *m.ClientConfig.Service.Path != MutatePath || *v.ClientConfig.Service.Path != Path {
		t.Errorf("paths %s, %s", *m.ClientConfig.Service.Path, *v.ClientConfig.Service.Path)
	}
	if m.ReinvocationPolicy == nil || *m.ReinvocationPolicy != "IfNeeded" || *m.TimeoutSeconds != 3 || *m.SideEffects != admissionregistrationv1.SideEffectClassNone {
		t.Errorf("mutating webhook = %+v", m)
	}
	// Pinning changes pod templates only; the policies' kinds are the
	// validating webhook's alone.
	if diff := cmp.Diff(WorkloadRules(), m.Rules); diff != "" {
		t.Errorf("mutating rules (-workloads +mutating):\n%s", diff)
	}
	if diff := cmp.Diff(append(WorkloadRules(), extra...), v.Rules); diff != "" {
		t.Errorf("validating rules (-workloads and extra +validating):\n%s", diff)
	}
	if diff := cmp.Diff(v.NamespaceSelector, m.NamespaceSelector); diff != "" {
		t.Errorf("selectors differ (-validating +mutating):\n%s", diff)
	}
	if _, err := MutatingWebhookConfiguration(InstallOptions{URL: "http://x", CABundle: ca}); err == nil {
		t.Error("plain http accepted")
	}
}

func TestParamsRBAC(t *testing.T) {
	refs := []policy.ConfigMapRef{{Namespace: "palisade", Name: "limits"}, {Namespace: "shop", Name: "allowed-registries"}}
	objs, err := ParamsRBAC(refs, "palisade/palisade")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 4 {
		t.Fatalf("%d objects, want a Role and a RoleBinding per ConfigMap", len(objs))
	}
	role, ok := objs[2].(*rbacv1.Role)
	if !ok {
		t.Fatalf("objs[2] is %T", objs[2])
	}
	want := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"allowed-registries"}, Verbs: []string{"get", "list", "watch"}}}
	if role.Namespace != "shop" || !cmp.Equal(role.Rules, want) {
		t.Errorf("role %s/%s rules %+v, want exactly the one ConfigMap", role.Namespace, role.Name, role.Rules)
	}
	rb := objs[3].(*rbacv1.RoleBinding)
	if rb.RoleRef.Name != role.Name || rb.Subjects[0].Namespace != "palisade" || rb.Subjects[0].Name != "palisade" || rb.Subjects[0].Kind != "ServiceAccount" {
		t.Errorf("binding %+v", rb)
	}
	for _, bad := range []string{"", "palisade", "/x", "a/b/c"} {
		if _, err := ParamsRBAC(refs, bad); err == nil || !strings.Contains(err.Error(), "namespace/name") {
			t.Errorf("service account %q: err = %v", bad, err)
		}
	}
}

func TestParseService(t *testing.T) {
	tests := []struct {
		in      string
		want    ServiceRef
		wantErr string
	}{
		{in: "palisade/palisade", want: ServiceRef{Namespace: "palisade", Name: "palisade", Port: 443}},
		{in: "sec/webhook:8443", want: ServiceRef{Namespace: "sec", Name: "webhook", Port: 8443}},
		{in: "palisade", wantErr: "namespace/name"},
		{in: "/palisade", wantErr: "namespace/name"},
		{in: "palisade/", wantErr: "namespace/name"},
		{in: "a/b/c", wantErr: "namespace/name"},
		{in: "a/:443", wantErr: "namespace/name"},
		{in: "a/b:0", wantErr: "bad port"},
		{in: "a/b:65536", wantErr: "bad port"},
		{in: "a/b:443x", wantErr: "bad port"},
		{in: "Shop/web", wantErr: "not a namespace or Service name"},
		{in: "shop/web.svc", wantErr: "not a namespace or Service name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseService(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.in) {
					t.Fatalf("err = %v, want %q naming the input", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseService(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func FuzzParseService(f *testing.F) {
	for _, s := range []string{"palisade/palisade", "a/b:8443", "a/b:", ":/:", "a/b:-1", "a//b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := ParseService(s)
		if err != nil {
			return
		}
		if ref.Namespace == "" || ref.Name == "" || ref.Port <= 0 || ref.Port > 65535 {
			t.Fatalf("ParseService(%q) = %+v", s, ref)
		}
		if again, err := ParseService(fmt.Sprintf("%s/%s:%d", ref.Namespace, ref.Name, ref.Port)); err != nil || again != ref {
			t.Fatalf("round trip of %+v: %+v, %v", ref, again, err)
		}
	})
}

// TestGenerateServingCert checks the generated pair the way the API server
// uses it: the serving certificate verifies against the CA (the caBundle)
// for the Service's DNS names, and for nothing else.
func TestGenerateServingCert(t *testing.T) {
	ref := ServiceRef{Namespace: "sec", Name: "webhook", Port: 443}
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	c, err := GenerateServingCert(ref, now)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(c.CertPEM, c.KeyPEM)
	if err != nil {
		t.Fatalf("serving key pair: %v", err)
	}
	leaf := pair.Leaf
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(c.CAPEM) {
		t.Fatal("CA PEM does not parse")
	}
	for _, name := range []string{"webhook.sec.svc", "webhook.sec.svc.cluster.local"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	for _, name := range []string{"webhook.other.svc", "evil.example"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: now}); err == nil {
			t.Errorf("verified for %s", name)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "webhook.sec.svc", Roots: roots, CurrentTime: now.Add(ServingCertValidity + time.Hour)}); err == nil {
		t.Error("verified after it expired")
	}
	if leaf.IsCA {
		t.Error("the serving certificate can sign: a leaked tls.key would be a CA")
	}
	if k, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("serving key %T, want ECDSA P-256", leaf.PublicKey)
	}
	block, _ := pem.Decode(c.CAPEM)
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !ca.IsCA || ca.Equal(leaf) {
		t.Fatalf("CA: %v (IsCA %v)", err, ca != nil && ca.IsCA)
	}
	// The CA's key exists only inside GenerateServingCert: the Secret holds
	// one private key, the leaf's.
	secret := TLSSecret("sec", "palisade-tls", c)
	if secret.Type != corev1.SecretTypeTLS || strings.Count(string(secret.Data["tls.key"])+string(secret.Data["ca.crt"]), "PRIVATE KEY-----") != 2 {
		t.Errorf("secret %s holds %v", secret.Type, slices.Sorted(maps.Keys(secret.Data)))
	}
	other, err := GenerateServingCert(ref, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "webhook.sec.svc", Roots: poolOf(t, other.CAPEM), CurrentTime: now}); err == nil {
		t.Error("a second run's CA verifies the first run's certificate: CAs are not distinct")
	}
}

func poolOf(t *testing.T, pemBytes []byte) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pemBytes) {
		t.Fatal("no certificate in PEM")
	}
	return p
}

func TestServiceAndCertificate(t *testing.T) {
	ref := ServiceRef{Namespace: "sec", Name: "webhook", Port: 8443}
	svc := Service(ref)
	if svc.Namespace != "sec" || svc.Name != "webhook" || svc.Spec.Ports[0].Port != 8443 || svc.Spec.Ports[0].TargetPort.StrVal != "https" ||
		!maps.Equal(svc.Spec.Selector, map[string]string{"app.kubernetes.io/name": "palisade", "app.kubernetes.io/instance": "webhook"}) {
		t.Errorf("service %+v", svc)
	}
	cert, err := CertManagerCertificate(ref, "webhook-tls", "ca-issuer", "ClusterIssuer")
	if err != nil {
		t.Fatal(err)
	}
	names, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
	kind, _, _ := unstructured.NestedString(cert.Object, "spec", "issuerRef", "kind")
	secret, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName")
	if !slices.Equal(names, ref.DNSNames()) || kind != "ClusterIssuer" || secret != "webhook-tls" || cert.GetNamespace() != "sec" {
		t.Errorf("certificate %v", cert.Object)
	}
	for _, bad := range [][2]string{{"", "Issuer"}, {"ca", "issuer"}, {"ca", "Secret"}} {
		if _, err := CertManagerCertificate(ref, "x", bad[0], bad[1]); err == nil {
			t.Errorf("issuer %q kind %q accepted", bad[0], bad[1])
		}
	}
}

// TestDryRunReviews pairs with sideEffects NoneOnDryRun: a dry-run review
// writes no PolicyReport result, and the decision log says which reviews
// were dry runs.
func TestDryRunReviews(t *testing.T) {
	for _, dryRun := range []bool{false, true} {
		t.Run(fmt.Sprint("dryRun=", dryRun), func(t *testing.T) {
			var logs bytes.Buffer
			rec := &countRecorder{}
			e := celEngine(t, policy.Mode(Audit), []string{"lp/no-privileged"}, nil)
			e.Reports = rec
			e.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			ar := review(t, "shop", "Deployment", privilegedDeployment())
			ar.DryRun = &dryRun
			e.Review(t.Context(), ar)
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("decision log %q: %v", logs.String(), err)
			}
			if line["dry_run"] != dryRun {
				t.Errorf("log dry_run = %v, want %v", line["dry_run"], dryRun)
			}
			if wrote := rec.n.Load() > 0; wrote == dryRun {
				t.Errorf("dry run %v wrote a PolicyReport result: %v", dryRun, wrote)
			}
		})
	}
}

// countRecorder counts the results an engine hands to PolicyReports.
type countRecorder struct{ n atomic.Int64 }

func (r *countRecorder) Record(policyreport.Result) { r.n.Add(1) }
