package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kube/render"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/rbac"
)

// rbacFlags are the input flags who-can and can share.
type rbacFlags struct {
	kubeconfig string
	context    string
	pageSize   int64
}

func (f *rbacFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "read the RBAC objects of the live cluster of this kubeconfig instead of files")
	fl.StringVar(&f.context, "context", "", "kubeconfig context (default: the current context)")
	fl.Int64Var(&f.pageSize, "page-size", kube.DefaultPageSize, "objects per LIST page in live clusters")
}

// rbacEngine loads the inventory of paths or the live cluster and builds
// the RBAC engine over it; a list the cluster forbade is an error, since
// an answer without it would be silently incomplete.
func rbacEngine(cmd *cobra.Command, g *globals, f *rbacFlags, what string, paths []string) (*rbac.Engine, error) {
	ctx := cmd.Context()
	if g.format != finding.FormatTable && g.format != finding.FormatJSON {
		return nil, usageError(fmt.Errorf("%s: --output %s: write table or json", what, g.format))
	}
	var inv *kube.Inventory
	switch {
	case f.kubeconfig == "" && len(paths) == 0:
		return nil, usageError(fmt.Errorf("%s: give manifest paths, - for stdin, or --kubeconfig", what))
	case f.kubeconfig != "" && len(paths) > 0:
		return nil, usageError(fmt.Errorf("%s: give either manifest paths or --kubeconfig, not both", what))
	case f.context != "" && f.kubeconfig == "":
		return nil, usageError(fmt.Errorf("%s: --context needs --kubeconfig", what))
	case f.kubeconfig != "":
		cfg, name, err := restConfig(f.kubeconfig, f.context)
		if err != nil {
			return nil, usageError(err)
		}
		var missing []error
		inv, missing, err = kube.ListCluster(ctx, cfg, name, f.pageSize)
		if err != nil {
			return nil, err
		}
		for _, e := range missing {
			var le *kube.ListError
			if errors.As(e, &le) && strings.Contains(le.Kind, "Role") {
				return nil, usageError(fmt.Errorf("%s of %s: %w", what, name, e))
			}
		}
	default:
		var err error
		// As posture scan reads them: charts and kustomizations rendered
		// (with their default values, for the newest release), so their
		// RBAC counts.
		versions, _ := loadVersionsTable(versionsTablePath()) // the embedded table when the saved one is unusable
		helm := helmFor(render.HelmOptions{}, posture.ClusterInfo{Versions: versions})
		inv, err = render.Load(ctx, paths, g.env.Stdin, render.Options{Helm: helm, Logger: g.logger})
		if err != nil {
			return nil, usageError(fmt.Errorf("%s: %w", what, err))
		}
		warnSkipped(g, inv.Skipped)
	}
	e, err := rbac.New(inv)
	if err != nil {
		return nil, usageError(err)
	}
	for _, w := range e.Warnings() {
		g.logger.Warn(w)
	}
	return e, nil
}

func newPostureWhoCanCommand(g *globals) *cobra.Command {
	var f rbacFlags
	var ns, sub, name, group string
	cmd := &cobra.Command{
		Use:   "who-can VERB RESOURCE [PATH... | -]",
		Short: "List the subjects RBAC allows to perform VERB on RESOURCE, and the bindings that grant it",
		Long: `List every subject (user, group, service account) whose RoleBindings and
ClusterRoleBindings allow VERB on RESOURCE, with the binding → role → rule path
that grants it. Aggregated ClusterRoles are resolved from their label selectors,
wildcards, resourceNames and "*/subresource" rules count as the API server
counts them. Groups are listed as bound: group:system:serviceaccounts:shop covers
every service account of shop, group:system:authenticated everyone signed in.

RESOURCE is resource[.group][/subresource] (pods, deployments.apps,
pods/exec) or a non-resource URL (/metrics). Common resources get their
group without it (deployments → apps). -n NS asks about that namespace;
without it, about cluster-wide access. Input: manifests (Helm charts and
kustomizations rendered with their defaults, as posture scan reads them) or
--kubeconfig.`,
		Example: `  palisade posture who-can get secrets -n shop ./manifests
  palisade posture who-can create pods/exec -n shop --kubeconfig ~/.kube/config
  palisade posture who-can get /metrics --kubeconfig ~/.kube/config -o json`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := parseRequest(args[0], args[1], group, sub, name, ns)
			if err != nil {
				return usageError(err)
			}
			e, err := rbacEngine(cmd, g, &f, "posture who-can", args[2:])
			if err != nil {
				return err
			}
			return writeWhoCan(cmd.OutOrStdout(), g.format, req, e.WhoCan(req))
		},
	}
	f.add(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&ns, "namespace", "n", "", "namespace of the request (default: cluster-wide)")
	fl.StringVar(&sub, "subresource", "", "subresource, such as exec or log")
	fl.StringVar(&name, "name", "", "name of the object, for rules limited by resourceNames")
	fl.StringVar(&group, "group", "", "API group of RESOURCE when it is neither given nor a common resource")
	return cmd
}

