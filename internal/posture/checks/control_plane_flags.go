package checks

// CIS Kubernetes Benchmark v1.9, sections 1.2 (API Server), 1.3 (Controller
// Manager), 1.4 (Scheduler) and 2 (etcd), and the kubelet flags of 4.2:
// "Ensure that the --anonymous-auth argument is set to false", "Ensure that
// the --encryption-provider-config argument is set as appropriate", …
//
// Kubeadm, RKE2 and minikube run these components as static pods in
// kube-system, so a live LIST and manifest sets show their command lines.
// The rules are internal/nodecheck's (the host scan's), evaluated on the
// command line: one rule, one verdict, whichever way the flags were read.
// Rules that need the node's files (permissions, owners, what the
// encryption configuration lists) are left to `palisade node check`.

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/nodecheck"
	"github.com/palisade-sec/palisade/internal/posture"
)

// ControlPlaneFlags reports control-plane (and containerised kubelet)
// command-line flags that fail a CIS recommendation.
func ControlPlaneFlags() posture.Check {
	return posture.Check{
		ID:          "control-plane-flags",
		Title:       "Control-plane component runs with insecure flags",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "cluster",
		Rationale:   "The API server, controller manager, scheduler, etcd and kubelet flags decide who may call them unauthenticated, whether Secrets are encrypted at rest and whether the audit trail exists.",
		Remediation: "Change the flag in the component's static pod manifest (/etc/kubernetes/manifests on kubeadm nodes, the server config on RKE2); the kubelet restarts the pod.",
		Scope:       posture.ScopeWorkload,
		// New in version 4. A change of nodecheck's flag rules changes this
		// check's verdicts: TestControlPlaneFlagsRules fails until the
		// change comes with a new Versioned (and, for a rule whose logic
		// changes, its old logic kept for pinned scans). Version 11 judges
		// the API server's cipher suites by CIS v1.10's list (ECDHE
		// AES-CBC-SHA accepted, RSA key exchange not).
		// Version 12: a command line that starts with a flag names no
		// program (before, "--kubelet-service=kube-system/kubelet", the
		// Prometheus operator's first argument, made it the kubelet).
		Versions: []posture.Versioned{
			{MinVersion: 4, Eval: controlPlaneFlags(nodecheck.WithAEADAPIServerCiphers(nodecheck.All()), controlPlaneFlagRules(), true)},
			{MinVersion: 11, Eval: controlPlaneFlags(nodecheck.All(), controlPlaneFlagRules(), true)},
			{MinVersion: 12, Eval: controlPlaneFlags(nodecheck.All(), controlPlaneFlagRules(), false)},
		},
	}
}

// controlPlaneFlags evaluates the nodecheck rules on every container that
// runs a control-plane component, reporting the failures of the rules
// listed in known. flagAsProgram keeps versions 4–11's reading of a first
// argument that is a flag ending in a component's name as that program.
func controlPlaneFlags(rules []nodecheck.Check, known []string, flagAsProgram bool) func(*posture.Input) []posture.Result {
	return func(in *posture.Input) []posture.Result {
		var out []posture.Result
		for i := range in.Workload.PodSpec.Containers {
			c := kube.ContainerRef{List: "containers", Index: i, Container: &in.Workload.PodSpec.Containers[i]}
			component, args := controlPlaneComponent(in.Workload, c.Container, flagAsProgram)
			if component == "" {
				continue
			}
			if component == nodecheck.Etcd {
				args = append(etcdEnvFlags(c.Container.Env), args...)
			}
			for _, r := range nodecheck.EvalFlags(context.Background(), rules, component, args) {
				if r.Pass || !slices.Contains(known, r.Check.ID) {
					continue
				}
				out = append(out, controlPlaneResult(in, c, component, r))
			}
		}
		return out
	}
}

// controlPlaneFlagRules are the nodecheck rules version 4 reports, in
// nodecheck order: its flag rules (the rules that read files need the node).
func controlPlaneFlagRules() []string {
	return []string{
		"node/apiserver-anonymous-auth", "node/apiserver-token-auth-file", "node/apiserver-deny-service-external-ips", "node/apiserver-kubelet-client-cert", "node/apiserver-kubelet-ca",
		"node/apiserver-authz-not-always-allow", "node/apiserver-authz-node", "node/apiserver-authz-rbac", "node/apiserver-event-rate-limit", "node/apiserver-always-admit",
		"node/apiserver-always-pull-images", "node/apiserver-service-account-plugin", "node/apiserver-namespace-lifecycle-plugin", "node/apiserver-node-restriction", "node/apiserver-profiling",
		"node/apiserver-audit-log-path", "node/apiserver-audit-log-maxage", "node/apiserver-audit-log-maxbackup", "node/apiserver-audit-log-maxsize",
		"node/apiserver-request-timeout", "node/apiserver-service-account-lookup", "node/apiserver-service-account-key-file", "node/apiserver-etcd-client-cert",
		"node/apiserver-tls-cert", "node/apiserver-client-ca", "node/apiserver-etcd-ca", "node/apiserver-encryption-config",
		"node/apiserver-tls-ciphers",
		"node/controller-manager-pod-gc", "node/controller-manager-profiling", "node/controller-manager-sa-credentials", "node/controller-manager-sa-key",
		"node/controller-manager-root-ca", "node/controller-manager-rotate-server-cert", "node/controller-manager-bind-address",
		"node/scheduler-profiling", "node/scheduler-bind-address",
		"node/etcd-tls", "node/etcd-client-cert-auth", "node/etcd-auto-tls", "node/etcd-peer-tls",
		"node/etcd-peer-client-cert-auth", "node/etcd-peer-auto-tls",
		"node/kubelet-anonymous-auth", "node/kubelet-authz-mode", "node/kubelet-client-ca", "node/kubelet-read-only-port",
		"node/kubelet-streaming-idle-timeout", "node/kubelet-iptables-chains", "node/kubelet-event-qps", "node/kubelet-tls-cert",
		"node/kubelet-rotate-certificates", "node/kubelet-rotate-server-cert", "node/kubelet-tls-ciphers", "node/kubelet-protect-kernel-defaults",
	}
}

