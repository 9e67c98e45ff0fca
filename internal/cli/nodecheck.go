package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/buildinfo"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/nodecheck"
)

func newNodeCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Check the Kubernetes node Palisade runs on",
	}
	cmd.AddCommand(newNodeCheckCommand(g))
	return cmd
}

type nodeCheckFlags struct {
	root      string
	pids      []int
	failOn    string
	rootOwner string
	etcdOwner string
	from      []string
}

func newNodeCheckCommand(g *globals) *cobra.Command {
	var f nodeCheckFlags
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check a node against the CIS Kubernetes Benchmark host sections (kube-bench style)",
		Long: `Check this node against the sections of the CIS Kubernetes Benchmark v1.9
that need the host: control-plane file permissions and ownership (1.1), API
server (1.2), controller manager (1.3), scheduler (1.4) and etcd (2) flags,
and the kubelet's files (4.1) and settings (4.2).

The node's roles are detected from what exists under --root: running
processes (<root>/proc/*/cmdline), static pod manifests in
/etc/kubernetes/manifests, the kubelet systemd unit and drop-ins, and the
kubelet configuration file. Settings are judged the way the binaries read
them: command-line flag, then configuration file, then default. A running
process wins over its manifest. Missing files are not applicable; files that
exist but cannot be read make the report partial.

Ownership is compared by number: --root-owner (default 0:0) stands for
root:root and --etcd-owner (default: the etcd user and group of
<root>/etc/passwd and /etc/group) for etcd:etcd.

--from FILE (repeatable; "-" reads standard input) checks the nodes that
node collector output describes instead of this node's filesystem: the JSON
of Kubescape's host-sensor (hostdata.kubescape.cloud ControlPlaneInfo,
KubeletInfo, KubeProxyInfo, CNIInfo) or of Trivy's node-collector (kind
NodeInfo), one report for every node named in them. The checks and verdicts
are the same; a fact the collector did not gather makes its check "not
evaluated" (listed in the report's errors, which makes it partial), never a
pass nor a finding. Malformed input exits 2 naming the file and field.

--fail-on SEVERITY (default high; "none" never fails) exits 1 when an open
finding is at or above it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runNodeCheck(cmd, g, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.root, "root", "/", "the node's filesystem root (a mounted node image or a test tree)")
	fl.IntSliceVar(&f.pids, "pid", nil, "only read these processes' command lines (repeatable); skips manifests and unit files")
	fl.StringVar(&f.failOn, "fail-on", "high", "exit 1 when an open finding is at or above: critical, high, medium, low, info, none")
	fl.StringVar(&f.rootOwner, "root-owner", "", "numeric UID:GID that counts as root:root (default 0:0)")
	fl.StringVar(&f.etcdOwner, "etcd-owner", "", "numeric UID:GID that counts as etcd:etcd (default: from <root>/etc/passwd)")
	fl.StringArrayVar(&f.from, "from", nil, "check the nodes in this Kubescape host-sensor or Trivy node-collector JSON output instead of --root (repeatable; - for stdin)")
	return cmd
}

func parseOwner(flag, s string) (*nodecheck.Owner, error) {
	if s == "" {
		return nil, nil
	}
	u, gr, ok := strings.Cut(s, ":")
	uid, err1 := strconv.ParseUint(u, 10, 32)
	gid, err2 := strconv.ParseUint(gr, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return nil, fmt.Errorf("--%s %q: want numeric UID:GID", flag, s)
	}
	return &nodecheck.Owner{UID: uint32(uid), GID: uint32(gid)}, nil
}

func runNodeCheck(cmd *cobra.Command, g *globals, f nodeCheckFlags) error {
	failOn, gate, err := parseFailOn(f.failOn)
	if err != nil {
		return usageError(err)
	}
	opts := nodecheck.Options{Root: f.root, PIDs: f.pids}
	if opts.RootOwner, err = parseOwner("root-owner", f.rootOwner); err != nil {
		return usageError(err)
	}
	if opts.EtcdOwner, err = parseOwner("etcd-owner", f.etcdOwner); err != nil {
		return usageError(err)
	}
	var out *nodecheck.Output
	target := ""
	if len(f.from) > 0 {
		if cmd.Flags().Changed("root") || len(f.pids) > 0 {
			return usageError(fmt.Errorf("--from checks collector output: it cannot be combined with --root or --pid"))
		}
		inputs, err := readNodeInputs(g.env.Stdin, f.from)
		if err != nil {
			return usageError(fmt.Errorf("node check: %w", err))
		}
		if out, err = nodecheck.RunFacts(cmd.Context(), nodecheck.All(), inputs, opts); err != nil {
			return usageError(fmt.Errorf("node check: %w", err))
		}
		target = collectedTarget(out.Nodes, f.from)
	} else {
		if out, err = nodecheck.Run(cmd.Context(), nodecheck.All(), opts); err != nil {
			if errors.Is(err, nodecheck.ErrNoComponents) {
				err = fmt.Errorf("%w; run it on a node (from a pod: mount the host's / and give --root), or check nodes from collector output with --from", err)
			}
			return usageError(fmt.Errorf("node check: %w", err))
		}
		target = "node " + out.Node.Name
		if out.Node.Name == "" {
			target = "node"
		}
		if f.root != "/" {
			target += " (root " + f.root + ")"
		}
	}
	fs := out.Findings
	config.ApplyExceptions(g.env.Now(), g.cfg.Exceptions, fs, func(finding.Resource) map[string]string { return nil })
	rep := finding.NewReport(finding.Tool{Name: "palisade", Version: buildinfo.Get().Version}, target, g.env.Now(), fs)
	rep.Coverage = out.Coverage
	for _, e := range out.Errors {
		rep.AddError(e)
	}
	for _, ne := range out.NotEvaluated {
		rep.AddError(ne)
	}
	if err := finding.Write(cmd.OutOrStdout(), g.format, rep, finding.WriteOptions{Color: g.color()}); err != nil {
		return err
	}
	if gate && rep.Summary.OpenBySeverity.AtLeast(failOn) > 0 {
		return errViolation
	}
	return nil
}

// readNodeInputs reads each --from file; "-" is standard input, read once.
func readNodeInputs(stdin io.Reader, files []string) ([]nodecheck.Input, error) {
	var out []nodecheck.Input
	stdinRead := false
	for _, name := range files {
		var (
			b   []byte
			err error
		)
		if name == "-" {
			if stdinRead {
				return nil, fmt.Errorf("--from -: standard input given twice")
			}
			stdinRead = true
			b, err = io.ReadAll(stdin)
		} else {
			b, err = os.ReadFile(name)
		}
		if err != nil {
			return nil, fmt.Errorf("read collector output %s: %w", name, err)
		}
		out = append(out, nodecheck.Input{Name: name, Data: b})
	}
	return out, nil
}

// collectedTarget names the nodes of collector output and the files.
func collectedTarget(nodes []*nodecheck.Node, files []string) string {
	var names []string
	for _, n := range nodes {
		if n.Name != "" {
			names = append(names, n.Name)
		}
	}
	target := "node"
	if len(names) > 0 {
		target = "node " + strings.Join(names, ", ")
	}
	if len(names) > 1 {
		target = "nodes " + strings.Join(names, ", ")
	}
	return target + " (from " + strings.Join(files, ", ") + ")"
}
