package cli

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/kubelab"
)

func newLabCommand(g *globals) *cobra.Command {
	lab := &cobra.Command{
		Use:   "lab",
		Short: "Run a local Kubernetes control plane (etcd + kube-apiserver) to try Palisade on",
	}
	var opts kubelab.Options
	var registryAddr string
	up := &cobra.Command{
		Use:   "up",
		Short: "Start a lab control plane and keep it running until interrupted",
		Long: `Start a real etcd and kube-apiserver on loopback ports, print the kubeconfig
path, and keep them running until Ctrl-C or SIGTERM, then stop them and remove
their files. There is no kubelet: objects are stored, not run.

The binaries are built once from the Go module proxy by 'make kubelab'
(tools/kubelab/build.sh) into ` + kubelab.BinDir() + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runLabUp(ctx, g, cmd, opts, registryAddr)
		},
	}
	f := up.Flags()
	f.StringVar(&opts.Dir, "dir", "", "directory for certificates, data and logs (default: a temporary directory removed on exit)")
	f.BoolVar(&opts.AuditLog, "audit-log", true, "write the API server's audit log into the lab directory")
	f.BoolVar(&opts.AnonymousAuth, "anonymous-auth", false, "let unauthenticated requests in as system:anonymous")
	f.StringVar(&opts.BinDir, "bin-dir", "", "where etcd, kube-apiserver and kubectl are (default: "+kubelab.BinDir()+")")
	f.StringVar(&registryAddr, "registry", "", "also serve an OCI registry (plain HTTP, loopback only) on this address, e.g. 127.0.0.1:5000, with two sample images")
	lab.AddCommand(up)
	return lab
}

func runLabUp(ctx context.Context, g *globals, cmd *cobra.Command, opts kubelab.Options, registryAddr string) error {
	opts.Logger = g.logger
	c, err := kubelab.Start(ctx, opts)
	if errors.Is(err, kubelab.ErrBinariesMissing) {
		return usageError(err)
	}
	if err != nil {
		return fmt.Errorf("start lab: %w", err)
	}
	defer c.Stop()
	out := cmd.OutOrStdout()
	kubectl, _ := c.Kubectl()
	fmt.Fprintf(out, "Lab control plane %s ready at %s in %v.\n\n", kubelab.KubernetesVersion, c.URL, c.StartupTime.Round(time.Millisecond))
	fmt.Fprintf(out, "  export KUBECONFIG=%s\n", c.Kubeconfig)
	fmt.Fprintf(out, "  %s get namespaces\n", kubectl)
	if c.AuditLogPath != "" {
		fmt.Fprintf(out, "  audit log: %s\n", c.AuditLogPath)
	}
	if registryAddr != "" {
		reg, err := kubelab.StartRegistry(registryAddr)
		if err != nil {
			return usageError(err)
		}
		defer reg.Stop()
		samples, err := reg.PushSamples(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  registry: %s (plain HTTP; use --insecure-registry)\n", reg.Host)
		for _, s := range samples {
			fmt.Fprintf(out, "    %s — %s\n", s.Ref, s.Description)
		}
	}
	fmt.Fprintf(out, "\nPress Ctrl-C to stop; the lab's files are removed on exit.\n")
	<-ctx.Done()
	fmt.Fprintln(cmd.ErrOrStderr(), "stopping lab control plane")
	return c.Stop()
}
