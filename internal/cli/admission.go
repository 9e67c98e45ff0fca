package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/palisade-sec/palisade/internal/admission"
)

// installFlags are the flags of admission install beyond InstallOptions.
type installFlags struct {
	caFile         string
	generateCert   bool
	issuer         string
	issuerKind     string
	tlsSecret      string
	tlsOnly        bool
	kubeconfig     string
	context        string
	apply          bool
	serviceAccount string
}

func newAdmissionCommand(g *globals) *cobra.Command {
	adm := &cobra.Command{Use: "admission", Short: "Install and inspect the admission webhook"}
	var o admission.InstallOptions
	var fl installFlags
	install := &cobra.Command{
		Use:   "install",
		Short: "Print (or apply) the webhook configurations that route workloads and policy kinds to palisade serve",
		Long: `Print the ValidatingWebhookConfiguration for 'kubectl apply -f -', and with
admission.imageTrust.pinDigests also the MutatingWebhookConfiguration of the
digest-pinning webhook (workload rules only, reinvocationPolicy IfNeeded).

It covers pods (and ephemeral containers) and every workload template kind on
CREATE and UPDATE, plus the kinds the enabled CEL policies name in
matchResources (Services, RBAC, Ingresses, Namespaces, custom resources …),
merged into one rule per API group. Kinds are mapped to resources with the
cluster's API discovery when --kubeconfig is given, else with a table of the
built-in Kubernetes kinds; an unknown kind is an error. It leaves out the
excluded namespaces (admission.excludeNamespaces) by namespaceSelector
(cluster-scoped objects have no namespace and are always sent), uses a 3 s
timeout, and fails closed unless admission.imageTrust.failOpen is set.

With --service it also prints the Service (port → the pods' port named https,
selecting app.kubernetes.io/name=palisade and app.kubernetes.io/instance=<name>,
the chart's pod labels). The API server verifies the webhook's certificate with
exactly one of:

  --ca-file FILE              a certificate you manage (its CA, or itself if
                              self-signed, e.g. palisade serve's tls.crt)
  --generate-cert             a new CA (ECDSA P-256) signs a serving certificate
                              for <name>.<namespace>.svc[.cluster.local], valid
                              one year; prints it as a kubernetes.io/tls Secret
                              (--tls-secret, with ca.crt) and the CA as caBundle.
                              The CA's key is discarded: re-run to renew. The
                              output then holds a private key: apply it, do
                              not store it.
  --cert-manager-issuer NAME  prints a cert-manager Certificate for the same
                              names into --tls-secret, and has cert-manager's
                              cainjector fill caBundle (cert-manager.io/
                              inject-ca-from) instead

--generate-cert and --cert-manager-issuer need --service. With --tls-only only
the Secret or Certificate is printed (or applied): what the Helm chart, which
renders the Service and webhook configurations itself, needs.

When enabled policies read params from ConfigMaps (spec.paramsRef), it also
prints a Role and RoleBinding per ConfigMap that let --service-account (default:
the --service's namespace/name) read exactly that ConfigMap.

With --apply (needs --kubeconfig) the objects are created or updated in the
cluster instead of printed. Warnings go to stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInstall(cmd.Context(), cmd, g, o, fl)
		},
	}
	f := install.Flags()
	f.StringVar(&o.URL, "url", "", "https URL where palisade serve is reachable from the API server")
	f.StringVar(&o.Service, "service", "", "in-cluster Service namespace/name[:port] of palisade serve")
	f.StringVar(&fl.caFile, "ca-file", "", "PEM file that verifies the webhook's certificate (palisade serve's tls.crt)")
	f.BoolVar(&fl.generateCert, "generate-cert", false, "generate a CA and a serving certificate for the --service; print them as a TLS Secret and caBundle (the output holds a private key)")
	f.StringVar(&fl.issuer, "cert-manager-issuer", "", "have this cert-manager issuer issue the serving certificate for the --service (prints a Certificate; cert-manager injects caBundle)")
	f.StringVar(&fl.issuerKind, "cert-manager-issuer-kind", "Issuer", "kind of --cert-manager-issuer: Issuer (in the --service's namespace) or ClusterIssuer")
	f.BoolVar(&fl.tlsOnly, "tls-only", false, "print (or apply) only the TLS Secret or cert-manager Certificate: for the Helm chart, which renders the Service and webhook configurations itself")
	f.StringVar(&fl.tlsSecret, "tls-secret", "palisade-tls", "name of the kubernetes.io/tls Secret palisade serve mounts (the chart's tls.secretName), written by --generate-cert or cert-manager")
	f.StringVar(&fl.kubeconfig, "kubeconfig", "", "cluster whose API discovery maps policy kinds to resources (custom resources too) and whose policy ConfigMaps are read")
	f.StringVar(&fl.context, "context", "", "kubeconfig context (default: its current context)")
	f.BoolVar(&fl.apply, "apply", false, "create or update the objects in the --kubeconfig cluster instead of printing them")
	f.StringVar(&fl.serviceAccount, "service-account", "", "namespace/name palisade serve runs as, granted read access to params ConfigMaps (default: the --service's namespace/name)")
	adm.AddCommand(install)
	return adm
}

func runInstall(ctx context.Context, cmd *cobra.Command, g *globals, o admission.InstallOptions, fl installFlags) error {
	if fl.apply && fl.kubeconfig == "" {
		return usageError(errors.New("--apply needs --kubeconfig"))
	}
	stderr := cmd.ErrOrStderr()
	tlsObj, svc, err := installTLS(&o, fl, g.env.Now())
	if err != nil {
		return usageError(err)
	}
	if fl.tlsOnly {
		if tlsObj == nil {
			return usageError(errors.New("--tls-only prints the Secret of --generate-cert or the Certificate of --cert-manager-issuer: with --ca-file there is none"))
		}
		return emitInstall(ctx, cmd, fl, o, []runtime.Object{tlsObj})
	}
	a := g.cfg.Admission
	o.FailOpen = a.ImageTrust.FailOpen
	o.ExcludeNamespaces = a.ExcludeNamespaces

	var cs kubernetes.Interface
	kinds := admission.BuiltinKinds()
	if fl.kubeconfig != "" {
		rc, _, err := restConfig(fl.kubeconfig, fl.context)
		if err != nil {
			return usageError(err)
		}
		c, err := kubernetes.NewForConfig(rc)
		if err != nil {
			return fmt.Errorf("build cluster client: %w", err)
		}
		cs = c
		if kinds, err = admission.DiscoveryKinds(ctx, c.Discovery()); err != nil {
			return err
		}
	}
	ps, err := admission.LoadPolicies(ctx, a.Policies, cs, slog.New(slog.DiscardHandler))
	if err != nil {
		return usageError(err)
	}
	rules, warnings, err := admission.PolicyRules(ps.Policies, kinds)
	if err != nil {
		return usageError(err)
	}
	for _, w := range append(ps.Warnings, warnings...) {
		fmt.Fprintln(stderr, "warning:", w)
	}
	o.ExtraRules = rules

	// The Secret or Certificate and the Service come first, so that applied
	// in order the webhook's endpoint exists before the API server calls it.
	var objs []runtime.Object
	if tlsObj != nil {
		objs = append(objs, tlsObj)
	}
	if svc != nil {
		objs = append(objs, svc)
	}
	vwc, err := admission.WebhookConfiguration(o)
	if err != nil {
		return usageError(err)
	}
	objs = append(objs, vwc)
	if a.ImageTrust.PinDigests {
		mwc, err := admission.MutatingWebhookConfiguration(o)
		if err != nil {
			return usageError(err)
		}
		objs = append(objs, mwc)
	}
	if refs := ps.ParamsRefs; len(refs) > 0 {
		sa := fl.serviceAccount
		if sa == "" && o.Service != "" {
			sa = serviceName(o.Service)
		}
		if sa == "" {
			fmt.Fprintf(stderr, "warning: policies read params from ConfigMaps %v: give --service-account namespace/name to print the RBAC that lets palisade serve read them\n", refs)
		} else {
			rbac, err := admission.ParamsRBAC(refs, sa)
			if err != nil {
				return usageError(fmt.Errorf("--service-account: %w", err))
			}
			objs = append(objs, rbac...)
		}
	}
	return emitInstall(ctx, cmd, fl, o, objs)
}

// emitInstall applies objs (--apply) or prints them, warning when the
// output holds a private key.
func emitInstall(ctx context.Context, cmd *cobra.Command, fl installFlags, o admission.InstallOptions, objs []runtime.Object) error {
	stderr := cmd.ErrOrStderr()
	if fl.apply {
		rc, _, err := restConfig(fl.kubeconfig, fl.context)
		if err != nil {
			return usageError(err)
		}
		cs, err := kubernetes.NewForConfig(rc)
		if err != nil {
			return fmt.Errorf("build cluster client: %w", err)
		}
		var dyn dynamic.Interface
		if fl.issuer != "" {
			if dyn, err = dynamic.NewForConfig(rc); err != nil {
				return fmt.Errorf("build cluster client: %w", err)
			}
		}
		return applyObjects(ctx, cs, dyn, objs, stderr)
	}
	if fl.generateCert {
		ns, _, _ := strings.Cut(o.Service, "/")
		fmt.Fprintf(stderr, "warning: the output holds the private key of the webhook's serving certificate (Secret %s/%s): apply it, do not store or share it\n", ns, fl.tlsSecret)
	}
	return printObjects(cmd.OutOrStdout(), objs)
}

// installTLS sets how the API server verifies the webhook (o.CABundle or
// o.CAInjectFrom) from exactly one of --ca-file, --generate-cert and
// --cert-manager-issuer, and returns the objects that go with it: the TLS
// Secret or cert-manager Certificate (none for --ca-file), and the Service
// when --service is given.
func installTLS(o *admission.InstallOptions, fl installFlags, now time.Time) (runtime.Object, *corev1.Service, error) {
	n := 0
	for _, given := range []bool{fl.caFile != "", fl.generateCert, fl.issuer != ""} {
		if given {
			n++
		}
	}
	if n != 1 {
		return nil, nil, errors.New("give exactly one of --ca-file (a certificate you manage), --generate-cert (a new CA and serving certificate) and --cert-manager-issuer (cert-manager issues it)")
	}
	var ref admission.ServiceRef
	var svc *corev1.Service
	if o.Service != "" {
		r, err := admission.ParseService(o.Service)
		if err != nil {
			return nil, nil, fmt.Errorf("--service: %w", err)
		}
		ref, svc = r, admission.Service(r)
	} else if fl.caFile == "" {
		return nil, nil, errors.New("--generate-cert and --cert-manager-issuer need --service: the certificate is issued for the Service's DNS names into a Secret in its namespace (with --url, give --ca-file)")
	}
	switch {
	case fl.caFile != "":
		ca, err := os.ReadFile(fl.caFile)
		if err != nil {
			return nil, nil, fmt.Errorf("read CA bundle: %w", err)
		}
		o.CABundle = ca
		return nil, svc, nil
	case fl.generateCert:
		c, err := admission.GenerateServingCert(ref, now)
		if err != nil {
			return nil, nil, err
		}
		o.CABundle = c.CAPEM
		return admission.TLSSecret(ref.Namespace, fl.tlsSecret, c), svc, nil
	default:
		cert, err := admission.CertManagerCertificate(ref, fl.tlsSecret, fl.issuer, fl.issuerKind)
		if err != nil {
			return nil, nil, fmt.Errorf("--cert-manager-issuer: %w", err)
		}
		o.CAInjectFrom = ref.Namespace + "/" + cert.GetName()
		return cert, svc, nil
	}
}

// serviceName is the namespace/name of a "namespace/name[:port]" Service.
func serviceName(svc string) string {
	ns, rest, _ := strings.Cut(svc, "/")
	name, _, _ := strings.Cut(rest, ":")
	return ns + "/" + name
}

func printObjects(w io.Writer, objs []runtime.Object) error {
	var out []byte
	for i, obj := range objs {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return fmt.Errorf("encode %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, err)
		}
		if i > 0 {
			out = append(out, "---\n"...)
		}
		out = append(out, b...)
	}
	_, err := w.Write(out)
	return err
}

// certificateGVR is the resource of cert-manager Certificates.
func certificateGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}
}

// applyObjects creates each object, or updates it when it exists. dyn is
// needed only for custom resources (cert-manager Certificates).
func applyObjects(ctx context.Context, cs kubernetes.Interface, dyn dynamic.Interface, objs []runtime.Object, log io.Writer) error {
	for _, obj := range objs {
		var err error
		var what string
		switch o := obj.(type) {
		case *corev1.Secret:
			what = "secret/" + o.Namespace + "/" + o.Name
			c := cs.CoreV1().Secrets(o.Namespace)
			err = upsert(ctx, o, c.Get, c.Create, c.Update)
		case *corev1.Service:
			what = "service/" + o.Namespace + "/" + o.Name
			c := cs.CoreV1().Services(o.Namespace)
			err = upsert(ctx, o, c.Get, c.Create, c.Update)
		case *unstructured.Unstructured:
			if o.GroupVersionKind() != certificateGVR().GroupVersion().WithKind("Certificate") || dyn == nil {
				return fmt.Errorf("apply: unexpected object %s", o.GroupVersionKind())
			}
			what = "certificate/" + o.GetNamespace() + "/" + o.GetName()
			c := dyn.Resource(certificateGVR()).Namespace(o.GetNamespace())
			err = upsert(ctx, o,
				func(ctx context.Context, name string, opts metav1.GetOptions) (*unstructured.Unstructured, error) {
					return c.Get(ctx, name, opts)
				},
				func(ctx context.Context, u *unstructured.Unstructured, opts metav1.CreateOptions) (*unstructured.Unstructured, error) {
					return c.Create(ctx, u, opts)
				},
				func(ctx context.Context, u *unstructured.Unstructured, opts metav1.UpdateOptions) (*unstructured.Unstructured, error) {
					return c.Update(ctx, u, opts)
				})
		case *admissionregistrationv1.ValidatingWebhookConfiguration:
			what = "validatingwebhookconfiguration/" + o.Name
			c := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations()
			err = upsert(ctx, o, c.Get, c.Create, c.Update)
		case *admissionregistrationv1.MutatingWebhookConfiguration:
			what = "mutatingwebhookconfiguration/" + o.Name
			c := cs.AdmissionregistrationV1().MutatingWebhookConfigurations()
			err = upsert(ctx, o, c.Get, c.Create, c.Update)
		case *rbacv1.Role:
			what = "role/" + o.Namespace + "/" + o.Name
			c := cs.RbacV1().Roles(o.Namespace)
			err = upsert(ctx, o, c.Get, c.Create, c.Update)
		case *rbacv1.RoleBinding:
			what = "rolebinding/" + o.Namespace + "/" + o.Name
			c := cs.RbacV1().RoleBindings(o.Namespace)
			err = upsert(ctx, o, c.Get, c.Create, c.Update)
		default:
			return fmt.Errorf("apply: unexpected object %T", obj)
		}
		if err != nil {
			return fmt.Errorf("apply %s: %w", what, err)
		}
		fmt.Fprintln(log, what, "applied")
	}
	return nil
}

// upsert creates obj, or replaces the existing object of its name with it.
func upsert[T interface {
	metav1.Object
	runtime.Object
}](ctx context.Context, obj T,
	get func(context.Context, string, metav1.GetOptions) (T, error),
	create func(context.Context, T, metav1.CreateOptions) (T, error),
	update func(context.Context, T, metav1.UpdateOptions) (T, error),
) error {
	cur, err := get(ctx, obj.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = create(ctx, obj, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	obj.SetResourceVersion(cur.GetResourceVersion())
	_, err = update(ctx, obj, metav1.UpdateOptions{})
	return err
}
