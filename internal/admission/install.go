package admission

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/palisade-sec/palisade/internal/policy"
)

// WebhookTimeoutSeconds is the timeout generated configurations use: long
// waits starve the control plane's lease renewals, and the handler answers
// within its own 2.5s deadline anyway.
const WebhookTimeoutSeconds = 3

// InstallOptions describes where the webhook is reachable.
type InstallOptions struct {
	// URL is the webhook's https URL (outside the cluster, or for tests).
	URL string
	// Service is "namespace/name[:port]" of the in-cluster Service.
	Service string
	// CABundle verifies the webhook's serving certificate (PEM).
	CABundle []byte
	// CAInjectFrom is the "namespace/name" of a cert-manager Certificate
	// whose CA cert-manager's cainjector writes into the configurations'
	// caBundle (annotation cert-manager.io/inject-ca-from). It replaces
	// CABundle.
	CAInjectFrom string
	// FailOpen sets failurePolicy Ignore instead of Fail.
	FailOpen bool
	// ExcludeNamespaces are left out by the namespaceSelector, so their
	// requests never reach the webhook at all. Cluster-scoped objects
	// (ClusterRoleBindings, …) have no namespace and are always sent; a
	// Namespace is matched on its own name.
	ExcludeNamespaces []string
	// ExtraRules are added to the validating webhook's workload rules: the
	// resources CEL policies judge (PolicyRules). The digest-pinning
	// webhook only ever changes pod templates and does not get them.
	ExtraRules []admissionregistrationv1.RuleWithOperations
}

// WebhookConfiguration returns the ValidatingWebhookConfiguration that
// routes pod and workload creates and updates to Palisade, and those of
// o.ExtraRules.
func WebhookConfiguration(o InstallOptions) (*admissionregistrationv1.ValidatingWebhookConfiguration, error) {
	c, err := common(o, Path)
	if err != nil {
		return nil, err
	}
	c.Rules = append(c.Rules, o.ExtraRules...)
	return &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: configMeta(o),
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "workloads.palisade.dev", ClientConfig: c.ClientConfig, Rules: c.Rules, NamespaceSelector: c.NamespaceSelector, MatchConditions: c.MatchConditions,
			MatchPolicy: c.MatchPolicy, FailurePolicy: c.FailurePolicy, SideEffects: c.SideEffects, TimeoutSeconds: c.TimeoutSeconds,
			AdmissionReviewVersions: c.AdmissionReviewVersions,
		}},
	}, nil
}

// MutatingWebhookConfiguration returns the configuration of the
// digest-pinning webhook (admission.imageTrust.pinDigests): same rules,
// selectors, timeout and failure policy as the validating one.
// reinvocationPolicy IfNeeded runs it again when another mutating webhook
// adds a container after it, so no tag-only image slips through.
func MutatingWebhookConfiguration(o InstallOptions) (*admissionregistrationv1.MutatingWebhookConfiguration, error) {
	c, err := common(o, MutatePath)
	if err != nil {
		return nil, err
	}
	reinvoke := admissionregistrationv1.IfNeededReinvocationPolicy
	// Pinning only patches the object; unlike validation it records no
	// PolicyReport, so it has no side effects at all.
	none := admissionregistrationv1.SideEffectClassNone
	return &admissionregistrationv1.MutatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "MutatingWebhookConfiguration"},
		ObjectMeta: configMeta(o),
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name: "pin-digests.palisade.dev", ClientConfig: c.ClientConfig, Rules: c.Rules, NamespaceSelector: c.NamespaceSelector, MatchConditions: c.MatchConditions,
			MatchPolicy: c.MatchPolicy, FailurePolicy: c.FailurePolicy, SideEffects: &none, TimeoutSeconds: c.TimeoutSeconds,
			AdmissionReviewVersions: c.AdmissionReviewVersions, ReinvocationPolicy: &reinvoke,
		}},
	}, nil
}

