package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/palisade-sec/palisade/internal/buildinfo"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
	"github.com/palisade-sec/palisade/internal/posture/compliance"
)

func newPostureCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "posture",
		Short: "Report misconfigurations of manifests and live clusters",
	}
	cmd.AddCommand(newPostureScanCommand(g), newPostureWhoCanCommand(g), newPostureCanCommand(g))
	return cmd
}

type postureScanFlags struct {
	kubeconfig    string
	context       string
	failOn        string
	pin           int
	pageSize      int64
	noAnnotations bool
	cluster       clusterVersionFlags
}

func newPostureScanCommand(g *globals) *cobra.Command {
	var f postureScanFlags
	cmd := &cobra.Command{
		Use:   "scan [PATH... | -]",
		Short: "Scan manifests (files, directories, stdin) or a live cluster for misconfigurations",
		Long: `Scan Kubernetes manifests — YAML or JSON files, multi-document, List kinds,
directories (recursively) or "-" for stdin — or, with --kubeconfig, a live
cluster through paged LISTs, against Palisade's posture checks: Pod Security
Standards, workload hardening, RBAC, network exposure, namespaces and secrets.
Findings carry file and line, and CIS / NSA-CISA / MITRE ATT&CK controls.

Exceptions come from the configuration file and from the
palisade.dev/exceptions annotation ("check-id[,check-id]: reason"), which
--no-annotation-exceptions switches off. Where RBAC hides a kind in a live
cluster, the report is marked partial and says what it could not see.

Cluster checks judge the Kubernetes version — the live cluster's /version,
or the kubelet version of Node objects among the manifests — against a dated
table of releases and end-of-support dates per distribution (upstream, EKS,
GKE, AKS; detected from the version suffix and AKS node labels, or given with
--distribution) that 'palisade db update' refreshes. Deprecated and removed
API versions are judged against --target-version (default: the cluster's
version, else the oldest Node's, else the newest release in the table).

--fail-on SEVERITY (default high; "none" never fails) exits 1 when an open
finding is at or above it; unreadable input exits 2.`,
		RunE: func(cmd *cobra.Command, args []string) error { return runPostureScan(cmd, g, f, args) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "scan the live cluster of this kubeconfig instead of files")
	fl.StringVar(&f.context, "context", "", "kubeconfig context (default: the current context)")
	fl.StringVar(&f.failOn, "fail-on", "high", "exit 1 when an open finding is at or above: critical, high, medium, low, info, none")
	fl.IntVar(&f.pin, "checks-version", 0, "evaluate checks as of this check version (0: latest)")
	fl.Int64Var(&f.pageSize, "page-size", kube.DefaultPageSize, "objects per LIST page in live scans")
	fl.BoolVar(&f.noAnnotations, "no-annotation-exceptions", false, "ignore the "+posture.ExceptionAnnotation+" annotation")
	f.cluster.add(cmd)
	return cmd
}

func parseFailOn(s string) (finding.Severity, bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "none", "never":
		return 0, false, nil
	}
	sev, err := finding.ParseSeverity(s)
	if err != nil || sev == finding.SeverityUnknown {
		return 0, false, fmt.Errorf("--fail-on %q: want critical, high, medium, low, info or none", s)
	}
	return sev, true, nil
}