func newPostureCanCommand(g *globals) *cobra.Command {
	var f rbacFlags
	var dangerousOnly bool
	var memberOf []string
	cmd := &cobra.Command{
		Use:   "can SUBJECT [PATH... | -]",
		Short: "List the effective RBAC rules of a user, group or service account",
		Long: `List every rule SUBJECT holds — through bindings to itself, to its groups and to
the implicit groups the API server adds (system:authenticated for every signed-in
identity; system:serviceaccounts and system:serviceaccounts:NS for service
accounts) — with the binding and role that grant it and where it applies.
Rules the posture RBAC checks consider dangerous are flagged: secrets-read,
pods-exec, pod-create, escalate (bind/escalate), impersonate, nodes-proxy,
csr-approval, token-create.

SUBJECT is user:NAME, group:NAME (a member of that group only) or
sa:NAMESPACE:NAME. A user's groups come from the authenticator (an OIDC
groups claim, a client certificate's O=, an EKS access entry), which
manifests and the API do not show: name them with --member-of. Input:
manifests (charts and kustomizations rendered, as for who-can) or
--kubeconfig.`,
		Example: `  palisade posture can sa:shop:ci ./manifests
  palisade posture can user:alice --member-of platform --member-of oncall ./manifests
  palisade posture can user:alice --kubeconfig ~/.kube/config --dangerous`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := rbac.ParseSubject(args[0])
			if err != nil {
				return usageError(err)
			}
			e, err := rbacEngine(cmd, g, &f, "posture can", args[1:])
			if err != nil {
				return err
			}
			id := rbac.IdentityOf(s)
			for _, grp := range memberOf {
				if grp = strings.TrimSpace(grp); grp == "" {
					return usageError(fmt.Errorf("--member-of: empty group name"))
				}
				if !slices.Contains(id.Groups, grp) {
					id.Groups = append(id.Groups, grp)
				}
			}
			var rows []canRow
			for _, gr := range e.RulesFor(id) {
				d := rbac.Dangerous(gr.Rule)
				if dangerousOnly && len(d) == 0 {
					continue
				}
				rows = append(rows, canRow{Grant: gr, Dangerous: d})
			}
			return writeCan(cmd.OutOrStdout(), g.format, s, id, rows)
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&dangerousOnly, "dangerous", false, "list only the dangerous rules")
	cmd.Flags().StringArrayVar(&memberOf, "member-of", nil, "a group SUBJECT belongs to by its authenticator (repeatable)")
	return cmd
}

// commonGroups gives the API group of common resources named without one.
func commonGroups() map[string]string {
	return map[string]string{
		"deployments": "apps", "replicasets": "apps", "statefulsets": "apps", "daemonsets": "apps", "controllerrevisions": "apps",
		"jobs": "batch", "cronjobs": "batch",
		"ingresses": "networking.k8s.io", "networkpolicies": "networking.k8s.io", "ingressclasses": "networking.k8s.io",
		"roles": "rbac.authorization.k8s.io", "clusterroles": "rbac.authorization.k8s.io",
		"rolebindings": "rbac.authorization.k8s.io", "clusterrolebindings": "rbac.authorization.k8s.io",
		"certificatesigningrequests": "certificates.k8s.io", "signers": "certificates.k8s.io",
		"customresourcedefinitions":       "apiextensions.k8s.io",
		"validatingwebhookconfigurations": "admissionregistration.k8s.io", "mutatingwebhookconfigurations": "admissionregistration.k8s.io",
		"validatingadmissionpolicies": "admissionregistration.k8s.io",
		"horizontalpodautoscalers":    "autoscaling", "poddisruptionbudgets": "policy",
		"storageclasses": "storage.k8s.io", "leases": "coordination.k8s.io",
		"selfsubjectaccessreviews": "authorization.k8s.io", "subjectaccessreviews": "authorization.k8s.io",
		"tokenreviews": "authentication.k8s.io", "selfsubjectreviews": "authentication.k8s.io",
	}
}

