package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ConfigMapRef names a ConfigMap holding policy files, one per data key.
type ConfigMapRef struct{ Namespace, Name string }

func (r ConfigMapRef) String() string { return r.Namespace + "/" + r.Name }

// ConfigMapSource serves the policies of ConfigMaps and re-reads them when
// they change. It needs no goroutine of its own: Refresh is called on the
// request path (with the request's context and deadline) and does a GET
// per ConfigMap at most once per Interval, re-parsing only when the
// resourceVersion moved. A ConfigMap that stops parsing keeps its last good
// policies, so a bad edit cannot silently switch policies off; the error is
// logged and returned by Refresh.
type ConfigMapSource struct {
	client   kubernetes.Interface
	refs     []ConfigMapRef
	interval time.Duration
	// disabled and modes are applied to every load.
	disabled []string
	modes    map[string]Mode
	logger   *slog.Logger

	mu         sync.Mutex
	refreshing bool
	checked    time.Time
	versions   map[ConfigMapRef]string
	byMap      map[ConfigMapRef][]*Policy
	current    []*Policy
}

// NewConfigMapSource returns a source for refs; interval bounds how often
// they are re-read (default 10s).
func NewConfigMapSource(client kubernetes.Interface, refs []ConfigMapRef, interval time.Duration, disabled []string, modes map[string]Mode, logger *slog.Logger) *ConfigMapSource {
	if interval <= 0 {
		interval = 10 * time.Second
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &ConfigMapSource{
		client: client, refs: refs, interval: interval, disabled: disabled, modes: modes, logger: logger,
		versions: map[ConfigMapRef]string{}, byMap: map[ConfigMapRef][]*Policy{},
	}
}

// Policies returns the current policies, sorted by ID.
func (s *ConfigMapSource) Policies() []*Policy {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// Refresh re-reads the ConfigMaps when Interval has passed since the last
// read (or force is set). Concurrent callers do not wait: one reads, the
// others keep using the current policies.
func (s *ConfigMapSource) Refresh(ctx context.Context, force bool) error {
	s.mu.Lock()
	if s.refreshing || (!force && time.Since(s.checked) < s.interval) {
		s.mu.Unlock()
		return nil
	}
	s.refreshing = true
	s.mu.Unlock()
	err := s.sync(ctx)
	s.mu.Lock()
	s.refreshing = false
	s.checked = time.Now()
	s.mu.Unlock()
	if err != nil {
		s.logger.LogAttrs(ctx, slog.LevelWarn, "policy ConfigMaps not reloaded; keeping the last good policies", slog.Any("error", err))
	}
	return err
}

func (s *ConfigMapSource) sync(ctx context.Context) error {
	var errs []error
	changed := false
	for _, ref := range s.refs {
		cm, err := s.client.CoreV1().ConfigMaps(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("policy ConfigMap %s does not exist", ref))
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("get policy ConfigMap %s: %w", ref, err))
			continue
		}
		s.mu.Lock()
		same := s.versions[ref] == cm.ResourceVersion
		s.mu.Unlock()
		if same {
			continue
		}
		keys := make([]string, 0, len(cm.Data))
		for k := range cm.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var ps []*Policy
		var perrs []error
		for _, k := range keys {
			got, err := Parse(ref.String()+"["+k+"]", []byte(cm.Data[k]))
			if err != nil {
				perrs = append(perrs, err)
				continue
			}
			ps = append(ps, got...)
		}
		if len(perrs) > 0 {
			errs = append(errs, perrs...)
			continue
		}
		s.mu.Lock()
		s.versions[ref], s.byMap[ref] = cm.ResourceVersion, ps
		s.mu.Unlock()
		changed = true
	}
	if changed {
		s.mu.Lock()
		var all []*Policy
		for _, ref := range s.refs {
			all = append(all, s.byMap[ref]...)
		}
		s.mu.Unlock()
		sel, err := apply(all, s.disabled, s.modes)
		if err != nil {
			errs = append(errs, err)
		} else {
			s.mu.Lock()
			s.current = sel
			s.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}
