package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	corev1listers "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"

	"github.com/palisade-sec/palisade/internal/admission"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/store"
)

// namespaceSyncTimeout bounds the wait for the namespace informer at start.
const namespaceSyncTimeout = 30 * time.Second

// admissionServeFlags are the serve flags of the admission webhooks.
type admissionServeFlags struct {
	kubeconfig string
}

func (f *admissionServeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "cluster whose namespace pod-security labels admission reads (default: the in-cluster config when running in a pod; none: only admission.podSecurity.namespaces)")
}

// mountAdmission builds the admission webhooks from cfg, with the store's
// uploaded scans, the cluster's namespace labels and the server's metrics
// registry, and mounts them.
func mountAdmission(ctx context.Context, cfg *config.Config, f admissionServeFlags, getenv func(string) string, srv *server.Server, st store.Store, logger *slog.Logger) error {
	deps := admission.Deps{Logger: logger, Records: st, Registerer: srv.Registry()}
	lister, err := namespaceLister(ctx, f, getenv, logger)
	if err != nil {
		return err
	}
	deps.Namespaces = lister
	w, err := admission.Build(cfg, deps)
	if err != nil {
		return usageError(err)
	}
	srv.Handle("POST "+admission.Path, &admission.Handler{Engine: w.Engine, Logger: logger})
	if w.Pinner != nil {
		srv.Handle("POST "+admission.MutatePath, &admission.Handler{Reviewer: w.Pinner, Logger: logger})
	}
	return nil
}

// namespaceLister starts a namespace informer on the --kubeconfig cluster,
// or in-cluster. An explicit --kubeconfig must work; in a pod without the
// RBAC to watch namespaces, serve still starts, on configured levels only.
func namespaceLister(ctx context.Context, f admissionServeFlags, getenv func(string) string, logger *slog.Logger) (corev1listers.NamespaceLister, error) {
	var rc *rest.Config
	switch {
	case f.kubeconfig != "":
		c, _, err := restConfig(f.kubeconfig, "")
		if err != nil {
			return nil, usageError(err)
		}
		rc = c
	case getenv("KUBERNETES_SERVICE_HOST") != "":
		c, err := rest.InClusterConfig()
		if err != nil {
			logger.Warn("admission: no in-cluster config; namespace pod-security labels are not read", "error", err)
			return nil, nil
		}
		rc = c
	default:
		return nil, nil
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("build cluster client: %w", err)
	}
	l, err := admission.StartNamespaceLister(ctx, cs, namespaceSyncTimeout)
	if err != nil {
		if f.kubeconfig != "" {
			return nil, fmt.Errorf("--kubeconfig %s: %w", f.kubeconfig, err)
		}
		logger.Warn("admission: namespace pod-security labels are not read", "error", err)
		return nil, nil
	}
	return l, nil
}
