package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/palisade-sec/palisade/internal/admission"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/policy"
)

const widgetPolicy = `apiVersion: palisade.dev/v1alpha1
kind: Policy
metadata: {name: acme/widgets}
spec:
  matchResources: {apiGroups: [example.com], kinds: [Widget]}
  validations: [{expression: "true"}]
`

const limitPolicy = `apiVersion: palisade.dev/v1alpha1
kind: Policy
metadata: {name: acme/port-limit}
spec:
  paramsRef: {namespace: shop, name: port-limit}
  matchResources: {kinds: [Service, ClusterRoleBinding]}
  validations: [{expression: "size(object.spec.ports) <= int(params.maxPorts)"}]
`

// installFixture writes a CA file and a palisade.yaml enabling the policy
// file doc, and returns their paths.
func installFixture(t *testing.T, doc string) (ca, cfg string) {
	t.Helper()
	dir := t.TempDir()
	ca = filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg = filepath.Join(dir, "palisade.yaml")
	if err := os.WriteFile(cfg, []byte("admission:\n  policies:\n    files: [p.yaml]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return ca, cfg
}

func TestAdmissionInstallPolicyRules(t *testing.T) {
	ca, cfg := installFixture(t, limitPolicy)
	code, out, errOut := run(t, "admission", "install", "--config", cfg, "--service", "palisade/palisade:8443", "--ca-file", ca)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"    - services\n", "    - clusterrolebindings\n", "  - rbac.authorization.k8s.io\n",
		"kind: Role\n", "  name: palisade-params-port-limit\n  namespace: shop\n", "  - port-limit\n", "kind: RoleBinding\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Without a Service there is no identity to grant: a warning says so.
	code, out, errOut = run(t, "admission", "install", "--config", cfg, "--url", "https://palisade.example", "--ca-file", ca)
	if code != ExitOK || strings.Contains(out, "kind: Role") || !strings.Contains(errOut, "give --service-account") {
		t.Errorf("--url without --service-account: exit %d\n%s\n%s", code, out, errOut)
	}

	ca, cfg = installFixture(t, widgetPolicy)
	code, _, errOut = run(t, "admission", "install", "--config", cfg, "--service", "palisade/palisade", "--ca-file", ca)
	if code != ExitUsage || !strings.Contains(errOut, `policy acme/widgets`) || !strings.Contains(errOut, "--kubeconfig") {
		t.Errorf("unknown kind offline: exit %d, stderr %s", code, errOut)
	}
	if code, _, errOut := run(t, "admission", "install", "--apply", "--service", "palisade/palisade", "--ca-file", ca); code != ExitUsage || !strings.Contains(errOut, "--apply needs --kubeconfig") {
		t.Errorf("--apply without a cluster: exit %d, stderr %s", code, errOut)
	}
}

// TestAdmissionInstallApply applies the configurations to a real API
// server: rules mapped with its discovery, RBAC for the params ConfigMap,
// and a second apply updates rather than fails. Then serve's wiring
// watches the params ConfigMap the same policy names.
func TestAdmissionInstallApply(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ca, cfg := installFixture(t, limitPolicy)
	limitsCfg := cfg
	args := []string{"admission", "install", "--config", cfg, "--kubeconfig", c.Kubeconfig, "--apply", "--url", "https://127.0.0.1:1", "--service-account", "palisade/palisade", "--ca-file", ca}
	for range 2 {
		code, out, errOut := run(t, args...)
		if code != ExitOK || !strings.Contains(errOut, "validatingwebhookconfiguration/palisade applied") || !strings.Contains(errOut, "role/shop/palisade-params-port-limit applied") {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
	}
	vwc, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, "palisade", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var resources []string
	for _, r := range vwc.Webhooks[0].Rules {
		resources = append(resources, r.Resources...)
	}
	if got := strings.Join(resources, ","); !strings.Contains(got, "services") || !strings.Contains(got, "clusterrolebindings") {
		t.Errorf("applied rules cover %s", got)
	}
	role, err := cs.RbacV1().Roles("shop").Get(ctx, "palisade-params-port-limit", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if names := role.Rules[0].ResourceNames; len(names) != 1 || names[0] != "port-limit" {
		t.Errorf("role resourceNames %q", names)
	}
	// --generate-cert with a Service: the Secret and Service are created and
	// replaced on a second run, and the caBundle follows the new CA.
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "palisade"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var firstCA []byte
	for i := range 2 {
		code, out, errOut := run(t, "admission", "install", "--kubeconfig", c.Kubeconfig, "--apply", "--service", "palisade/palisade", "--generate-cert")
		if code != ExitOK || out != "" || !strings.Contains(errOut, "secret/palisade/palisade-tls applied") || !strings.Contains(errOut, "service/palisade/palisade applied") {
			t.Fatalf("generate-cert apply %d: exit %d\n%s\n%s", i, code, out, errOut)
		}
		secret, err := cs.CoreV1().Secrets("palisade").Get(ctx, "palisade-tls", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		vwc, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, "palisade", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		verifyServing(t, secret, vwc.Webhooks[0].ClientConfig.CABundle, "palisade.palisade.svc")
		if secret.Type != corev1.SecretTypeTLS || bytes.Equal(firstCA, secret.Data["ca.crt"]) {
			t.Errorf("run %d: secret type %s, CA renewed: %v", i, secret.Type, firstCA != nil)
		}
		firstCA = secret.Data["ca.crt"]
		svc, err := cs.CoreV1().Services("palisade").Get(ctx, "palisade", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if svc.Spec.ClusterIP == "" || svc.Spec.Ports[0].Port != 443 || svc.Spec.Ports[0].TargetPort.StrVal != "https" {
			t.Errorf("service %+v", svc.Spec)
		}
	}
	// --cert-manager-issuer: the lab has no cert-manager, only a minimal
	// CRD that stores Certificates as given; cert-manager's own CRD would
	// validate the spec further.
	crd := kube.CRDKind{Group: "cert-manager.io", Kind: "Certificate", Resource: "certificates", Namespaced: true}.MinimalCRD("v1")
	crds := dynamic.NewForConfigOrDie(c.Config).Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	if _, err := crds.Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		_, err := cs.Discovery().ServerResourcesForGroupVersion("cert-manager.io/v1")
		return err == nil, nil
	})
	if err != nil {
		t.Fatal("the Certificate CRD was not served")
	}
	for range 2 {
		code, out, errOut := run(t, "admission", "install", "--kubeconfig", c.Kubeconfig, "--apply", "--service", "palisade/palisade", "--cert-manager-issuer", "palisade-ca")
		if code != ExitOK || !strings.Contains(errOut, "certificate/palisade/palisade applied") {
			t.Fatalf("cert-manager apply: exit %d\n%s\n%s", code, out, errOut)
		}
	}
	vwc, err = cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, "palisade", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := vwc.Annotations["cert-manager.io/inject-ca-from"]; got != "palisade/palisade" || len(vwc.Webhooks[0].ClientConfig.CABundle) != 0 {
		t.Errorf("after cert-manager apply: inject-ca-from %q, caBundle %d bytes", got, len(vwc.Webhooks[0].ClientConfig.CABundle))
	}

	// The widget kind is not served by this cluster: discovery says so.
	ca, cfg = installFixture(t, widgetPolicy)
	code, _, errOut := run(t, "admission", "install", "--config", cfg, "--kubeconfig", c.Kubeconfig, "--url", "https://127.0.0.1:1", "--ca-file", ca)
	if code != ExitUsage || !strings.Contains(errOut, "not served by the cluster") {
		t.Errorf("unknown kind with discovery: exit %d, stderr %s", code, errOut)
	}

	// serve watches the ConfigMap the policy names, live.
	conf, err := config.Load(limitsCfg)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	lookup := policy.NewParamsWatcher(cs, 0, logger)
	t.Cleanup(lookup.Close)
	w, err := admission.Build(conf, admission.Deps{Params: lookup})
	if err != nil {
		t.Fatal(err)
	}
	if err := watchParams(ctx, w.Engine.Rules, lookup); err != nil {
		t.Fatal(err)
	}
	ref := policy.ConfigMapRef{Namespace: "shop", Name: "port-limit"}
	if _, found, err := lookup.Params(ref); err != nil || found {
		t.Fatalf("before the ConfigMap exists: found=%v err=%v", found, err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "port-limit"}, Data: map[string]string{"maxPorts": "2"}}
	if _, err := cs.CoreV1().ConfigMaps("shop").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		p, found, err := lookup.Params(ref)
		return err == nil && found && p["maxPorts"] == "2", nil
	})
	if err != nil {
		t.Fatal("serve never saw the params ConfigMap")
	}
	none, err := admission.Build(config.Default(), admission.Deps{Params: lookup})
	if err != nil {
		t.Fatal(err)
	}
	if err := watchParams(ctx, none.Engine.Rules, lookup); err != nil || len(lookup.Watched()) != 1 {
		t.Errorf("without paramsRef policies: watching %v, %v", lookup.Watched(), err)
	}
}

// installDocs splits install's output into its YAML documents and decodes
// each with client-go's scheme; a kind the scheme does not know (the
// cert-manager Certificate) comes back as Unstructured.
func installDocs(t *testing.T, out string) []runtime.Object {
	t.Helper()
	var objs []runtime.Object
	for doc := range strings.SplitSeq(out, "\n---\n") {
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode([]byte(doc), nil, nil)
		if runtime.IsNotRegisteredError(err) {
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
				t.Fatalf("decode %q: %v", doc, err)
			}
			obj = u
		} else if err != nil {
			t.Fatalf("decode %q: %v", doc, err)
		}
		objs = append(objs, obj)
	}
	return objs
}

func pick[T runtime.Object](t *testing.T, objs []runtime.Object) T {
	t.Helper()
	for _, o := range objs {
		if x, ok := o.(T); ok {
			return x
		}
	}
	var zero T
	t.Fatalf("no %T among %d objects", zero, len(objs))
	return zero
}

// verifyServing checks that the serving certificate in secret verifies,
// with caBundle as the only root, for the Service's name as the API server
// dials it.
func verifyServing(t *testing.T, secret *corev1.Secret, caBundle []byte, dnsName string) {
	t.Helper()
	pair, err := tls.X509KeyPair(secret.Data["tls.crt"], secret.Data["tls.key"])
	if err != nil {
		t.Fatalf("secret key pair: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caBundle) {
		t.Fatalf("caBundle holds no certificate: %q", caBundle)
	}
	opts := x509.VerifyOptions{DNSName: dnsName, Roots: roots, CurrentTime: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if _, err := pair.Leaf.Verify(opts); err != nil {
		t.Errorf("serving certificate does not verify for %s with the caBundle: %v", dnsName, err)
	}
	if !bytes.Equal(secret.Data["ca.crt"], caBundle) {
		t.Error("the Secret's ca.crt is not the caBundle")
	}
}

func TestAdmissionInstallGenerateCert(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "palisade.yaml")
	if err := os.WriteFile(cfg, []byte("admission:\n  imageTrust:\n    pinDigests: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "admission", "install", "--config", cfg, "--service", "sec/webhook:8443", "--generate-cert", "--tls-secret", "webhook-tls")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "warning: the output holds the private key") || !strings.Contains(errOut, "sec/webhook-tls") {
		t.Errorf("no warning that the output is sensitive: %q", errOut)
	}
	objs := installDocs(t, out)
	secret := pick[*corev1.Secret](t, objs)
	svc := pick[*corev1.Service](t, objs)
	vwc := pick[*admissionregistrationv1.ValidatingWebhookConfiguration](t, objs)
	mwc := pick[*admissionregistrationv1.MutatingWebhookConfiguration](t, objs)
	if secret.Namespace != "sec" || secret.Name != "webhook-tls" || secret.Type != corev1.SecretTypeTLS {
		t.Errorf("secret %s/%s of type %s", secret.Namespace, secret.Name, secret.Type)
	}
	if n := strings.Count(out, "PRIVATE KEY"); n != 0 {
		t.Errorf("a PEM private key in clear in the output (%d): Secret data must be base64", n)
	}
	if n := bytes.Count(secret.Data["tls.key"], []byte("BEGIN")); n != 1 || bytes.Contains(secret.Data["ca.crt"], []byte("PRIVATE")) {
		t.Error("the Secret holds more than the serving key: the CA's key must never be printed")
	}
	for _, name := range []string{"webhook.sec.svc", "webhook.sec.svc.cluster.local"} {
		verifyServing(t, secret, vwc.Webhooks[0].ClientConfig.CABundle, name)
	}
	if !bytes.Equal(vwc.Webhooks[0].ClientConfig.CABundle, mwc.Webhooks[0].ClientConfig.CABundle) {
		t.Error("validating and mutating webhooks trust different CAs")
	}
	if svc.Namespace != "sec" || svc.Name != "webhook" || svc.Spec.Ports[0].Port != 8443 || svc.Spec.Selector["app.kubernetes.io/instance"] != "webhook" {
		t.Errorf("service %s/%s %+v", svc.Namespace, svc.Name, svc.Spec)
	}
	if s := vwc.Webhooks[0].ClientConfig.Service; s == nil || s.Name != svc.Name || s.Namespace != svc.Namespace || *s.Port != svc.Spec.Ports[0].Port {
		t.Errorf("webhook calls %+v, not the printed Service", s)
	}
	// Applied in order, the endpoint exists before the webhook points at it.
	if strings.Index(out, "kind: Service") > strings.Index(out, "kind: ValidatingWebhookConfiguration") {
		t.Error("the Service is printed after the webhook configuration")
	}

	// --tls-only: the Secret alone, for the Helm chart.
	code, out, errOut = run(t, "admission", "install", "--service", "sec/webhook", "--generate-cert", "--tls-only")
	if code != ExitOK || !strings.Contains(errOut, "private key") {
		t.Fatalf("--tls-only: exit %d\n%s", code, errOut)
	}
	objs = installDocs(t, out)
	if len(objs) != 1 {
		t.Fatalf("--tls-only printed %d objects, want the Secret alone", len(objs))
	}
	secret = pick[*corev1.Secret](t, objs)
	verifyServing(t, secret, secret.Data["ca.crt"], "webhook.sec.svc")
}

func TestAdmissionInstallCertManager(t *testing.T) {
	code, out, errOut := run(t, "admission", "install", "--service", "palisade/palisade", "--cert-manager-issuer", "internal-ca", "--cert-manager-issuer-kind", "ClusterIssuer")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	objs := installDocs(t, out)
	cert := pick[*unstructured.Unstructured](t, objs)
	vwc := pick[*admissionregistrationv1.ValidatingWebhookConfiguration](t, objs)
	pick[*corev1.Service](t, objs)
	for _, o := range objs {
		if _, ok := o.(*corev1.Secret); ok {
			t.Error("with cert-manager, install prints a Secret")
		}
	}
	if cert.GetAPIVersion() != "cert-manager.io/v1" || cert.GetKind() != "Certificate" || cert.GetNamespace() != "palisade" {
		t.Fatalf("certificate %v", cert.Object)
	}
	names, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
	issuer, _, _ := unstructured.NestedStringMap(cert.Object, "spec", "issuerRef")
	secret, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName")
	if !slices.Equal(names, []string{"palisade.palisade.svc", "palisade.palisade.svc.cluster.local"}) ||
		issuer["name"] != "internal-ca" || issuer["kind"] != "ClusterIssuer" || secret != "palisade-tls" {
		t.Errorf("certificate spec %v", cert.Object["spec"])
	}
	if got := vwc.Annotations["cert-manager.io/inject-ca-from"]; got != "palisade/"+cert.GetName() {
		t.Errorf("inject-ca-from %q, want palisade/%s", got, cert.GetName())
	}
	if len(vwc.Webhooks[0].ClientConfig.CABundle) != 0 {
		t.Error("caBundle set although cert-manager injects it")
	}
	if strings.Contains(errOut, "private key") {
		t.Errorf("cert-manager output warned of a private key: %s", errOut)
	}
}

func TestAdmissionInstallCertSources(t *testing.T) {
	ca, _ := installFixture(t, limitPolicy)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"none", []string{"--service", "a/b"}, "exactly one of --ca-file"},
		{"two", []string{"--service", "a/b", "--ca-file", ca, "--generate-cert"}, "exactly one of --ca-file"},
		{"three", []string{"--service", "a/b", "--ca-file", ca, "--generate-cert", "--cert-manager-issuer", "x"}, "exactly one of --ca-file"},
		{"generate with a URL", []string{"--url", "https://x", "--generate-cert"}, "need --service"},
		{"cert-manager with a URL", []string{"--url", "https://x", "--cert-manager-issuer", "x"}, "need --service"},
		{"bad issuer kind", []string{"--service", "a/b", "--cert-manager-issuer", "x", "--cert-manager-issuer-kind", "Secret"}, "want Issuer or ClusterIssuer"},
		{"bad service", []string{"--service", "a", "--generate-cert"}, "namespace/name"},
		{"tls-only with a CA file", []string{"--service", "a/b", "--ca-file", ca, "--tls-only"}, "with --ca-file there is none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, append([]string{"admission", "install"}, tt.args...)...)
			if code != ExitUsage || !strings.Contains(errOut, tt.want) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want usage error %q", code, out, errOut, tt.want)
			}
		})
	}
}

