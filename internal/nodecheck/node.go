package nodecheck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Component names, as the binaries are called.
const (
	APIServer         = "kube-apiserver"
	ControllerManager = "kube-controller-manager"
	Scheduler         = "kube-scheduler"
	Etcd              = "etcd"
	Kubelet           = "kubelet"
	KubeProxy         = "kube-proxy"
	// ControlPlane is not a binary: checks of it apply when any of the
	// API server, controller manager, scheduler or etcd is on the node.
	ControlPlane = "control-plane"
)

// Default locations on a kubeadm node, the ones kube-bench uses.
const (
	manifestDir        = "/etc/kubernetes/manifests"
	kubeletConfigFile  = "/var/lib/kubelet/config.yaml"
	kubeletKubeconfig  = "/etc/kubernetes/kubelet.conf"
	defaultEtcdDataDir = "/var/lib/etcd"
	pkiDir             = "/etc/kubernetes/pki"
	cniConfDir         = "/etc/cni/net.d"
)

// kubeletUnitDirs hold kubelet.service and kubelet.service.d drop-ins, in
// the order systemd reads them (later wins).
var kubeletUnitDirs = []string{"/usr/lib/systemd/system", "/lib/systemd/system", "/etc/systemd/system"}

// Owner is a numeric user and group.
type Owner struct{ UID, GID uint32 }

func (o Owner) String() string { return fmt.Sprintf("%d:%d", o.UID, o.GID) }

// Options say where and what to check.
type Options struct {
	// Root is the node's filesystem root. Default "/".
	Root string
	// PIDs restricts process discovery to these processes; empty reads every
	// process under <Root>/proc.
	PIDs []int
	// RootOwner is the owner CIS calls root:root. Default 0:0.
	RootOwner *Owner
	// EtcdOwner is the owner CIS calls etcd:etcd. Default: the etcd user and
	// group of <Root>/etc/passwd and <Root>/etc/group.
	EtcdOwner *Owner
}

// Component is one Kubernetes component found on the node and the settings
// it runs with.
type Component struct {
	Name string
	// Source says where the flags were read: "pid 1234", a manifest path or
	// the kubelet unit files.
	Source string
	Flags  Flags
	// ConfigFile is the node path of the kubelet configuration file in use
	// ("" when none); Config its parsed contents.
	ConfigFile string
	Config     map[string]any
	// collected are settings a node collector reported without saying
	// whether a flag or the configuration file gave them, by flag name
	// (or feature gate name).
	collected map[string]collectedSetting
	// flagsUnknown, when not "", says the command line was not collected:
	// settings no other fact gives are not evaluated.
	flagsUnknown string
	// configUnknown, when not "", says the configuration file is in use but
	// its contents were not collected: settings it could give are not
	// evaluated.
	configUnknown string
}

// collectedSetting is one setting as a collector reported it; set is
// false when the collector looked and found it not set.
type collectedSetting struct {
	value, from string
	set         bool
}

// Setting returns a setting's value by precedence flag > config file field
// (when cfgPath is not "") and reports where it came from.
func (c *Component) Setting(flag, cfgPath string) (value, from string, ok bool) {
	if v, ok := c.Flags.Get(flag); ok {
		return v, "flag --" + flag, true
	}
	if cfgPath != "" && c.Config != nil {
		if v, ok := lookup(c.Config, cfgPath); ok {
			return v, "config " + cfgPath, true
		}
	}
	return "", "", false
}

// Node is what was found on one node.
type Node struct {
	root string
	// src answers reads, stats and listings: the filesystem under root, or
	// a collector's facts (see FromFacts).
	src        source
	Name       string
	Components map[string]*Component
	rootOwner  Owner
	etcdOwner  *Owner
	// controlPlane is set when a collector says this is a control-plane
	// node, whether or not it reported a component's command line.
	controlPlane bool
	// Errors are inputs that exist but could not be read or parsed: the
	// report is partial.
	Errors []error
}

// IsControlPlane reports whether a control-plane component runs on the node.
func (n *Node) IsControlPlane() bool {
	if n.controlPlane {
		return true
	}
	for _, c := range []string{APIServer, ControllerManager, Scheduler, Etcd} {
		if n.Components[c] != nil {
			return true
		}
	}
	return false
}

// Discover finds the components on the node under opts.Root.
func Discover(ctx context.Context, opts Options) (*Node, error) {
	root := opts.Root
	if root == "" {
		root = "/"
	}
	if fi, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("node root: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("node root %s: not a directory", root)
	}
	n := &Node{root: root, src: fsSource{root: root}, Components: map[string]*Component{}, rootOwner: Owner{}}
	n.setOwners(opts)
	if b, err := n.read("/etc/hostname"); err == nil {
		n.Name = strings.TrimSpace(string(b))
	}
	if err := n.readProcesses(ctx, opts.PIDs); err != nil {
		return nil, err
	}
	if len(opts.PIDs) == 0 {
		n.readManifests()
		n.readKubeletUnits()
	}
	if kl := n.Components[Kubelet]; kl != nil {
		n.readKubeletConfig(kl)
	}
	if n.etcdOwner == nil {
		n.etcdOwner = n.lookupOwner("etcd")
	}
	return n, ctx.Err()
}