// configMeta is the metadata of both webhook configurations: with
// CAInjectFrom, the annotation that has cert-manager fill in caBundle.
func configMeta(o InstallOptions) metav1.ObjectMeta {
	m := metav1.ObjectMeta{Name: "palisade", Labels: map[string]string{"app.kubernetes.io/name": "palisade"}}
	if o.CAInjectFrom != "" {
		m.Annotations = map[string]string{InjectCAFromAnnotation: o.CAInjectFrom}
	}
	return m
}

// InjectCAFromAnnotation tells cert-manager's cainjector which
// Certificate's CA to write into a webhook configuration's caBundle.
const InjectCAFromAnnotation = "cert-manager.io/inject-ca-from"

// ServiceRef is a parsed InstallOptions.Service.
type ServiceRef struct {
	Namespace, Name string
	Port            int32
}

// DNSNames are the names the API server may use to reach the Service: it
// dials <name>.<namespace>.svc; the cluster-domain form is for clients
// that spell it out.
func (r ServiceRef) DNSNames() []string {
	return []string{r.Name + "." + r.Namespace + ".svc", r.Name + "." + r.Namespace + ".svc.cluster.local"}
}

// ParseService parses "namespace/name[:port]"; the port defaults to 443.
func ParseService(s string) (ServiceRef, error) {
	ns, rest, ok := strings.Cut(s, "/")
	if !ok || ns == "" || rest == "" {
		return ServiceRef{}, fmt.Errorf("service %q: want namespace/name[:port]", s)
	}
	name, portStr, _ := strings.Cut(rest, ":")
	if name == "" || strings.Contains(name, "/") {
		return ServiceRef{}, fmt.Errorf("service %q: want namespace/name[:port]", s)
	}
	// Both end up in DNS names (the certificate's, the API server's call).
	for _, part := range []string{ns, name} {
		if errs := validation.IsDNS1123Label(part); len(errs) > 0 {
			return ServiceRef{}, fmt.Errorf("service %q: %q is not a namespace or Service name: %s", s, part, errs[0])
		}
	}
	port := int32(443)
	if portStr != "" {
		p, err := strconv.ParseInt(portStr, 10, 32)
		if err != nil || p <= 0 || p > 65535 {
			return ServiceRef{}, fmt.Errorf("service %q: bad port", s)
		}
		port = int32(p)
	}
	return ServiceRef{Namespace: ns, Name: name, Port: port}, nil
}

// common builds the parts the validating and mutating webhooks share,
// with the client config pointing at path.
func common(o InstallOptions, path string) (*admissionregistrationv1.ValidatingWebhook, error) {
	cc := admissionregistrationv1.WebhookClientConfig{CABundle: o.CABundle}
	switch {
	case o.URL != "" && o.Service != "":
		return nil, errors.New("give either a URL or a Service, not both")
	case o.URL != "":
		u, err := url.Parse(o.URL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("webhook URL %q: want https://host[:port]", o.URL)
		}
		full := strings.TrimSuffix(o.URL, "/") + path
		cc.URL = &full
	case o.Service != "":
		ref, err := ParseService(o.Service)
		if err != nil {
			return nil, err
		}
		cc.Service = &admissionregistrationv1.ServiceReference{Namespace: ref.Namespace, Name: ref.Name, Port: &ref.Port, Path: &path}
	default:
		return nil, errors.New("give the webhook's URL or Service")
	}
	switch {
	case len(o.CABundle) > 0 && o.CAInjectFrom != "":
		return nil, errors.New("give either a CA bundle or a cert-manager Certificate to inject it from, not both")
	case len(o.CABundle) == 0 && o.CAInjectFrom == "":
		return nil, errors.New("a CA bundle is required: the API server must verify the webhook")
	}
	policy := admissionregistrationv1.Fail
	if o.FailOpen {
		policy = admissionregistrationv1.Ignore
	}
	// Non-dry-run reviews write PolicyReports (warn and audit results);
	// dry-run reviews write nothing, which is what NoneOnDryRun declares.
	// None would be a lie, and NoneOnDryRun still lets `kubectl apply
	// --dry-run=server` reach the webhook.
	sideEffects := admissionregistrationv1.SideEffectClassNoneOnDryRun
	timeout := int32(WebhookTimeoutSeconds)
	equivalent := admissionregistrationv1.Equivalent
	return &admissionregistrationv1.ValidatingWebhook{
		ClientConfig: cc,
		Rules:        WorkloadRules(),
		NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
			Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: o.ExcludeNamespaces,
		}}},
		// No matchCondition skips controller-owned pods: ownerReferences
		// are set by whoever creates the pod, so such a shortcut would let
		// anyone bypass the webhook by forging one. Only updates that
		// change nothing a policy can judge are kept away.
		MatchConditions:         []admissionregistrationv1.MatchCondition{SkipUnchangedUpdates},
		MatchPolicy:             &equivalent,
		FailurePolicy:           &policy,
		SideEffects:             &sideEffects,
		TimeoutSeconds:          &timeout,
		AdmissionReviewVersions: []string{"v1"},
	}, nil
}