// controlPlaneComponent returns the component a container runs and its
// arguments: from its command line ("kube-apiserver …", "hyperkube
// kube-apiserver …"); for a container given flags only, the image's
// entrypoint is the program (as on RKE2), named by the pod's component
// label when the container is named after it or is the only one, or by
// the image's repository (registry.k8s.io/etcd, …/kube-apiserver-amd64).
// A container with no command line at all is not judged.
func controlPlaneComponent(w *kube.Workload, c *corev1.Container, flagAsProgram bool) (string, []string) {
	argv := append(append([]string{}, c.Command...), c.Args...)
	if comp, args, ok := nodecheck.ComponentCommand(argv); ok {
		return comp, args
	}
	if flagAsProgram && len(argv) > 0 {
		if prog := path.Base(strings.TrimSpace(argv[0])); strings.HasPrefix(argv[0], "-") && nodecheck.IsComponent(prog) {
			return prog, argv[1:]
		}
	}
	if len(argv) == 0 || !strings.HasPrefix(argv[0], "-") {
		// Another program, or an entrypoint run as the image says:
		// nothing on the command line to judge.
		return "", nil
	}
	if label := w.PodMeta.Labels["component"]; nodecheck.IsComponent(label) && (c.Name == label || len(w.PodSpec.Containers) == 1) {
		return label, argv
	}
	if comp := controlPlaneImage(c.Image); comp != "" {
		return comp, argv
	}
	return "", nil
}

// controlPlaneImage returns the component an image's repository is named
// after, "" for any other image.
func controlPlaneImage(image string) string {
	repo, _, _ := strings.Cut(image, "@")
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	name := repo[strings.LastIndex(repo, "/")+1:]
	for _, arch := range []string{"-amd64", "-arm64", "-arm", "-ppc64le", "-s390x"} {
		name = strings.TrimSuffix(name, arch)
	}
	if nodecheck.IsComponent(name) {
		return name
	}
	return ""
}

// etcdEnvFlags returns the flags etcd takes from ETCD_* environment
// variables (ETCD_CLIENT_CERT_AUTH=true is --client-cert-auth=true), as
// charts such as Bitnami's configure it; flags given after them win, as
// in etcd. A variable set from a Secret or ConfigMap has no value here
// and is left out.
func etcdEnvFlags(env []corev1.EnvVar) []string {
	var out []string
	for _, e := range env {
		name, ok := strings.CutPrefix(e.Name, "ETCD_")
		if !ok || name == "" || e.ValueFrom != nil {
			continue
		}
		out = append(out, "--"+strings.ToLower(strings.ReplaceAll(name, "_", "-"))+"="+e.Value)
	}
	return out
}

func controlPlaneResult(in *posture.Input, c kube.ContainerRef, component string, r nodecheck.FlagResult) posture.Result {
	field := flagField(c.Container, component, r.Flag)
	why, from := strings.TrimPrefix(r.Message, component+": "), r.From
	if len(field) > 0 && field[0] == "env" {
		// The value came from etcd's environment, not a flag.
		env := "env " + c.Container.Env[fieldIndex(field[1])].Name
		why = strings.ReplaceAll(why, "flag --"+r.Flag, env)
		from = env
	}
	cis := "not in CIS v1.9"
	if r.Check.CIS != "" {
		cis = "CIS " + r.Check.CIS
	}
	msg := fmt.Sprintf("%s %s runs %s: %s. %s: %s. %s", in.Workload.Object.Ref.Kind, in.Workload.Object.Ref.Name,
		component, why, cis, r.Check.Title, r.Check.Remediation)
	evidence := []finding.Evidence{
		key("rule", r.Check.ID),
		key("component", component),
		key("setting", r.Setting),
		ev("cis", r.Check.CIS),
	}
	if v := strings.TrimSpace(from + " " + flagQuote(r.Value)); v != "" {
		evidence = append(evidence, ev("value", v))
	}
	return posture.Result{
		Container: c.Container.Name,
		Image:     c.Container.Image,
		Path:      cpath(in, c, field...),
		Severity:  r.Check.Severity,
		Message:   msg,
		Evidence:  evidence,
	}
}

// flagField returns the field path below the container of the argument
// that sets flag (the last one: it wins), else of etcd's environment
// variable for it, else of the command line.
func flagField(c *corev1.Container, component, flag string) []string {
	find := func(list []string) int {
		at := -1
		for i, a := range list {
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if flag != "" && strings.HasPrefix(a, "-") && name == flag {
				at = i
			}
		}
		return at
	}
	if i := find(c.Args); i >= 0 {
		return []string{"args", itoa(i)}
	}
	if i := find(c.Command); i >= 0 {
		return []string{"command", itoa(i)}
	}
	if component == nodecheck.Etcd && flag != "" {
		env := "ETCD_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
		for i, e := range c.Env {
			if e.Name == env {
				return []string{"env", itoa(i), "value"}
			}
		}
	}
	if len(c.Command) > 0 {
		return []string{"command"}
	}
	if len(c.Args) > 0 {
		return []string{"args"}
	}
	return nil
}

func fieldIndex(s string) int {
	i, _ := strconv.Atoi(s)
	return i
}

func flagQuote(v string) string {
	if v == "" {
		return ""
	}
	return fmt.Sprintf("%q", v)
}