// parseRequest builds a request from who-can's arguments: RESOURCE is
// resource[.group][/subresource] or a URL path.
func parseRequest(verb, resource, group, sub, name, ns string) (rbac.Request, error) {
	verb = strings.TrimSpace(verb)
	if verb == "" || strings.ContainsAny(verb, " /") {
		return rbac.Request{}, fmt.Errorf("verb %q: want a verb such as get, list, create or *", verb)
	}
	if strings.HasPrefix(resource, "/") {
		if sub != "" || name != "" || ns != "" || group != "" {
			return rbac.Request{}, fmt.Errorf("%s is a non-resource URL: -n, --subresource, --name and --group do not apply", resource)
		}
		return rbac.Request{Verb: verb, Path: resource}, nil
	}
	res, s, hasSub := strings.Cut(strings.ToLower(resource), "/")
	if hasSub {
		if sub != "" && sub != s {
			return rbac.Request{}, fmt.Errorf("resource %s and --subresource %s disagree", resource, sub)
		}
		sub = s
	}
	if r, grp, ok := strings.Cut(res, "."); ok {
		if group != "" && group != grp {
			return rbac.Request{}, fmt.Errorf("resource %s and --group %s disagree", resource, group)
		}
		res, group = r, grp
	} else if group == "" {
		group = commonGroups()[res]
	}
	if res == "" || strings.Contains(sub, "/") {
		return rbac.Request{}, fmt.Errorf("resource %q: want resource[.group][/subresource] or /path", resource)
	}
	if group == "core" {
		group = ""
	}
	return rbac.Request{Verb: verb, APIGroup: group, Resource: res, Subresource: sub, Name: name, Namespace: ns}, nil
}

func scopeOf(ns string) string {
	if ns == "" {
		return "cluster"
	}
	return ns
}

func writeWhoCan(w io.Writer, format finding.Format, req rbac.Request, gs []rbac.Grant) error {
	if format == finding.FormatJSON {
		if gs == nil {
			gs = []rbac.Grant{}
		}
		return rbacJSON(w, struct {
			Request  rbac.Request   `json:"request"`
			Subjects []rbac.Subject `json:"subjects"`
			Grants   []rbac.Grant   `json:"grants"`
		}{req, append([]rbac.Subject{}, rbac.Subjects(gs)...), gs})
	}
	if len(gs) == 0 {
		_, err := fmt.Fprintf(w, "No subject can %s.\n", req)
		return err
	}
	fmt.Fprintf(w, "%s can %s:\n\n", count(len(rbac.Subjects(gs)), "subject"), req)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBJECT\tSCOPE\tBINDING\tROLE\tRULE")
	for _, g := range gs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", g.Subject, scopeOf(g.Namespace), g.Binding, roleOf(g), ruleText(g.Rule))
	}
	return tw.Flush()
}

// canRow is one rule of `posture can`.
type canRow struct {
	rbac.Grant
	Dangerous []string `json:"dangerous,omitempty"`
}

func writeCan(w io.Writer, format finding.Format, s rbac.Subject, id rbac.Identity, rows []canRow) error {
	if format == finding.FormatJSON {
		if rows == nil {
			rows = []canRow{}
		}
		return rbacJSON(w, struct {
			Subject  rbac.Subject  `json:"subject"`
			Identity rbac.Identity `json:"identity"`
			Rules    []canRow      `json:"rules"`
		}{s, id, rows})
	}
	who := s.String()
	if len(id.Groups) > 0 {
		who += " (groups " + strings.Join(id.Groups, ", ") + ")"
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintf(w, "%s holds no rules.\n", who)
		return err
	}
	fmt.Fprintf(w, "%s holds %s:\n\n", who, count(len(rows), "rule"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCOPE\tRULE\tVIA\tBINDING\tROLE\tDANGER")
	for _, r := range rows {
		danger := strings.Join(r.Dangerous, ",")
		if danger == "" {
			danger = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", scopeOf(r.Namespace), ruleText(r.Rule), r.Subject, r.Binding, roleOf(r.Grant), danger)
	}
	return tw.Flush()
}

// count returns "1 rule", "2 rules".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func roleOf(g rbac.Grant) string {
	s := g.Role.Kind + "/" + g.Role.Name
	if g.AggregatedFrom != "" {
		s += " ← " + g.AggregatedFrom
	}
	return s
}

// ruleText renders a rule like kubectl describe: verbs on resources.
func ruleText(r rbacv1.PolicyRule) string {
	var b strings.Builder
	b.WriteString(strings.Join(r.Verbs, ","))
	b.WriteString(" ")
	if len(r.NonResourceURLs) > 0 {
		b.WriteString(strings.Join(r.NonResourceURLs, ","))
		return b.String()
	}
	var res []string
	for _, grp := range r.APIGroups {
		for _, x := range r.Resources {
			if grp != "" {
				x += "." + grp
			}
			res = append(res, x)
		}
	}
	b.WriteString(strings.Join(res, ","))
	if len(r.ResourceNames) > 0 {
		b.WriteString(" [" + strings.Join(r.ResourceNames, ",") + "]")
	}
	return b.String()
}

func rbacJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