// SkipUnchangedUpdates keeps updates that leave an object's spec, labels,
// annotations, owners and finalizers as they were off the webhook: what is
// left (resourceVersion, managedFields, generation) is bookkeeping no policy
// judges, and rollouts and controllers send many such writes. Objects
// without a spec (RBAC, ConfigMaps) are always sent, since their content is
// elsewhere. The API server evaluates it before calling the webhook, so
// a skipped request costs no round trip at all.
var SkipUnchangedUpdates = admissionregistrationv1.MatchCondition{
	Name: "changed-or-not-an-update",
	Expression: `request.operation != 'UPDATE' ||
oldObject == null ||
!has(object.spec) ||
object.spec != oldObject.spec ||
(has(object.metadata.labels) ? object.metadata.labels : {}) != (has(oldObject.metadata.labels) ? oldObject.metadata.labels : {}) ||
(has(object.metadata.annotations) ? object.metadata.annotations : {}) != (has(oldObject.metadata.annotations) ? oldObject.metadata.annotations : {}) ||
(has(object.metadata.ownerReferences) ? object.metadata.ownerReferences : []) != (has(oldObject.metadata.ownerReferences) ? oldObject.metadata.ownerReferences : []) ||
(has(object.metadata.finalizers) ? object.metadata.finalizers : []) != (has(oldObject.metadata.finalizers) ? oldObject.metadata.finalizers : [])`,
}

// ParamsRBAC returns, for each params ConfigMap, a Role that may read
// exactly that ConfigMap (resourceNames: list and watch with a
// metadata.name field selector are authorized by them too) and a
// RoleBinding granting it to serviceAccount ("namespace/name"), the
// identity palisade serve runs as.
func ParamsRBAC(refs []policy.ConfigMapRef, serviceAccount string) ([]runtime.Object, error) {
	ns, name, ok := strings.Cut(serviceAccount, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("service account %q: want namespace/name", serviceAccount)
	}
	labels := map[string]string{"app.kubernetes.io/name": "palisade"}
	var out []runtime.Object
	for _, ref := range refs {
		meta := metav1.ObjectMeta{Name: "palisade-params-" + ref.Name, Namespace: ref.Namespace, Labels: labels}
		out = append(out,
			&rbacv1.Role{
				TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
				ObjectMeta: meta,
				Rules: []rbacv1.PolicyRule{{
					APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{ref.Name},
					Verbs: []string{"get", "list", "watch"},
				}},
			},
			&rbacv1.RoleBinding{
				TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
				ObjectMeta: meta,
				RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: meta.Name},
				Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: ns, Name: name}},
			})
	}
	return out, nil
}

// ServiceTargetPort is the container port the Service forwards to: the
// port the chart's Deployment names https (palisade serve --listen
// 0.0.0.0:8443).
const ServiceTargetPort = "https"

// PodLabels are the labels the chart puts on palisade serve's pods for a
// release named name; the Service selects them.
func PodLabels(name string) map[string]string {
	return map[string]string{"app.kubernetes.io/name": "palisade", "app.kubernetes.io/instance": name}
}

