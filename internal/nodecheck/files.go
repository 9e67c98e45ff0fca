package nodecheck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// pathsFunc returns the node paths a file check judges; missing ones are
// not applicable. a is what the check judges of them.
type pathsFunc func(ctx context.Context, n *Node, c *Component, a aspect) ([]string, error)

// fixed judges files at kubeadm's paths, or where the source found the
// file kubeadm keeps there.
func fixed(paths ...string) pathsFunc {
	return func(_ context.Context, n *Node, _ *Component, _ aspect) ([]string, error) {
		out := make([]string, len(paths))
		for i, p := range paths {
			out[i] = n.located(p)
		}
		return out, nil
	}
}

// fromSetting is the file a component's setting names, else the file the
// source found in that role, else def.
func fromSetting(s setting, def string) pathsFunc {
	return func(_ context.Context, n *Node, c *Component, _ aspect) ([]string, error) {
		if c != nil {
			if v, _, ok := c.Setting(s.flag, s.field); ok && v != "" {
				return []string{n.located(v)}, nil
			}
			if p, ok := n.source().located(c.Name + " --" + s.flag); ok {
				return []string{p}, nil
			}
		}
		if def == "" {
			return nil, nil
		}
		return []string{n.located(def)}, nil
	}
}

func kubeletUnits(_ context.Context, n *Node, _ *Component, _ aspect) ([]string, error) {
	return n.source().unitFiles()
}

func kubeletConfigPath(_ context.Context, n *Node, c *Component, _ aspect) ([]string, error) {
	if c != nil && c.ConfigFile != "" {
		return []string{c.ConfigFile}, nil
	}
	return []string{n.located(kubeletConfigFile)}, nil
}

// cniFiles are the CNI configuration files (not the directory itself), as
// kube-bench finds them for CIS 1.1.9 and 1.1.10.
func cniFiles(ctx context.Context, n *Node, _ *Component, a aspect) ([]string, error) {
	all, err := n.source().walk(ctx, cniConfDir, a)
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

// etcdDataDir is etcd's --data-dir, else where the source found it, else
// kubeadm's default.
func etcdDataDir(_ context.Context, n *Node, _ *Component, _ aspect) ([]string, error) {
	if c := n.Components[Etcd]; c != nil {
		if v, ok := c.Flags.Get("data-dir"); ok && v != "" {
			return []string{v}, nil
		}
	}
	return []string{n.located(defaultEtcdDataDir)}, nil
}

// pki returns everything under the PKI directory whose name ends in suffix
// ("" for all, the directory included).
func pki(suffix string) pathsFunc {
	return func(ctx context.Context, n *Node, _ *Component, a aspect) ([]string, error) {
		all, err := n.source().walk(ctx, pkiDir, a)
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
	return eachFile(paths, aspectMode, func(_ *Node, fi *fileInfo) Result {
		r := Result{Pass: fi.Mode&^limit == 0, Setting: "permissions", Value: fmt.Sprintf("%o", fi.Mode), File: fi.Path}
		if !r.Pass {
			r.Message = fmt.Sprintf("%s has permissions %o, more permissive than %o", fi.Path, fi.Mode, limit)
		}
		return r
	})
}

// owner passes files owned by the expected numeric user and group; who
// names them for the message ("root:root"). A node collector that gives
// the names it resolved on the node is judged by those names, as CIS's own
// audit (stat -c %U:%G) and kube-bench judge: the names come from the
// node's own user database, not from one read below a mounted root.
func owner(paths pathsFunc, who string) func(context.Context, *Node, *Component) []Result {
	return eachFile(paths, aspectOwner, func(n *Node, fi *fileInfo) Result {
		if fi.Names != "" {
			r := Result{Setting: "ownership", Value: fi.Names, File: fi.Path, Pass: fi.Names == who}
			if !r.Pass {
				r.Message = fmt.Sprintf("%s is owned by %s, not %s", fi.Path, fi.Names, who)
			}
			return r
		}
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

func eachFile(paths pathsFunc, a aspect, judge func(*Node, *fileInfo) Result) func(context.Context, *Node, *Component) []Result {
	return func(ctx context.Context, n *Node, c *Component) []Result {
		ps, err := paths(ctx, n, c, a)
		if errors.Is(err, errNotCollected) {
			return []Result{{Missing: err.Error()}}
		}
		if err != nil {
			return []Result{{Err: err}}
		}
		var out []Result
		for _, p := range ps {
			fi, err := n.source().stat(p, a)
			switch {
			case errors.Is(err, errNotCollected):
				out = append(out, Result{Missing: err.Error(), File: p})
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
