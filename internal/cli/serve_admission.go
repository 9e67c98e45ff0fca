package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	corev1listers "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"

	"github.com/palisade-sec/palisade/internal/admission"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/policy"
	"github.com/palisade-sec/palisade/internal/policyreport"
	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/store"
)

// namespaceSyncTimeout bounds the wait for the namespace informer at start.
const namespaceSyncTimeout = 30 * time.Second

// ownerCacheSize bounds the owners admission keeps for inherited
// break-glass: only owners of break-glass objects are ever looked up.
const ownerCacheSize = 256

// admissionServeFlags are the serve flags of the admission webhooks.
type admissionServeFlags struct {
	kubeconfig string
}

func (f *admissionServeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "cluster whose namespace pod-security labels, workload owners (inherited break-glass) and policy params ConfigMaps (spec.paramsRef) admission reads (default: the in-cluster config when running in a pod; none: only admission.podSecurity.namespaces, no inherited break-glass, no paramsRef)")
}

// mountAdmission builds the admission webhooks from cfg, with the store's
// uploaded scans, the cluster's namespace labels and the server's metrics
// registry, and mounts them.
func mountAdmission(ctx context.Context, cfg *config.Config, f admissionServeFlags, getenv func(string) string, srv *server.Server, st store.Store, logger *slog.Logger) error {
	cfg = excludeOwnNamespace(cfg, ownNamespace(getenv, os.ReadFile), logger)
	deps := admission.Deps{Logger: logger, Records: st, Registerer: srv.Registry()}
	rc, err := admissionCluster(f, getenv, logger)
	if err != nil {
		return err
	}
	var (
		reports *policyreport.Publisher
		owners  *admission.OwnerLookup
		params  *policy.ParamsWatcher
	)
	if rc != nil {
		cs, err := kubernetes.NewForConfig(rc)
		if err != nil {
			return fmt.Errorf("build cluster client: %w", err)
		}
		deps.Kube = cs
		deps.Namespaces, err = namespaceLister(ctx, f, cs, logger)
		if err != nil {
			return err
		}
		// One watcher for every paramsRef: those of built-in and file
		// policies are watched below, once Build has loaded them; those of
		// policy ConfigMaps when a request first needs them.
		params = policy.NewParamsWatcher(cs, policy.DefaultParamsLimit, logger.With("component", "policy_params"))
		context.AfterFunc(ctx, params.Close)
		deps.Params, deps.ConfigMapParams = params, params
		dyn, err := dynamic.NewForConfig(rc)
		if err != nil {
			return fmt.Errorf("build cluster client: %w", err)
		}
		reports = &policyreport.Publisher{Client: dyn, Logger: logger.With("component", "policy_reports")}
		// Owner lookups for inherited break-glass run inside a review: a
		// client of their own with a short timeout, so a slow API server
		// refuses break-glass instead of timing the review out.
		oc := rest.CopyConfig(rc)
		oc.Timeout = admission.OwnerLookupTimeout
		ocs, err := kubernetes.NewForConfig(oc)
		if err != nil {
			return fmt.Errorf("build cluster client: %w", err)
		}
		owners = admission.NewOwnerLookup(ocs, ownerCacheSize, 0)
	}
	w, err := admission.Build(cfg, deps)
	if err != nil {
		return usageError(err)
	}
	if params != nil {
		if err := watchParams(ctx, w.Engine.Rules, params); err != nil {
			return err
		}
	}
	if owners != nil {
		owners.Metrics = w.Engine.Metrics
		w.Engine.Owners = owners
	}
	// Warn- and audit-mode results are stored as findings, one scope per
	// replica (its host name: the pod's name in a cluster), and with a
	// cluster client also become PolicyReports in each namespace; both are
	// written in batches.
	replica, _ := os.Hostname()
	findings := &admission.FindingRecorder{Store: st, Scope: "admission:" + replica, Logger: logger.With("component", "admission_findings")}
	go findings.Run(ctx)
	recorders := admission.Recorders{findings}
	if reports != nil {
		recorders = append(recorders, reports)
		go func() { _ = reports.Run(ctx) }()
	}
	w.Engine.Reports = recorders
	srv.Handle("POST "+admission.Path, &admission.Handler{Engine: w.Engine, Logger: logger})
	if w.Pinner != nil {
		srv.Handle("POST "+admission.MutatePath, &admission.Handler{Reviewer: w.Pinner, Logger: logger})
	}
	return nil
}

