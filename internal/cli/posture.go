package cli

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/palisade-sec/palisade/internal/buildinfo"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kube/render"
	"github.com/palisade-sec/palisade/internal/memlimit"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
	"github.com/palisade-sec/palisade/internal/posture/compliance"
	"github.com/palisade-sec/palisade/internal/posture/exposure"
	"github.com/palisade-sec/palisade/internal/posture/imagevulns"
)

func newPostureCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "posture",
		Short: "Report misconfigurations of manifests and live clusters",
	}
	cmd.AddCommand(newPostureScanCommand(g), newPostureWhoCanCommand(g), newPostureCanCommand(g), newPostureChecksCommand(g), newPostureExceptionsCommand(g))
	return cmd
}

type postureScanFlags struct {
	targets       *clusterTargets
	failOn        string
	pin           int
	pageSize      int64
	noAnnotations bool
	cluster       clusterVersionFlags
	helm          render.HelmOptions
	imageReports  []string
	images        posture.ImageVulns // loaded from imageReports; nil without them
	memoryLimit   string
	baselineFile  string
	// buildKustomizations builds the kustomizations found in directories
	// (--build-kustomizations, default true).
	buildKustomizations bool
}

// scanOptions are the options of one scan: palisade.yaml's settings, the
// flags', and what is known of the cluster.
func (f *postureScanFlags) scanOptions(g *globals, ci posture.ClusterInfo) posture.Options {
	opts := configuredPostureOptions(g.cfg)
	opts.IgnoreAnnotationExceptions, opts.Cluster, opts.Images = f.noAnnotations, ci, f.images
	return opts
}

// helmFor returns o, the Helm options charts are rendered with, for the
// Kubernetes version their objects are judged against (ci's
// --target-version, else the newest release of its versions table), so that a chart that
// picks API versions by .Capabilities.KubeVersion renders what it would
// install there, not what Helm's built-in default (v1.20 in tests)
// would pick.
func helmFor(o render.HelmOptions, ci posture.ClusterInfo) render.HelmOptions {
	switch {
	case ci.TargetVersion != "":
		o.KubeVersion = "v" + ci.TargetVersion + ".0"
	case ci.Versions != nil:
		newest := ci.Versions.Newest()
		o.KubeVersion = "v" + strings.TrimPrefix(cmp.Or(newest.Latest, newest.Minor+".0"), "v")
	}
	return o
}

