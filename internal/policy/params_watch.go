package policy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// ErrParamsWatcherClosed is returned by lookups after Close.
var ErrParamsWatcherClosed = errors.New("params watcher is closed")

// ParamsWatcher keeps params ConfigMaps (spec.paramsRef) current, each
// with an informer that lists and watches that single object (field
// selector metadata.name, which RBAC resourceNames authorize).
//
// The params of built-in and file policies are known at start: Watch
// starts their informers and waits for them, so that a ConfigMap serve may
// not read stops it at once. Those of policy ConfigMaps are only known
// once these are read, and change with them: Lookup starts an informer on
// a ref's first use and waits for its first list within the request's
// context, at most Limit of them at a time; Retain stops those the current
// policies no longer name.
type ParamsWatcher struct {
	client kubernetes.Interface
	limit  int
	logger *slog.Logger

	mu      sync.Mutex
	watches map[ConfigMapRef]*paramsWatch
	// wanted are the refs the last Retain kept; nil before any Retain.
	wanted map[ConfigMapRef]bool
	closed bool
}

// paramsWatch is one ConfigMap's informer and what it last saw.
type paramsWatch struct {
	ref     ConfigMapRef
	pinned  bool // started by Watch: never stopped by Retain
	factory informers.SharedInformerFactory
	stop    chan struct{}
	synced  chan struct{} // closed after the first list
	failed  chan struct{} // closed at the first list or watch error
	fail    sync.Once

	mu     sync.RWMutex
	params map[string]any
	found  bool
	err    error // the last list or watch error
}

// DefaultParamsLimit bounds the informers Lookup starts: a policy
// ConfigMap is written by people, so more params ConfigMaps than this is a
// mistake (or an attempt to make the webhook watch the cluster).
const DefaultParamsLimit = 64

// NewParamsWatcher returns a watcher reading ConfigMaps with client; limit
// bounds the informers Lookup starts (DefaultParamsLimit when <= 0).
// Close stops every informer.
func NewParamsWatcher(client kubernetes.Interface, limit int, logger *slog.Logger) *ParamsWatcher {
	if limit <= 0 {
		limit = DefaultParamsLimit
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &ParamsWatcher{client: client, limit: limit, logger: logger, watches: map[ConfigMapRef]*paramsWatch{}}
}

// Watch starts watching refs for good (Retain never stops them) and waits
// up to timeout, within ctx, for each informer's first list.
func (w *ParamsWatcher) Watch(ctx context.Context, refs []ConfigMapRef, timeout time.Duration) error {
	var started []*paramsWatch
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrParamsWatcherClosed
	}
	for _, ref := range refs {
		pw := w.watches[ref]
		if pw == nil {
			pw = w.startLocked(ref)
		}
		pw.pinned = true
		started = append(started, pw)
	}
	w.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var missing []string
	var errs []error
	for _, pw := range started {
		select {
		case <-pw.synced:
			continue
		case <-ctx.Done():
		}
		missing = append(missing, pw.ref.String())
		if err := pw.lastErr(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", pw.ref, err))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("params ConfigMaps [%s] not read within %s (may palisade get, list and watch them?): %w", strings.Join(missing, " "), timeout, cmp.Or(errors.Join(errs...), ctx.Err()))
	}
	return nil
}

// Params returns what the informer of ref holds, without waiting: the
// ConfigMap's data, or found=false when it does not exist. A ref that is
// not watched, or not read yet, is an error, so that a wiring mistake is
// not mistaken for a missing ConfigMap. The map is shared: callers must
// not change it.
func (w *ParamsWatcher) Params(ref ConfigMapRef) (params map[string]any, found bool, err error) {
	w.mu.Lock()
	pw := w.watches[ref]
	w.mu.Unlock()
	if pw == nil {
		return nil, false, fmt.Errorf("params ConfigMap %s is not watched", ref)
	}
	select {
	case <-pw.synced:
		return pw.get()
	default:
		return nil, false, pw.notRead()
	}
}

// Lookup returns the params of ref like Params, starting an informer on
// the ref's first use and waiting for its first list until ctx ends. When
// the list fails (RBAC forbids it, say) it returns the error at once
// instead of waiting, until a later list succeeds. A ref that the last
// Retain left out (a request still running on policies just replaced) is
// read with one GET rather than watched again.
func (w *ParamsWatcher) Lookup(ctx context.Context, ref ConfigMapRef) (params map[string]any, found bool, err error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, false, ErrParamsWatcherClosed
	}
	pw := w.watches[ref]
	if pw == nil && w.wanted != nil && !w.wanted[ref] {
		w.mu.Unlock()
		return w.get(ctx, ref)
	}
	if pw == nil {
		if n := w.dynamicLocked(); n >= w.limit {
			w.mu.Unlock()
			return nil, false, fmt.Errorf("params ConfigMap %s: policies name more than %d params ConfigMaps, the most that are watched", ref, w.limit)
		}
		pw = w.startLocked(ref)
	}
	w.mu.Unlock()
	select {
	case <-pw.synced:
		return pw.get()
	case <-pw.failed:
		select {
		case <-pw.synced:
			return pw.get()
		default:
			return nil, false, pw.notRead()
		}
	case <-pw.stop:
		return nil, false, fmt.Errorf("params ConfigMap %s is no longer watched", ref)
	case <-ctx.Done():
		return nil, false, fmt.Errorf("params ConfigMap %s not read in time (may palisade get, list and watch it?): %w", ref, ctx.Err())
	}
}