func runPostureScan(cmd *cobra.Command, g *globals, f postureScanFlags, paths []string) error {
	ctx := cmd.Context()
	failOn, gate, err := parseFailOn(f.failOn)
	if err != nil {
		return usageError(err)
	}
	switch {
	case f.kubeconfig == "" && len(paths) == 0:
		return usageError(errors.New("posture scan: give manifest paths, - for stdin, or --kubeconfig"))
	case f.kubeconfig != "" && len(paths) > 0:
		return usageError(errors.New("posture scan: give either manifest paths or --kubeconfig, not both"))
	case f.context != "" && f.kubeconfig == "":
		return usageError(errors.New("posture scan: --context needs --kubeconfig"))
	}
	reg, err := posture.NewRegistry(checks.All(), posture.Version(f.pin))
	if err != nil {
		return usageError(err)
	}
	mapping, err := compliance.Load()
	if err != nil {
		return err
	}
	scanner := posture.NewScanner(reg, mapping.ControlsOf)

	var (
		inv       *kube.Inventory
		target    string
		inputErr  error
		scanNotes []error
	)
	if f.kubeconfig != "" {
		cfg, name, err := restConfig(f.kubeconfig, f.context)
		if err != nil {
			return usageError(err)
		}
		var missing []error
		inv, missing, err = kube.ListCluster(ctx, cfg, name, f.pageSize)
		if err != nil {
			return err
		}
		if len(missing) > 0 && len(inv.Objects) == 0 && allFailed(missing) {
			return usageError(fmt.Errorf("posture scan of %s: %w", name, errors.Join(missing...)))
		}
		target, scanNotes = "cluster "+name, missing
		if err := f.cluster.readLive(ctx, cfg); err != nil {
			scanNotes = append(scanNotes, err)
		}
	} else {
		inv, inputErr = kube.Load(ctx, paths, g.env.Stdin, kube.Limits{})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		target = strings.Join(paths, ",")
	}

	ci, err := f.cluster.info(g)
	if err != nil {
		return usageError(err)
	}
	out, err := scanner.Scan(ctx, inv, posture.Options{Registries: g.cfg.Registries, IgnoreAnnotationExceptions: f.noAnnotations, Cluster: ci})
	if err != nil {
		return err
	}
	for _, w := range out.Warnings {
		g.logger.Warn(w)
	}
	fs := out.Findings
	config.ApplyExceptions(g.env.Now(), g.cfg.Exceptions, fs, labelsIndex(inv))
	rep := finding.NewReport(finding.Tool{Name: "palisade", Version: buildinfo.Get().Version}, target, g.env.Now(), fs)
	rep.Coverage = out.Coverage
	for _, e := range scanNotes {
		rep.AddError(e)
	}
	if inputErr != nil {
		for _, e := range flatten(inputErr) {
			rep.AddError(e)
		}
	}
	if err := finding.Write(cmd.OutOrStdout(), g.format, rep, finding.WriteOptions{Color: g.color()}); err != nil {
		return err
	}
	if inputErr != nil {
		return usageError(inputErr)
	}
	if gate && rep.Summary.OpenBySeverity.AtLeast(failOn) > 0 {
		return errViolation
	}
	return nil
}

// restConfig loads a kubeconfig and returns the client config of context
// (the current one when empty) and the context's name.
func restConfig(path, context string) (*rest.Config, string, error) {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: path}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, "", fmt.Errorf("load kubeconfig %s: %w", path, err)
	}
	name := context
	if name == "" {
		name = raw.CurrentContext
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig %s context %q: %w", path, name, err)
	}
	return cfg, name, nil
}

// allFailed reports whether every list error is something other than RBAC,
// such as an unreachable server.
func allFailed(errs []error) bool {
	for _, e := range errs {
		var le *kube.ListError
		if errors.As(e, &le) && le.Forbidden {
			return false
		}
	}
	return true
}

// flatten splits an errors.Join tree into its leaves.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// labelsIndex returns a lookup of each scanned object's labels, for
// exceptions that select by label.
func labelsIndex(inv *kube.Inventory) func(finding.Resource) map[string]string {
	idx := make(map[[4]string]map[string]string, len(inv.Objects))
	for _, o := range inv.Objects {
		labels := o.Meta.Labels
		if labels == nil {
			labels = map[string]string{}
		}
		idx[[4]string{o.Source.Cluster, o.Ref.Namespace, o.Ref.Kind, o.Ref.Name}] = labels
	}
	return func(r finding.Resource) map[string]string {
		ns := r.Namespace
		if r.Kind == "Namespace" {
			ns = ""
		}
		return idx[[4]string{r.Cluster, ns, r.Kind, r.Name}]
	}
}
