package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/palisade-sec/palisade/internal/admission"
)

// installFlags are the flags of admission install beyond InstallOptions.
type installFlags struct {
	caFile         string
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
	f.StringVar(&fl.kubeconfig, "kubeconfig", "", "cluster whose API discovery maps policy kinds to resources (custom resources too) and whose policy ConfigMaps are read")
	f.StringVar(&fl.context, "context", "", "kubeconfig context (default: its current context)")
	f.BoolVar(&fl.apply, "apply", false, "create or update the objects in the --kubeconfig cluster instead of printing them")
	f.StringVar(&fl.serviceAccount, "service-account", "", "namespace/name palisade serve runs as, granted read access to params ConfigMaps (default: the --service's namespace/name)")
	adm.AddCommand(install)
	return adm
}

func runInstall(ctx context.Context, cmd *cobra.Command, g *globals, o admission.InstallOptions, fl installFlags) error {
	if fl.caFile == "" {
		return usageError(errors.New("--ca-file is required (the webhook's serving certificate or its CA)"))
	}
	if fl.apply && fl.kubeconfig == "" {
		return usageError(errors.New("--apply needs --kubeconfig"))
	}
	ca, err := os.ReadFile(fl.caFile)
	if err != nil {
		return usageError(fmt.Errorf("read CA bundle: %w", err))
	}
	a := g.cfg.Admission
	o.CABundle = ca
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
	stderr := cmd.ErrOrStderr()
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

	var objs []runtime.Object
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
	if fl.apply {
		return applyObjects(ctx, cs, objs, stderr)
	}
	return printObjects(cmd.OutOrStdout(), objs)
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

// applyObjects creates each object, or updates it when it exists.
func applyObjects(ctx context.Context, cs kubernetes.Interface, objs []runtime.Object, log io.Writer) error {
	for _, obj := range objs {
		var err error
		var what string
		switch o := obj.(type) {
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
