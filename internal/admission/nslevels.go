package admission

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corev1listers "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	psaapi "k8s.io/pod-security-admission/api"
)

// NamespaceLevels picks the Pod Security level of each namespace: the
// namespace's pod-security.kubernetes.io/enforce label (the one the built-in
// PodSecurity admission reads, so one label drives both), else the level
// configured for the namespace, else the policy's default.
type NamespaceLevels struct {
	// Config maps namespace names to levels (admission.podSecurity.namespaces).
	Config map[string]psaapi.LevelVersion
	// Lister reads namespace labels; nil (offline, no cluster client) uses
	// Config alone.
	Lister corev1listers.NamespaceLister
}

// level returns the level for namespace ns, def when nothing overrides it.
// A label that does not parse is ignored rather than trusted: a typo must
// not loosen the policy.
func (n *NamespaceLevels) level(ns string, def psaapi.LevelVersion) psaapi.LevelVersion {
	if n == nil {
		return def
	}
	out := def
	if lv, ok := n.Config[ns]; ok {
		out = lv
	}
	if n.Lister == nil {
		return out
	}
	obj, err := n.Lister.Get(ns)
	if err != nil {
		return out // not yet in the informer's cache, or gone
	}
	l, ok := obj.Labels[psaapi.EnforceLevelLabel]
	if !ok {
		return out
	}
	level, err := psaapi.ParseLevel(l)
	if err != nil {
		return out
	}
	// Without a version label the pinned version stays: the label picks the
	// level, the configuration pins what the level means.
	version := out.Version
	if v, ok := obj.Labels[psaapi.EnforceVersionLabel]; ok {
		if pv, err := psaapi.ParseVersion(v); err == nil {
			version = pv
		}
	}
	return psaapi.LevelVersion{Level: level, Version: version}
}

// ParseLevels parses a namespace → level map from configuration, with
// every level at version.
func ParseLevels(m map[string]string, version string) (map[string]psaapi.LevelVersion, error) {
	if len(m) == 0 {
		return nil, nil
	}
	v, err := psaapi.ParseVersion(version)
	if err != nil {
		return nil, fmt.Errorf("pod security version: %w", err)
	}
	out := make(map[string]psaapi.LevelVersion, len(m))
	for ns, l := range m {
		level, err := psaapi.ParseLevel(l)
		if err != nil {
			return nil, fmt.Errorf("namespace %s: %w", ns, err)
		}
		out[ns] = psaapi.LevelVersion{Level: level, Version: v}
	}
	return out, nil
}

// StartNamespaceLister starts a namespace informer on cs and waits up to
// timeout until its cache is filled; the informer stops when ctx ends.
func StartNamespaceLister(ctx context.Context, cs kubernetes.Interface, timeout time.Duration) (corev1listers.NamespaceLister, error) {
	runCtx, stop := context.WithCancel(ctx)
	f := informers.NewSharedInformerFactory(cs, 10*time.Minute)
	nsi := f.Core().V1().Namespaces()
	lister, inf := nsi.Lister(), nsi.Informer()
	f.Start(runCtx.Done())
	syncCtx, cancel := context.WithTimeout(runCtx, timeout)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), inf.HasSynced) {
		stop()
		f.Shutdown()
		return nil, fmt.Errorf("namespace informer did not sync within %s (may palisade list and watch namespaces?)", timeout)
	}
	context.AfterFunc(ctx, f.Shutdown)
	_ = stop // runCtx ends with ctx
	return lister, nil
}