// admissionCluster is the cluster the webhook serves: --kubeconfig, else
// the in-cluster config in a pod, else none (offline: configured levels
// only, no PolicyReports, no ConfigMap policies).
func admissionCluster(f admissionServeFlags, getenv func(string) string, logger *slog.Logger) (*rest.Config, error) {
	switch {
	case f.kubeconfig != "":
		c, _, err := restConfig(f.kubeconfig, "")
		if err != nil {
			return nil, usageError(err)
		}
		return c, nil
	case getenv("KUBERNETES_SERVICE_HOST") != "":
		c, err := rest.InClusterConfig()
		if err != nil {
			logger.Warn("admission: no in-cluster config; namespace labels, ConfigMap policies and PolicyReports are off", "error", err)
			return nil, nil
		}
		return c, nil
	}
	return nil, nil
}

// namespaceLister starts a namespace informer on the admission cluster.
// An explicit --kubeconfig must work; in a pod without the RBAC to watch
// namespaces, serve still starts, on configured levels only.
func namespaceLister(ctx context.Context, f admissionServeFlags, cs kubernetes.Interface, logger *slog.Logger) (corev1listers.NamespaceLister, error) {
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

// watchParams watches the ConfigMaps the built-in and file policies of
// rules name in spec.paramsRef, and waits for them: a ConfigMap serve may
// not read stops it now rather than failing requests. The policies are
// those Build loaded (loading them again here would compile every policy
// twice at start).
func watchParams(ctx context.Context, rules []admission.Rule, params *policy.ParamsWatcher) error {
	refs := admission.ParamsRefs(rules)
	if len(refs) == 0 {
		return nil
	}
	return params.Watch(ctx, refs, namespaceSyncTimeout)
}

// serviceAccountNamespaceFile holds the namespace of the pod it is mounted
// in (automount, and the chart's projected kube-api-access volume).
const serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// ownNamespace is the namespace palisade serve runs in: POD_NAMESPACE (the
// chart sets it through the downward API), else, in a pod, the service
// account's namespace file; "" outside a cluster or when neither holds a
// namespace name.
func ownNamespace(getenv func(string) string, readFile func(string) ([]byte, error)) string {
	ns := strings.TrimSpace(getenv("POD_NAMESPACE"))
	if ns == "" && getenv("KUBERNETES_SERVICE_HOST") != "" {
		if b, err := readFile(serviceAccountNamespaceFile); err == nil {
			ns = strings.TrimSpace(string(b))
		}
	}
	if ns == "" || len(validation.IsDNS1123Label(ns)) > 0 {
		return ""
	}
	return ns
}

// excludeOwnNamespace returns cfg with ns added to the excluded namespaces
// when it is not among them. The default list names "palisade", the
// chart's usual namespace; installed elsewhere, the webhook would otherwise
// judge its own pods, and with failurePolicy Fail a Palisade that is down
// could never be brought back. cfg itself is not changed.
func excludeOwnNamespace(cfg *config.Config, ns string, logger *slog.Logger) *config.Config {
	if ns == "" || slices.Contains(cfg.Admission.ExcludeNamespaces, ns) {
		return cfg
	}
	c := *cfg
	c.Admission.ExcludeNamespaces = append(slices.Clone(cfg.Admission.ExcludeNamespaces), ns)
	logger.Info("admission: excluding the namespace palisade serve runs in", "namespace", ns, "excluded", c.Admission.ExcludeNamespaces)
	return &c
}