// Retain stops the informers Lookup started for refs not in refs; later
// Lookups of those read them with a GET. Watched refs are kept.
func (w *ParamsWatcher) Retain(refs []ConfigMapRef) {
	wanted := make(map[ConfigMapRef]bool, len(refs))
	for _, r := range refs {
		wanted[r] = true
	}
	var stopped []*paramsWatch
	w.mu.Lock()
	w.wanted = wanted
	for ref, pw := range w.watches {
		if !pw.pinned && !wanted[ref] {
			delete(w.watches, ref)
			stopped = append(stopped, pw)
		}
	}
	w.mu.Unlock()
	for _, pw := range stopped {
		pw.shutdown()
		w.logger.Info("params ConfigMap no longer watched", "config_map", pw.ref.String())
	}
}

// Watched returns the refs with a running informer, sorted.
func (w *ParamsWatcher) Watched() []ConfigMapRef {
	w.mu.Lock()
	out := make([]ConfigMapRef, 0, len(w.watches))
	for ref := range w.watches {
		out = append(out, ref)
	}
	w.mu.Unlock()
	slices.SortFunc(out, compareRefs)
	return out
}

// Close stops every informer; lookups then fail.
func (w *ParamsWatcher) Close() {
	w.mu.Lock()
	w.closed = true
	all := w.watches
	w.watches = map[ConfigMapRef]*paramsWatch{}
	w.mu.Unlock()
	for _, pw := range all {
		pw.shutdown()
	}
}

func compareRefs(a, b ConfigMapRef) int {
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

// dynamicLocked counts the informers Lookup started.
func (w *ParamsWatcher) dynamicLocked() int {
	n := 0
	for _, pw := range w.watches {
		if !pw.pinned {
			n++
		}
	}
	return n
}

// startLocked starts the informer of ref. Its first list runs in the
// background: a caller waits on synced or failed.
func (w *ParamsWatcher) startLocked(ref ConfigMapRef) *paramsWatch {
	pw := &paramsWatch{ref: ref, stop: make(chan struct{}), synced: make(chan struct{}), failed: make(chan struct{})}
	pw.factory = informers.NewSharedInformerFactoryWithOptions(w.client, 0,
		informers.WithNamespace(ref.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", ref.Name).String()
		}))
	inf := pw.factory.Core().V1().ConfigMaps().Informer()
	// Instead of client-go's klog line: the error also reaches the
	// requests that wait for this ConfigMap.
	_ = inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
		pw.setErr(err)
		w.logger.Warn("params ConfigMap not read", "config_map", ref.String(), "error", err)
	})
	reg, err := inf.AddEventHandler(pw.handler(w.logger))
	if err != nil {
		// Only a stopped informer refuses handlers, and this one is new.
		pw.setErr(fmt.Errorf("watch params ConfigMap %s: %w", ref, err))
		close(pw.stop)
		return pw
	}
	pw.factory.Start(pw.stop)
	go func() {
		if cache.WaitForCacheSync(pw.stop, reg.HasSynced) {
			close(pw.synced)
		}
	}()
	w.watches[ref] = pw
	w.logger.Debug("params ConfigMap watched", "config_map", ref.String())
	return pw
}

