package nodecheck

// Flag rules over a pod spec. Kubeadm, RKE2 and minikube run the API
// server, controller manager, scheduler and etcd as static pods whose
// mirror pods (and manifests) show the command line, but not the node's
// files. Posture judges those command lines with the same checks as a node
// scan, minus the ones that need the host.

import (
	"context"
	"path"
	"strings"
)

// componentOf returns the component a program runs, "" for any other.
func componentOf(prog string) string {
	switch prog {
	case APIServer, ControllerManager, Scheduler, Etcd, Kubelet:
		return prog
	}
	return ""
}

// hyperkubeComponent returns the component a hyperkube sub-command runs:
// its full name or the short one older releases used ("apiserver").
func hyperkubeComponent(sub string) string {
	if c := componentOf(sub); c != "" {
		return c
	}
	if c := componentOf("kube-" + sub); c != "" && c != Kubelet {
		return c
	}
	return ""
}

// ComponentCommand returns the component a container's command line runs
// and the arguments given to it: "kube-apiserver --x" (from any directory),
// and the all-in-one "hyperkube kube-apiserver --x" or "hyperkube apiserver
// --x". ok is false for any other program. A command line of flags only
// (the image's entrypoint is the program) is not recognised here: the
// caller decides from the pod's labels.
func ComponentCommand(argv []string) (component string, args []string, ok bool) {
	if len(argv) == 0 {
		return "", nil, false
	}
	first := strings.TrimSpace(argv[0])
	if strings.HasPrefix(first, "-") {
		// A flag, not a program: path.Base would make
		// "--kubelet-service=kube-system/kubelet" (Prometheus operator's
		// first argument) the kubelet.
		return "", nil, false
	}
	prog := path.Base(first)
	if c := componentOf(prog); c != "" {
		return c, argv[1:], true
	}
	if prog == "hyperkube" && len(argv) > 1 {
		if c := hyperkubeComponent(strings.TrimSpace(argv[1])); c != "" {
			return c, argv[2:], true
		}
	}
	return "", nil, false
}

// IsComponent reports whether name is a component FlagChecks can judge.
func IsComponent(name string) bool { return componentOf(name) != "" }

// needsHost reports whether a check of a component reads the node's files
// (permissions, owners, the encryption configuration's providers) rather
// than only the command line. TestNeedsHost keeps this list honest: every
// other check of a component is evaluated on a node with no files at all.
func needsHost(ch Check) bool {
	if ch.Component == ControlPlane {
		return true
	}
	switch ch.ID {
	case "node/apiserver-encryption-providers",
		"node/kubelet-service-permissions", "node/kubelet-service-owner",
		"node/kubelet-kubeconfig-permissions", "node/kubelet-kubeconfig-owner",
		"node/kubelet-client-ca-permissions", "node/kubelet-client-ca-owner",
		"node/kubelet-config-permissions", "node/kubelet-config-owner",
		"node/proxy-kubeconfig-permissions", "node/proxy-kubeconfig-owner":
		return true
	}
	return false
}

// FlagChecks returns the checks of component that its command line alone
// decides, in the order of checks.
func FlagChecks(checks []Check, component string) []Check {
	var out []Check
	for _, ch := range checks {
		if ch.Component == component && !needsHost(ch) {
			out = append(out, ch)
		}
	}
	return out
}

// FlagResult is one check's verdict on a component's command line.
type FlagResult struct {
	Check Check
	Result
	// Flag is the flag judged, without dashes ("profiling"); "" when the
	// setting is not a flag of its own (a feature gate).
	Flag string
}

// EvalFlags evaluates the flag checks of component (see FlagChecks) on its
// command-line arguments, as a node scan would for a process with that
// command line. A kubelet started with --config reads most settings from a
// file the command line does not show: its results that the file could
// decide are left out rather than guessed.
func EvalFlags(ctx context.Context, checks []Check, component string, args []string) []FlagResult {
	c := &Component{Name: component, Source: "command line", Flags: ParseArgs(args)}
	if component == Kubelet {
		if cfg, ok := c.Flags.Get("config"); ok && cfg != "" {
			c.ConfigFile = cfg
		}
	}
	n := &Node{Components: map[string]*Component{component: c}}
	var out []FlagResult
	for _, ch := range FlagChecks(checks, component) {
		if ctx.Err() != nil {
			return out
		}
		for _, r := range ch.evaluate(ctx, n, c) {
			if r.Err != nil || r.NotApplicable || r.Missing != "" || (c.ConfigFile != "" && fromConfig(r)) {
				continue
			}
			out = append(out, FlagResult{Check: ch, Result: r, Flag: flagOf(r.Setting)})
		}
	}
	return out
}

// fromConfig reports whether a kubelet configuration file could decide a
// result: every kubelet setting judged has a configuration field, so only
// a value a flag gave (flags win over the file) is known.
func fromConfig(r Result) bool { return !strings.HasPrefix(r.From, "flag ") }

// flagOf returns the flag name of a Result.Setting: "--a / b.c" → "a".
func flagOf(setting string) string {
	s, _, _ := strings.Cut(setting, " / ")
	if !strings.HasPrefix(s, "--") {
		return ""
	}
	return strings.TrimPrefix(s, "--")
}