// TestOwnNamespaceExcluded checks serve's own namespace joins the excluded
// namespaces wherever the chart is installed (P6d), once, from
// POD_NAMESPACE or, in a pod, the service account's namespace file.
func TestOwnNamespaceExcluded(t *testing.T) {
	file := func(content string, err error) func(string) ([]byte, error) {
		return func(path string) ([]byte, error) {
			if path != serviceAccountNamespaceFile {
				t.Errorf("read %s", path)
			}
			return []byte(content), err
		}
	}
	inPod := map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1"}
	tests := []struct {
		name string
		env  map[string]string
		read func(string) ([]byte, error)
		want string
	}{
		{"POD_NAMESPACE", map[string]string{"POD_NAMESPACE": "security"}, file("other", nil), "security"},
		{"service account file in a pod", inPod, file("security\n", nil), "security"},
		{"file not read outside a pod", nil, file("security", nil), ""},
		{"no file", inPod, file("", os.ErrNotExist), ""},
		{"not a namespace name", map[string]string{"POD_NAMESPACE": "../etc"}, file("", os.ErrNotExist), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ownNamespace(func(k string) string { return tt.env[k] }, tt.read); got != tt.want {
				t.Errorf("ownNamespace = %q, want %q", got, tt.want)
			}
		})
	}

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := config.Default()
	before := slices.Clone(cfg.Admission.ExcludeNamespaces)
	got := excludeOwnNamespace(cfg, "security", logger)
	if want := append(slices.Clone(before), "security"); !slices.Equal(got.Admission.ExcludeNamespaces, want) {
		t.Errorf("excluded %v, want %v", got.Admission.ExcludeNamespaces, want)
	}
	if !slices.Equal(cfg.Admission.ExcludeNamespaces, before) {
		t.Error("the caller's config was changed")
	}
	if strings.Count(logs.String(), "excluding the namespace") != 1 {
		t.Errorf("log: %q", logs.String())
	}
	logs.Reset()
	if again := excludeOwnNamespace(got, "security", logger); again != got || logs.Len() != 0 {
		t.Errorf("already excluded: new config %v, log %q", again != got, logs.String())
	}
	// The engine built from it skips the namespace.
	w, err := admission.Build(got, admission.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(w.Engine.ExcludedNamespaces, "security") {
		t.Errorf("engine excludes %v", w.Engine.ExcludedNamespaces)
	}
}