// setOwners applies the owners Options give.
func (n *Node) setOwners(opts Options) {
	if opts.RootOwner != nil {
		n.rootOwner = *opts.RootOwner
	}
	n.etcdOwner = opts.EtcdOwner
}

// path returns the host path of a node path.
func (n *Node) path(p string) string { return fsSource{root: n.root}.path(p) }

func (n *Node) read(p string) ([]byte, error) { return n.source().read(p) }

// located returns where the source found the file kept at p on a kubeadm
// node (or named by role p), else p.
func (n *Node) located(p string) string {
	if q, ok := n.source().located(p); ok {
		return q
	}
	return p
}

// source returns n.src, or the filesystem under root for a Node built
// without one (EvalFlags' command-line-only node).
func (n *Node) source() source {
	if n.src == nil {
		return fsSource{root: n.root}
	}
	return n.src
}

// readOptional reads a node file; a missing file is (nil, false) without an
// error, other failures are recorded.
func (n *Node) readOptional(p string) ([]byte, bool) {
	b, err := n.read(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false
	}
	if err != nil {
		n.Errors = append(n.Errors, fmt.Errorf("read %s: %w", p, err))
		return nil, false
	}
	return b, true
}

var components = []string{APIServer, ControllerManager, Scheduler, Etcd, Kubelet, KubeProxy}

func (n *Node) readProcesses(ctx context.Context, pids []int) error {
	explicit := len(pids) > 0
	if !explicit {
		ents, err := os.ReadDir(n.path("/proc"))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			n.Errors = append(n.Errors, fmt.Errorf("list processes: %w", err))
			return nil
		}
		for _, e := range ents {
			if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
				pids = append(pids, pid)
			}
		}
		sort.Ints(pids)
	}
	for _, pid := range pids {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := "/proc/" + strconv.Itoa(pid) + "/cmdline"
		b, err := n.read(p)
		if err != nil {
			if explicit {
				return fmt.Errorf("read command line of pid %d: %w", pid, err)
			}
			continue // gone, or a kernel thread: not ours to report
		}
		prog, flags := ParseCmdline(b)
		if !slices.Contains(components, prog) {
			if explicit {
				return fmt.Errorf("pid %d runs %q, not one of %s", pid, prog, strings.Join(components, ", "))
			}
			continue
		}
		if _, seen := n.Components[prog]; !seen {
			n.Components[prog] = &Component{Name: prog, Source: "pid " + strconv.Itoa(pid), Flags: flags}
		}
	}
	return nil
}

// readManifests adds the static pod control-plane components that no
// running process already gave.
func (n *Node) readManifests() {
	for _, name := range []string{APIServer, ControllerManager, Scheduler, Etcd} {
		p := manifestDir + "/" + name + ".yaml"
		b, ok := n.readOptional(p)
		if !ok || n.Components[name] != nil {
			continue
		}
		_, flags, err := ParseStaticPod(b)
		if err != nil {
			n.Errors = append(n.Errors, fmt.Errorf("%s: %w", p, err))
			continue
		}
		n.Components[name] = &Component{Name: name, Source: p, Flags: flags}
	}
}

// kubeletUnitFiles returns the node paths of kubelet.service and its
// drop-ins that exist, in systemd's reading order.
func (n *Node) kubeletUnitFiles() []string {
	files, _ := n.source().unitFiles()
	return files
}

func (n *Node) readKubeletUnits() {
	if n.Components[Kubelet] != nil {
		return
	}
	files := n.kubeletUnitFiles()
	if len(files) == 0 {
		return
	}
	var u unit
	for _, f := range files {
		if b, ok := n.readOptional(f); ok {
			u.parse(b)
		}
	}
	for _, ef := range u.envFiles {
		if b, ok := n.readOptional(ef); ok {
			u.parseEnvFile(b)
		}
	}
	if u.execStart == "" {
		return
	}
	n.Components[Kubelet] = &Component{Name: Kubelet, Source: strings.Join(files, ","), Flags: u.flags()}
}

func (n *Node) readKubeletConfig(kl *Component) {
	p, set := kl.Flags.Get("config")
	if !set {
		// kubeadm always passes --config; without it look where it would be.
		p = kubeletConfigFile
	}
	b, ok := n.readOptional(p)
	if !ok {
		return
	}
	cfg, err := ParseKubeletConfig(b)
	if err != nil {
		n.Errors = append(n.Errors, fmt.Errorf("%s: %w", p, err))
		return
	}
	kl.ConfigFile, kl.Config = p, cfg
}

// lookupOwner returns the uid of user name and gid of group name from the
// node's /etc/passwd and /etc/group, or nil.
func (n *Node) lookupOwner(name string) *Owner {
	uid, ok1 := n.lookupID("/etc/passwd", name)
	gid, ok2 := n.lookupID("/etc/group", name)
	if !ok1 || !ok2 {
		return nil
	}
	return &Owner{UID: uid, GID: gid}
}

func (n *Node) lookupID(file, name string) (uint32, bool) {
	b, err := n.read(file)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 3 && f[0] == name {
			id, err := strconv.ParseUint(f[2], 10, 32)
			return uint32(id), err == nil
		}
	}
	return 0, false
}