func newPostureScanCommand(g *globals) *cobra.Command {
	f := postureScanFlags{targets: &clusterTargets{}}
	cmd := &cobra.Command{
		Use:   "scan [PATH... | -] | --kubeconfig FILE [--context NAME]...",
		Short: "Scan manifests (files, directories, stdin) or a live cluster for misconfigurations",
		Long: `Scan Kubernetes manifests — YAML or JSON files, multi-document, List kinds,
directories (recursively) or "-" for stdin — or, with --kubeconfig, live
clusters through paged LISTs, against Palisade's posture checks: Pod Security
Standards, workload hardening, RBAC, network exposure, namespaces and secrets.
Findings carry file and line (or cluster), and CIS / NSA-CISA / MITRE ATT&CK
controls.

--kubeconfig and --context repeat, for one report over many clusters: each
--context applies to the --kubeconfig before it (none: its current context),
and with a single --kubeconfig every --context names one more cluster of it:

  palisade posture scan --kubeconfig prod.yaml --kubeconfig stage.yaml --context ops
  palisade posture scan --kubeconfig ~/.kube/config --context eu-1 --context us-1

Each cluster is named by its context (followed by @ and the kubeconfig path
when two share a name); findings carry that name, and so do the report's
errors. Each cluster is judged against its own Kubernetes version. Live scans
read Secrets never; they read Cilium network policies, Gateway API routes and
gateways, Istio gateways and virtual services, Agent Sandbox sandboxes and
templates, and Prometheus operator ServiceMonitors and PodMonitors when their
CRDs are installed (one discovery request decides which).

Exceptions come from the configuration file and from the
palisade.dev/exceptions annotation ("check-id[,check-id]: reason"), which
--no-annotation-exceptions or posture.annotationExceptions: false in the
configuration switches off (the flag, when given, wins). Where RBAC hides a kind in a live
cluster, the report is marked partial and says, per cluster, which kinds it
could not see. A cluster that cannot be reached at all fails the scan when it
is the only one; among several, the report is partial and names it.

Cluster checks judge the Kubernetes version — the live cluster's /version,
or the kubelet version of Node objects among the manifests — against a dated
table of releases and end-of-support dates per distribution (upstream, EKS,
GKE, AKS; detected from the version suffix and AKS node labels, or given with
--distribution) that 'palisade db update' refreshes. Deprecated and removed
API versions are judged against --target-version (default: the cluster's
version, else the oldest Node's, else the newest release in the table).

A chart directory (with Chart.yaml) or packaged chart (.tgz) is rendered with
the Helm SDK, as 'helm template' would (--values, --set, --release-name,
--namespace, --skip-tests); a directory with kustomization.yaml is built with the kustomize
API, as 'kustomize build' would. Findings then name the template, or the file
(through every base) a kustomization's object was written in. Charts found in a
scanned directory are rendered too, and the kustomizations found there that no
other builds on (the overlays) are built — the files they include are judged
as built, with the overlay's namespace, names and patches, once per overlay;
one that names a remote resource (not fetched) or does not build is read as
written, with a warning (--build-kustomizations=false reads all as written). A chart
whose default values do not render (a required value unset) is rendered with
the first of its chart-testing values, ci/*-values.yaml, that does, with a
warning, unless --values or --set are given. A
dependency Chart.yaml declares that charts/ lacks is named (run 'helm
dependency build') and makes the report partial.

Reports list the exposed workloads apart from the findings: every workload
reachable from outside the cluster (Ingress → Service → workload,
LoadBalancer, NodePort and externalIPs Services, hostPort, hostNetwork),
each way in with whether its Ingress host has TLS, and the worst of the
workload's open findings, riskiest first (table, JSON exposedWorkloads,
HTML).

--image-report PATH (repeatable; a file, or a directory of *.json) joins image
scan results to the workloads that run the images: write them with
'palisade image scan -o json REF > FILE'. A container is matched to a scan by
digest (its image reference's, or in a live cluster the pod status's imageID),
else by its normalized tag (which may have moved since the scan; findings say
matchedBy=tag). vulnerable-image then reports images with open vulnerabilities
at medium or above, and exposed-vulnerable-workload (critical) exposed
workloads whose image has a network-exploitable critical or high one.

--baseline FILE (an earlier 'posture scan -o json' report or -o sarif log) gates on what is
new: findings open in it are excepted as the baseline's (reports show them
excepted, owner "baseline FILE"), so --fail-on judges only the others; the
log says how many of the baseline's findings are gone. Finding IDs leave
line numbers out, so a finding keeps its place when unrelated lines move.

--fail-on SEVERITY (default high; "none" never fails) exits 1 when an open
finding is at or above it; unreadable input exits 2.`,
		RunE: func(cmd *cobra.Command, args []string) error { return runPostureScan(cmd, g, f, args) },
	}
	fl := cmd.Flags()
	fl.Var(kubeconfigFlag{f.targets}, "kubeconfig", "scan the live cluster of this kubeconfig instead of files (repeatable)")
	fl.Var(contextFlag{f.targets}, "context", "context of the preceding --kubeconfig (default: its current one; repeatable)")
	fl.StringVar(&f.failOn, "fail-on", "high", "exit 1 when an open finding is at or above: critical, high, medium, low, info, none")
	fl.IntVar(&f.pin, "checks-version", 0, "evaluate checks as of this check version (0: latest)")
	fl.Int64Var(&f.pageSize, "page-size", kube.DefaultPageSize, "objects per LIST page in live scans")
	fl.BoolVar(&f.noAnnotations, "no-annotation-exceptions", false, "ignore the "+posture.ExceptionAnnotation+" annotation")
	fl.StringArrayVarP(&f.helm.ValuesFiles, "values", "f", nil, "Helm values file for chart paths (repeatable, merged in order)")
	fl.StringArrayVar(&f.helm.Set, "set", nil, "Helm value for chart paths, key=value[,key=value] (repeatable)")
	fl.StringVar(&f.helm.ReleaseName, "release-name", "release", "Helm release name for chart paths")
	fl.StringSliceVar(&f.helm.APIVersions, "api-versions", nil, "API versions charts may gate on besides the built-in ones, group/version or group/version/Kind (Helm's --api-versions; repeatable or comma-separated)")
	fl.BoolVar(&f.buildKustomizations, "build-kustomizations", true, "build the kustomizations found in scanned directories (those no other builds on) and judge the files they include as built; false judges every file as written")
	fl.BoolVar(&f.helm.SkipTests, "skip-tests", false, "leave out the charts' tests (helm.sh/hook: test), which only 'helm test' runs (Helm's --skip-tests)")
	fl.StringVar(&f.helm.Namespace, "namespace", "", "namespace charts are rendered into (Helm's --namespace; unset: default, which the default-namespace checks take as no namespace set)")
	fl.StringVar(&f.memoryLimit, "memory-limit", memlimit.DefaultScan, "soft memory target of the scan (Go's GOMEMLIMIT, which wins when set): the collector works harder near it, never fails; 0 or none: the Go default")
	fl.StringVar(&f.baselineFile, "baseline", "", "earlier report (posture scan -o json, or -o sarif) whose open findings are not new: they are excepted, and --fail-on judges the rest")
	fl.StringArrayVar(&f.imageReports, "image-report", nil, "image scan report (palisade image scan -o json REF > FILE) or directory of them, joined to the workloads running the images (repeatable)")
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
	if !cmd.Flags().Changed("no-annotation-exceptions") {
		f.noAnnotations = g.cfg.Posture.IgnoreAnnotationExceptions // posture.annotationExceptions: false
	}
	failOn, gate, err := parseFailOn(f.failOn)
	if err != nil {
		return usageError(err)
	}
	restore, err := memlimit.Apply(f.memoryLimit, cmd.Flags().Changed("memory-limit"), g.env.Getenv)
	if err != nil {
		return usageError(err)
	}
	defer restore()
	live := f.targets.given()
	switch {
	case !live && len(paths) == 0:
		return usageError(errors.New("posture scan: give manifest paths, - for stdin, or --kubeconfig"))
	case live && len(paths) > 0:
		return usageError(errors.New("posture scan: give either manifest paths or --kubeconfig, not both"))
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
	var baseline *finding.Baseline
	if f.baselineFile != "" {
		if baseline, err = loadBaseline(f.baselineFile); err != nil {
			return usageError(fmt.Errorf("posture scan: %w", err))
		}
	}
	if len(f.imageReports) > 0 {
		idx, err := imagevulns.LoadFiles(ctx, f.imageReports...)
		if err != nil {
			return usageError(fmt.Errorf("posture scan: %w", err))
		}
		f.images = idx
	}

	var (
		res      *scanResult
		inputErr error
	)
	if live {
		targets, err := f.targets.resolve()
		if err != nil {
			return usageError(fmt.Errorf("posture scan: %w", err))
		}
		if res, err = scanClusters(ctx, g, f, scanner, targets); err != nil {
			return err
		}
	} else {
		ci, err := f.cluster.info(g)
		if err != nil {
			return usageError(err)
		}
		phase := time.Now()
		if n := memlimit.Pretouch(memlimit.ManifestHeapPerInputByte * kube.InputSize(paths, maxSizedInput)); n > 0 {
			g.logger.Debug("posture scan: heap pretouched", "bytes", n, "took", time.Since(phase))
		}
		helm := helmFor(f.helm, ci)
		if err := helm.Validate(); err != nil {
			return usageError(fmt.Errorf("posture scan: %w", err))
		}
		inv, err := render.Load(ctx, paths, g.env.Stdin, render.Options{Helm: helm, Logger: g.logger, KeepFoundKustomizations: !f.buildKustomizations})
		g.logger.Debug("posture scan: manifests read", "objects", len(inv.Objects), "took", time.Since(phase))
		phase = time.Now()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		inputErr = err
		warnSkipped(g, inv.Skipped)
		if len(inv.Objects) == 0 && err == nil {
			// As kube-linter and Trivy do, no objects is no failure; but a
			// gate pointed at the wrong directory should not pass unseen.
			g.logger.Warn("posture scan: no Kubernetes object found; nothing was checked", "paths", strings.Join(paths, ","))
		}
		out, err := scanner.Scan(ctx, inv, f.scanOptions(g, ci))
		if err != nil {
			return err
		}
		g.logger.Debug("posture scan: checks run", "findings", len(out.Findings), "took", time.Since(phase))
		for _, w := range out.Warnings {
			g.logger.Warn(w)
		}
		res = &scanResult{target: strings.Join(paths, ","), findings: out.Findings, coverage: out.Coverage, invs: []*kube.Inventory{inv}}
	}

	phase := time.Now()
	fs := res.findings
	config.ApplyExceptions(g.env.Now(), g.cfg.Exceptions, fs, labelsIndex(res.invs...))
	// Nothing past the exposed workloads needs the inventories: let them go
	// before the report is built, and let the report keep the findings
	// instead of a copy, so that a scan of 10,000 Deployments holds neither
	// twice (peak memory).
	// The exposed workloads are those the checks judged: at the pinned
	// version's view of each inventory.
	for i, inv := range res.invs {
		res.invs[i] = reg.View(inv)
	}
	exposed := exposure.Workloads(res.invs...)
	res.invs, res.findings = nil, nil
	rep := finding.NewReportInPlace(finding.Tool{Name: "palisade", Version: buildinfo.Get().Version}, res.target, g.env.Now(), fs)
	if baseline != nil {
		excepted, gone := baseline.Apply(rep.Findings)
		rep.Summary = finding.Summarize(rep.Findings)
		g.logger.Info("posture scan: baseline applied", "baseline", baseline.Name, "inBaseline", excepted, "new", rep.Summary.Open, "goneSinceBaseline", gone)
		if excepted == 0 && baseline.Len() > 0 {
			// Finding IDs hash the file paths as given: a baseline made from
			// another directory or with other paths matches nothing.
			g.logger.Warn("posture scan: no finding of the baseline was found again; was it made with the same paths, from the same directory?", "baseline", baseline.Name, "baselineFindings", baseline.Len())
		}
	}
	rep.Coverage = res.coverage
	if err := rep.SetExposed(exposed); err != nil {
		return fmt.Errorf("list exposed workloads: %w", err)
	}
	for _, e := range res.notes {
		rep.AddError(e)
	}
	if inputErr != nil {
		for _, e := range kube.SplitErrors(inputErr) {
			rep.AddError(e)
		}
	}
	g.logger.Debug("posture scan: report built", "took", time.Since(phase))
	phase = time.Now()
	if err := finding.Write(cmd.OutOrStdout(), g.format, rep, finding.WriteOptions{Color: g.color()}); err != nil {
		return err
	}
	g.logger.Debug("posture scan: report written", "format", g.format, "took", time.Since(phase))
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

// labelsIndex returns a lookup of each scanned object's labels, for
// exceptions that select by label.
func labelsIndex(invs ...*kube.Inventory) func(finding.Resource) map[string]string {
	n := 0
	for _, inv := range invs {
		n += len(inv.Objects)
	}
	idx := make(map[[4]string]map[string]string, n)
	for _, inv := range invs {
		for _, o := range inv.Objects {
			labels := o.Meta.Labels
			if labels == nil {
				labels = map[string]string{}
			}
			idx[[4]string{o.Source.Cluster, o.Ref.Namespace, o.Ref.Kind, o.Ref.Name}] = labels
		}
	}
	return func(r finding.Resource) map[string]string {
		ns := r.Namespace
		if r.Kind == "Namespace" {
			ns = ""
		}
		return idx[[4]string{r.Cluster, ns, r.Kind, r.Name}]
	}
}

// loadBaseline reads the baseline report at path.
func loadBaseline(path string) (*finding.Baseline, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer fh.Close()
	return finding.LoadBaseline(path, bufio.NewReaderSize(fh, 1<<20))
}

// maxSizedInput is as much input as posture scan counts to size its heap
// (memlimit.Pretouch): no estimate needs more, and the scan walks a large
// tree again.
const maxSizedInput = 64 << 20

// warnSkipped says which files under the scanned directories were left out
// because they hold no Kubernetes object, so that a manifest with a typo in
// apiVersion is not silently ignored.
func warnSkipped(g *globals, skipped []*kube.InputError) {
	if len(skipped) == 0 {
		return
	}
	names := make([]string, len(skipped))
	for i, s := range skipped {
		names[i] = s.Error()
	}
	g.logger.Warn("skipped files in the scanned directories that hold no Kubernetes object or are kustomize patches", "count", len(skipped), "files", kube.Abbreviate(names, 5))
}
