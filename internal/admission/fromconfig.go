package admission

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes"
	corev1listers "k8s.io/client-go/listers/core/v1"

	"github.com/palisade-sec/palisade/internal/attest"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/policy"
)

// verdictCacheSize bounds the verifier's caches: images in a cluster
// number in the thousands, and an entry is a few hundred bytes.
const verdictCacheSize = 8192

// Deps are what the engine needs beyond palisade.yaml, built by serve.
type Deps struct {
	Logger *slog.Logger
	// Registry reaches image registries; the zero value uses the docker
	// keychain over HTTPS.
	Registry attest.Registry
	// Records are uploaded scans (the server's store); nil leaves them out.
	Records ScanRecords
	// Namespaces lists namespaces for their pod-security labels; nil uses
	// admission.podSecurity.namespaces alone.
	Namespaces corev1listers.NamespaceLister
	// Registerer receives the admission metrics; nil records none.
	Registerer prometheus.Registerer
	// Kube reads admission.policies.configMaps; required when they are set.
	Kube kubernetes.Interface
	// Params supplies the ConfigMaps built-in and file policies name in
	// spec.paramsRef (*policy.ParamsWatcher, after its Watch of
	// ParamsRefs(rules)); required when such a policy is enabled.
	Params ParamsLookup
	// ConfigMapParams supplies those policies of policy ConfigMaps name;
	// without it such a policy cannot be evaluated.
	ConfigMapParams ConfigMapParams
}

// ParamsLookup returns the params of a policy's paramsRef ConfigMap, or
// found=false when the ConfigMap does not exist; *policy.ParamsWatcher is
// one.
type ParamsLookup interface {
	Params(ref policy.ConfigMapRef) (params map[string]any, found bool, err error)
}

// Webhooks are the admission handlers serve mounts.
type Webhooks struct {
	Engine *Engine
	// Pinner is the digest-pinning mutating webhook; nil unless
	// admission.imageTrust.pinDigests is set.
	Pinner *Pinner
}

// FromConfig builds the engine `palisade serve` runs from palisade.yaml,
// without scan records, namespace labels or metrics.
func FromConfig(cfg *config.Config, logger *slog.Logger) (*Engine, error) {
	w, err := Build(cfg, Deps{Logger: logger})
	if err != nil {
		return nil, err
	}
	return w.Engine, nil
}

// Build builds the admission webhooks from palisade.yaml and deps.
func Build(cfg *config.Config, deps Deps) (*Webhooks, error) {
	a := cfg.Admission
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "admission")
	var metrics *Metrics
	if deps.Registerer != nil {
		m, err := NewMetrics(deps.Registerer)
		if err != nil {
			return nil, err
		}
		metrics = m
	}
	trust := &ImageTrust{Registries: cfg.Registries}
	var keys []*attest.PublicKey
	if slices.Contains(a.ImageTrust.Sources, config.SourceAttestation) {
		for _, path := range a.TrustedKeys {
			k, err := attest.LoadPublicKey(path)
			if err != nil {
				return nil, fmt.Errorf("admission.trustedKeys: %w", err)
			}
			keys = append(keys, k)
		}
	}
	var records ScanRecords
	if slices.Contains(a.ImageTrust.Sources, config.SourceScanRecord) {
		records = deps.Records
	}
	v, err := NewVerifier(deps.Registry, keys, verdictCacheSize)
	if err != nil {
		return nil, err
	}
	v.Records = records
	v.MaxScanAge, v.MaxDBAge = time.Duration(a.ImageTrust.MaxScanAge), time.Duration(a.ImageTrust.MaxDBAge)
	v.PolicyDigests = a.ImageTrust.PolicyDigests
	v.Platform = a.ImageTrust.Platform
	v.Metrics = metrics
	v.Logger = logger
	// With neither keys nor records there is nothing to verify against:
	// registries and tags are still checked.
	if len(keys) > 0 || records != nil {
		trust.Verifier = v
	}
	pss, err := NewPodSecurity(a.PodSecurity.Level, a.PodSecurity.Version)
	if err != nil {
		return nil, fmt.Errorf("admission.podSecurity: %w", err)
	}
	levels, err := ParseLevels(a.PodSecurity.Namespaces, a.PodSecurity.Version)
	if err != nil {
		return nil, fmt.Errorf("admission.podSecurity.namespaces: %w", err)
	}
	if levels != nil || deps.Namespaces != nil {
		pss.Namespaces = &NamespaceLevels{Config: levels, Lister: deps.Namespaces}
	}
	cel, err := celRulesFromConfig(a.Policies, ListerNamespaces(deps.Namespaces), deps.Kube, deps.ConfigMapParams, logger)
	if err != nil {
		return nil, err
	}
	if err := resolveParams(cel, deps.Params); err != nil {
		return nil, err
	}
	w := &Webhooks{Engine: &Engine{
		Rules: append([]Rule{
			{Policy: trust, Mode: Mode(a.ImageTrust.Mode), FailOpen: a.ImageTrust.FailOpen},
			{Policy: pss, Mode: Mode(a.PodSecurity.Mode)},
		}, cel...),
		ExcludedNamespaces: a.ExcludeNamespaces,
		Exceptions:         cfg.Exceptions,
		BreakGlassGroups:   a.BreakGlass.Groups,
		Logger:             logger,
		Metrics:            metrics,
	}}
	if a.ImageTrust.PinDigests {
		w.Pinner = &Pinner{Resolver: v, Registries: cfg.Registries, ExcludedNamespaces: a.ExcludeNamespaces, Logger: logger}
	}
	return w, nil
}

// resolveParams makes the rules of policies with a paramsRef read their
// params from lookup on every request.
func resolveParams(rules []Rule, lookup ParamsLookup) error {
	for i, r := range rules {
		c, ok := r.Policy.(*CELPolicy)
		if !ok || c.Policy.Doc.Spec.ParamsRef == nil {
			continue
		}
		ref := c.Policy.Doc.Spec.ParamsRef
		if lookup == nil {
			return fmt.Errorf("policy %s: paramsRef %s/%s needs a Kubernetes client (in-cluster or --kubeconfig)", c.ID(), ref.Namespace, ref.Name)
		}
		rules[i].Policy = &ParamsPolicy{
			CEL: c, Ref: policy.ConfigMapRef{Namespace: ref.Namespace, Name: ref.Name},
			NotFound: ref.ParameterNotFoundAction, Lookup: lookup,
		}
	}
	return nil
}

// ParamsPolicy runs a CEL policy whose params are a ConfigMap's data,
// looked up for each request so that an edit of the ConfigMap changes the
// next decision.
type ParamsPolicy struct {
	CEL      *CELPolicy
	Ref      policy.ConfigMapRef
	NotFound policy.ParameterNotFoundAction
	Lookup   ParamsLookup
}

// ID returns the policy's ID.
func (p *ParamsPolicy) ID() string { return p.CEL.ID() }

func (p *ParamsPolicy) judgesAnyKind() bool { return true }

// Evaluate runs the policy with the ConfigMap's current data as params,
// following parameterNotFoundAction without it (see evaluateWithParams).
func (p *ParamsPolicy) Evaluate(ctx context.Context, req *Request) ([]Violation, error) {
	params, found, err := p.Lookup.Params(p.Ref)
	return evaluateWithParams(ctx, req, p.CEL, p.Ref, p.NotFound, params, found, err)
}

var _ Policy = (*ParamsPolicy)(nil)