// get reads ref once, for a lookup of a ref no longer watched.
func (w *ParamsWatcher) get(ctx context.Context, ref ConfigMapRef) (map[string]any, bool, error) {
	cm, err := w.client.CoreV1().ConfigMaps(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get params ConfigMap %s: %w", ref, err)
	}
	return ParamsOf(cm), true, nil
}

func (pw *paramsWatch) handler(logger *slog.Logger) cache.ResourceEventHandler {
	set := func(obj any) {
		cm, ok := obj.(*corev1.ConfigMap)
		if !ok || cm.Name != pw.ref.Name {
			return
		}
		p := ParamsOf(cm)
		pw.mu.Lock()
		pw.params, pw.found = p, true
		pw.mu.Unlock()
		logger.Debug("params ConfigMap loaded", "config_map", pw.ref.String(), "resource_version", cm.ResourceVersion)
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    set,
		UpdateFunc: func(_, obj any) { set(obj) },
		DeleteFunc: func(any) {
			pw.mu.Lock()
			pw.params, pw.found = nil, false
			pw.mu.Unlock()
			logger.Warn("params ConfigMap deleted", "config_map", pw.ref.String())
		},
	}
}

func (pw *paramsWatch) get() (map[string]any, bool, error) {
	pw.mu.RLock()
	defer pw.mu.RUnlock()
	return pw.params, pw.found, nil
}

func (pw *paramsWatch) setErr(err error) {
	pw.mu.Lock()
	pw.err = err
	pw.mu.Unlock()
	pw.fail.Do(func() { close(pw.failed) })
}

func (pw *paramsWatch) lastErr() error {
	pw.mu.RLock()
	defer pw.mu.RUnlock()
	return pw.err
}

// notRead is the error of a lookup before the first list succeeded.
func (pw *paramsWatch) notRead() error {
	if err := pw.lastErr(); err != nil {
		return fmt.Errorf("read params ConfigMap %s (may palisade get, list and watch it?): %w", pw.ref, err)
	}
	return fmt.Errorf("params ConfigMap %s is not read yet", pw.ref)
}

func (pw *paramsWatch) shutdown() {
	select {
	case <-pw.stop:
	default:
		close(pw.stop)
	}
	if pw.factory != nil {
		pw.factory.Shutdown()
	}
}

// Home returns the policy ConfigMap of s that p was read from. Params of
// such a policy must live in the same namespace: whoever may write a
// policy ConfigMap must not be able to make the webhook read, and echo in
// its messages, ConfigMaps of namespaces they cannot read themselves.
func (s *ConfigMapSource) Home(p *Policy) (ConfigMapRef, bool) {
	ref, ok := configMapOfFile(p.File)
	if !ok || !slices.Contains(s.refs, ref) {
		return ConfigMapRef{}, false
	}
	return ref, true
}

// configMapOfFile parses the File of a policy read from a ConfigMap,
// "namespace/name[key]" (see ConfigMapSource.sync).
func configMapOfFile(file string) (ConfigMapRef, bool) {
	ns, rest, ok := strings.Cut(file, "/")
	if !ok {
		return ConfigMapRef{}, false
	}
	name, key, ok := strings.Cut(rest, "[")
	if !ok || !strings.HasSuffix(key, "]") || !dnsLabel.MatchString(ns) || !dnsSubdomain.MatchString(name) {
		return ConfigMapRef{}, false
	}
	return ConfigMapRef{Namespace: ns, Name: name}, true
}
