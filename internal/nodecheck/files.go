package nodecheck

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
)

// pathsFunc returns the node paths a file check judges; missing ones are
// not applicable.
type pathsFunc func(ctx context.Context, n *Node, c *Component) ([]string, error)

func fixed(paths ...string) pathsFunc {
	return func(context.Context, *Node, *Component) ([]string, error) { return paths, nil }
}

// fromSetting is the file a component's setting names, else def.
func fromSetting(s setting, def string) pathsFunc {
	return func(_ context.Context, _ *Node, c *Component) ([]string, error) {
		if c != nil {
			if v, _, ok := c.Setting(s.flag, s.field); ok && v != "" {
				return []string{v}, nil
			}
		}
		if def == "" {
			return nil, nil
		}
		return []string{def}, nil
	}
}

func kubeletUnits(_ context.Context, n *Node, _ *Component) ([]string, error) {
	return n.kubeletUnitFiles(), nil
}

func kubeletConfigPath(_ context.Context, _ *Node, c *Component) ([]string, error) {
	if c != nil && c.ConfigFile != "" {
		return []string{c.ConfigFile}, nil
	}
	return []string{kubeletConfigFile}, nil
}

// cniFiles are the CNI configuration files (not the directory itself), as
// kube-bench finds them for CIS 1.1.9 and 1.1.10.
func cniFiles(ctx context.Context, n *Node, _ *Component) ([]string, error) {
	all, err := n.walk(ctx, cniConfDir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range all {
		if p != cniConfDir {
			out = append(out, p)
		}
	}
	return out, nil
}

// etcdDataDir is etcd's --data-dir, else kubeadm's default.
func etcdDataDir(_ context.Context, n *Node, _ *Component) ([]string, error) {
	if c := n.Components[Etcd]; c != nil {
		if v, ok := c.Flags.Get("data-dir"); ok && v != "" {
			return []string{v}, nil
		}
	}
	return []string{defaultEtcdDataDir}, nil
}

// pki returns everything under the PKI directory whose name ends in suffix
// ("" for all, the directory included).
func pki(suffix string) pathsFunc {
	return func(ctx context.Context, n *Node, _ *Component) ([]string, error) {
		all, err := n.walk(ctx, pkiDir)
		if err != nil || suffix == "" {
			return all, err
		}
		var out []string
		for _, p := range all {
			if strings.HasSuffix(p, suffix) {
				out = append(out, p)
			}
		}
		return out, nil
	}
}

// perm passes files whose permission bits are within limit (600: no group
// or other access, no execute).
func perm(paths pathsFunc, limit fs.FileMode) func(context.Context, *Node, *Component) []Result {
	return eachFile(paths, func(_ *Node, fi *fileInfo) Result {
		r := Result{Pass: fi.Mode&^limit == 0, Setting: "permissions", Value: fmt.Sprintf("%o", fi.Mode), File: fi.Path}
		if !r.Pass {
			r.Message = fmt.Sprintf("%s has permissions %o, more permissive than %o", fi.Path, fi.Mode, limit)
		}
		return r
	})
}

// owner passes files owned by the expected numeric user and group; who
// names them for the message ("root:root").
func owner(paths pathsFunc, who string) func(context.Context, *Node, *Component) []Result {
	return eachFile(paths, func(n *Node, fi *fileInfo) Result {
		want := &n.rootOwner
		if who == "etcd:etcd" {
			want = n.etcdOwner
		}
		r := Result{Setting: "ownership", Value: fi.Owner.String(), File: fi.Path}
		switch {
		case want == nil:
			r.Message = fmt.Sprintf("%s is owned by %s; the node has no %s user and group to own it", fi.Path, fi.Owner, who)
		case fi.Owner != *want:
			r.Message = fmt.Sprintf("%s is owned by %s, not %s (%s)", fi.Path, fi.Owner, who, want)
		default:
			r.Pass = true
		}
		return r
	})
}

func eachFile(paths pathsFunc, judge func(*Node, *fileInfo) Result) func(context.Context, *Node, *Component) []Result {
	return func(ctx context.Context, n *Node, c *Component) []Result {
		ps, err := paths(ctx, n, c)
		if err != nil {
			return []Result{{Err: err}}
		}
		var out []Result
		for _, p := range ps {
			fi, err := n.stat(p)
			switch {
			case err != nil:
				out = append(out, Result{Err: err, File: p})
			case fi == nil:
				out = append(out, Result{NotApplicable: true, File: p})
			default:
				out = append(out, judge(n, fi))
			}
		}
		return out
	}
}