// Service returns the ClusterIP Service of ref that routes the API
// server's webhook calls to palisade serve's pods: the chart's
// service.yaml for a release named ref.Name, so install and chart agree
// on labels and ports.
func Service(ref ServiceRef) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: ref.Name, Namespace: ref.Namespace, Labels: map[string]string{"app.kubernetes.io/name": "palisade"}},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: PodLabels(ref.Name),
			Ports: []corev1.ServicePort{{
				Name: "https", Port: ref.Port, TargetPort: intstr.FromString(ServiceTargetPort), Protocol: corev1.ProtocolTCP,
			}},
		},
	}
}

// ServingCertValidity is how long a generated CA and serving certificate
// last. The CA's key is discarded once it has signed, so the pair is
// renewed by generating both again (install --generate-cert); cert-manager
// renews on its own.
const ServingCertValidity = 365 * 24 * time.Hour

// ServingCert is a generated serving key pair and the CA certificate that
// signed it. The CA's private key is not kept: nothing else can ever be
// signed by it, so a caBundle holding it trusts exactly this certificate.
type ServingCert struct {
	CAPEM, CertPEM, KeyPEM []byte
}

// GenerateServingCert creates a throw-away CA (ECDSA P-256) and a serving
// certificate it signs for ref's DNS names, valid from an hour before now
// (clock skew) for ServingCertValidity. It follows server.selfSigned and
// kubelab's pki, with a CA apart from the leaf so the Secret never holds a
// key that can sign.
func GenerateServingCert(ref ServiceRef, now time.Time) (*ServingCert, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	notBefore, notAfter := now.Add(-time.Hour), now.Add(ServingCertValidity)
	caSerial, err := certSerial()
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          caSerial,
		Subject:               pkix.Name{CommonName: "palisade webhook CA " + ref.Namespace + "/" + ref.Name, Organization: []string{"palisade admission install"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("self-sign webhook CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parse webhook CA: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate serving key: %w", err)
	}
	serial, err := certSerial()
	if err != nil {
		return nil, err
	}
	names := ref.DNSNames()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("sign serving certificate for %s: %w", names[0], err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal serving key: %w", err)
	}
	return &ServingCert{
		CAPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

func certSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, fmt.Errorf("generate certificate serial: %w", err)
	}
	return n, nil
}

// TLSSecret returns the kubernetes.io/tls Secret palisade serve mounts
// (the chart's tls.secretName): the serving key pair, and ca.crt for
// clients that pin the CA.
func TLSSecret(namespace, name string, c *ServingCert) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{"app.kubernetes.io/name": "palisade"}},
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			corev1.TLSCertKey:       c.CertPEM,
			corev1.TLSPrivateKeyKey: c.KeyPEM,
			"ca.crt":                c.CAPEM,
		},
	}
}

// CertManagerCertificate returns the cert-manager Certificate (named like
// the Service, as the chart's certificate.yaml) that has issuer
// (issuerKind Issuer or ClusterIssuer) issue the serving certificate for
// ref into the Secret secretName. Pair it with
// InstallOptions.CAInjectFrom = ref.Namespace/ref.Name.
func CertManagerCertificate(ref ServiceRef, secretName, issuer, issuerKind string) (*unstructured.Unstructured, error) {
	if issuer == "" {
		return nil, errors.New("cert-manager issuer: name is empty")
	}
	if issuerKind != "Issuer" && issuerKind != "ClusterIssuer" {
		return nil, fmt.Errorf("cert-manager issuer kind %q: want Issuer or ClusterIssuer", issuerKind)
	}
	var names []any
	for _, n := range ref.DNSNames() {
		names = append(names, n)
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1",
		"kind":       "Certificate",
		"metadata": map[string]any{
			"name": ref.Name, "namespace": ref.Namespace,
			"labels": map[string]any{"app.kubernetes.io/name": "palisade"},
		},
		"spec": map[string]any{
			"secretName": secretName,
			"dnsNames":   names,
			"privateKey": map[string]any{"algorithm": "ECDSA", "size": int64(256)},
			"issuerRef":  map[string]any{"kind": issuerKind, "name": issuer},
		},
	}}, nil
}
