package policy

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// ParamsRefs returns the ConfigMaps ps name in spec.paramsRef, sorted and
// without duplicates: what the webhook must watch, and exactly what its
// RBAC must let it read.
func ParamsRefs(ps []*Policy) []ConfigMapRef {
	var out []ConfigMapRef
	for _, p := range ps {
		if r := p.Doc.Spec.ParamsRef; r != nil {
			out = append(out, ConfigMapRef{Namespace: r.Namespace, Name: r.Name})
		}
	}
	slices.SortFunc(out, func(a, b ConfigMapRef) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return slices.Compact(out)
}

// Matches reports whether the policy's matchResources select in. A caller
// that must decide something about a request before evaluating the policy
// (a params ConfigMap that is missing) asks this first, so that a policy
// on Services does not deny pods.
func (p *Policy) Matches(in *Input) bool {
	return in.Object != nil && p.match.matches(in)
}

// ParamsOf is what a policy sees as params for a ConfigMap: its data, as a
// CEL map of strings ("params.maxReplicas").
func ParamsOf(cm *corev1.ConfigMap) map[string]any {
	out := make(map[string]any, len(cm.Data))
	for k, v := range cm.Data {
		out[k] = v
	}
	return out
}

// ParamsSource holds the params ConfigMaps of policies, kept current by
// one informer per ConfigMap. Each informer lists and watches a single
// object (fieldSelector metadata.name), which RBAC authorizes with
// resourceNames: the webhook reads exactly the ConfigMaps policies name.
// A change reaches the next request as soon as the watch delivers it.
type ParamsSource struct {
	mu      sync.RWMutex
	params  map[ConfigMapRef]map[string]any // absent: the ConfigMap does not exist
	watched map[ConfigMapRef]bool
}

// WatchParams starts watching refs on client and waits up to timeout for
// every informer's first list; the informers stop when ctx ends. resync
// re-delivers the cached objects (0: never; the watch alone keeps them
// current).
func WatchParams(ctx context.Context, client kubernetes.Interface, refs []ConfigMapRef, resync, timeout time.Duration, logger *slog.Logger) (*ParamsSource, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &ParamsSource{params: map[ConfigMapRef]map[string]any{}, watched: map[ConfigMapRef]bool{}}
	runCtx, stop := context.WithCancel(ctx)
	var (
		factories []informers.SharedInformerFactory
		synced    []cache.InformerSynced
	)
	shutdown := func() {
		stop()
		for _, f := range factories {
			f.Shutdown()
		}
	}
	for _, ref := range refs {
		if s.watched[ref] {
			continue
		}
		s.watched[ref] = true
		name := ref.Name
		f := informers.NewSharedInformerFactoryWithOptions(client, resync,
			informers.WithNamespace(ref.Namespace),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) {
				o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
			}))
		factories = append(factories, f)
		inf := f.Core().V1().ConfigMaps().Informer()
		reg, err := inf.AddEventHandler(s.handler(ctx, ref, logger))
		if err != nil {
			shutdown()
			return nil, fmt.Errorf("watch params ConfigMap %s: %w", ref, err)
		}
		synced = append(synced, reg.HasSynced)
		f.Start(runCtx.Done())
	}
	syncCtx, cancel := context.WithTimeout(runCtx, timeout)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), synced...) {
		shutdown()
		return nil, fmt.Errorf("params ConfigMaps %v not read within %s (may palisade get, list and watch them?)", refs, timeout)
	}
	context.AfterFunc(ctx, shutdown)
	return s, nil
}

func (s *ParamsSource) handler(ctx context.Context, ref ConfigMapRef, logger *slog.Logger) cache.ResourceEventHandler {
	set := func(obj any) {
		cm, ok := obj.(*corev1.ConfigMap)
		if !ok || cm.Name != ref.Name {
			return
		}
		p := ParamsOf(cm)
		s.mu.Lock()
		s.params[ref] = p
		s.mu.Unlock()
		logger.LogAttrs(ctx, slog.LevelDebug, "params ConfigMap loaded", slog.String("config_map", ref.String()), slog.String("resource_version", cm.ResourceVersion))
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    set,
		UpdateFunc: func(_, obj any) { set(obj) },
		DeleteFunc: func(any) {
			s.mu.Lock()
			delete(s.params, ref)
			s.mu.Unlock()
			logger.LogAttrs(ctx, slog.LevelWarn, "params ConfigMap deleted", slog.String("config_map", ref.String()))
		},
	}
}

// Params returns the params of ref: the ConfigMap's data, or found=false
// when it does not exist. The map is shared: callers must not change it.
// It panics on nothing; a ref that was never watched is reported as an
// error so that a wiring mistake is not mistaken for a missing ConfigMap.
func (s *ParamsSource) Params(ref ConfigMapRef) (params map[string]any, found bool, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.watched[ref] {
		return nil, false, fmt.Errorf("params ConfigMap %s is not watched", ref)
	}
	p, ok := s.params[ref]
	return p, ok, nil
}
