package cli

import (
	"errors"
	"fmt"
	"strings"
)

// clusterTargets collects posture scan's repeatable --kubeconfig and
// --context flags in command-line order: each --context applies to the
// --kubeconfig before it, and --context flags given with a single
// --kubeconfig (before or after it) all apply to it. pflag does not keep
// the order of different flags, so both flags share this value.
type clusterTargets struct {
	files   []kubeconfigArg
	pending []string // --context flags before the first --kubeconfig
}

// kubeconfigArg is one --kubeconfig and the --context flags that follow it.
type kubeconfigArg struct {
	path     string
	contexts []string
}

// clusterTarget is one cluster to scan: a kubeconfig and a context ("" for
// its current context).
type clusterTarget struct {
	kubeconfig, context string
}

// kubeconfigFlag and contextFlag are the pflag.Values of the two flags.
type (
	kubeconfigFlag struct{ t *clusterTargets }
	contextFlag    struct{ t *clusterTargets }
)

func (f kubeconfigFlag) Set(s string) error {
	if s == "" {
		return errors.New("empty kubeconfig path")
	}
	f.t.files = append(f.t.files, kubeconfigArg{path: s})
	return nil
}

func (f kubeconfigFlag) String() string {
	paths := make([]string, len(f.t.files))
	for i, k := range f.t.files {
		paths[i] = k.path
	}
	return strings.Join(paths, ",")
}

func (kubeconfigFlag) Type() string { return "path" }

func (f contextFlag) Set(s string) error {
	if s == "" {
		return errors.New("empty context name")
	}
	if n := len(f.t.files); n > 0 {
		f.t.files[n-1].contexts = append(f.t.files[n-1].contexts, s)
	} else {
		f.t.pending = append(f.t.pending, s)
	}
	return nil
}

func (f contextFlag) String() string {
	var all []string
	all = append(all, f.t.pending...)
	for _, k := range f.t.files {
		all = append(all, k.contexts...)
	}
	return strings.Join(all, ",")
}

func (contextFlag) Type() string { return "name" }

// given reports whether any --kubeconfig or --context was given.
func (t *clusterTargets) given() bool { return len(t.files) > 0 || len(t.pending) > 0 }

// resolve returns the clusters to scan, in command-line order, or a usage
// error for a --context that applies to no single kubeconfig or a cluster
// named twice.
func (t *clusterTargets) resolve() ([]clusterTarget, error) {
	files := t.files
	if len(t.pending) > 0 {
		switch len(files) {
		case 0:
			return nil, errors.New("--context needs --kubeconfig")
		case 1:
			files = []kubeconfigArg{{path: files[0].path, contexts: append(append([]string{}, t.pending...), files[0].contexts...)}}
		default:
			return nil, fmt.Errorf("--context %s comes before the first of several --kubeconfig flags: put each --context after its --kubeconfig", t.pending[0])
		}
	}
	var out []clusterTarget
	seen := map[clusterTarget]bool{}
	for _, k := range files {
		ctxs := k.contexts
		if len(ctxs) == 0 {
			ctxs = []string{""}
		}
		for _, c := range ctxs {
			ct := clusterTarget{kubeconfig: k.path, context: c}
			if seen[ct] {
				return nil, fmt.Errorf("--kubeconfig %s --context %q given twice", k.path, c)
			}
			seen[ct] = true
			out = append(out, ct)
		}
	}
	return out, nil
}
