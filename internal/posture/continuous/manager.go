// Package continuous keeps the posture of registered clusters current:
// informers mirror each cluster's objects, every change (debounced) rescans
// the mirrored inventory with the same checks as `palisade posture scan`,
// findings are stored per cluster, and critical exposure raises alerts.
// A newly registered cluster is probed and fully scanned at once, so its
// critical exposure (anonymous access, a public endpoint, an end-of-support
// version, a privileged workload exposed outside the cluster) is alerted
// within seconds of registration.
package continuous

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/store"
)

// Cluster is a cluster to watch.
type Cluster struct {
	Name   string
	Config *rest.Config
}

// Options configures a Manager.
type Options struct {
	Scanner    *posture.Scanner
	Base       posture.Options // registries and the like; Cluster is filled per cluster
	Exceptions []config.Exception
	Findings   store.FindingStore
	Alerts     store.AlertStore
	// Debounce coalesces a burst of changes (a rollout) into one rescan;
	// 0 is 2 s.
	Debounce time.Duration
	// SyncTimeout bounds the wait for the informers' first LIST; kinds not
	// synced by then are reported missing and the first scan goes ahead.
	// 0 is 45 s, leaving the first scan inside the 60 s alert promise.
	SyncTimeout time.Duration
	// OnAlert is called once for each alert a watcher raises (not for the
	// refreshes of later scans), after it is stored: serve forwards it to
	// the alert sinks. An error leaves the alert unannounced and schedules
	// a rescan (after Debounce) that offers it again, so a sink outage at
	// the first scan does not lose the alert.
	OnAlert func(ctx context.Context, a store.Alert) error
	// Rediscover is how often a watcher asks the cluster's API discovery
	// (one request) whether a CRD kind posture reads (kube.CRDKinds) was
	// installed since, to watch it too; 0 is 5 min.
	// Rediscover is also how often the cluster's version is re-read and
	// its endpoint re-probed (ProbeEndpoint), so an upgrade or a change of
	// anonymous authentication is seen without a restart.
	Rediscover time.Duration
	// Resolver looks up the API server's host name for the public endpoint
	// check; nil is net.DefaultResolver.
	Resolver Resolver
	Now      func() time.Time
	Logger   *slog.Logger
}

// ErrDuplicate is returned by Register for a name already watched.
var ErrDuplicate = errors.New("cluster already registered")

// Manager watches clusters until Close.
type Manager struct {
	opts   Options
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	watchers map[string]*watcher
}

// New returns a manager whose watchers live until ctx ends or Close.
func New(ctx context.Context, opts Options) *Manager {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Debounce = cmp.Or(opts.Debounce, 2*time.Second)
	opts.SyncTimeout = cmp.Or(opts.SyncTimeout, 45*time.Second)
	opts.Rediscover = cmp.Or(opts.Rediscover, 5*time.Minute)
	ctx, cancel := context.WithCancel(ctx)
	return &Manager{opts: opts, ctx: ctx, cancel: cancel, watchers: map[string]*watcher{}}
}

// Register starts watching c: probes and the first full scan begin at once.
func (m *Manager) Register(c Cluster) error {
	if c.Name == "" || c.Config == nil {
		return errors.New("register cluster: a name and a client config are required")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.watchers[c.Name]; ok {
		return fmt.Errorf("register %s: %w", c.Name, ErrDuplicate)
	}
	ctx, cancel := context.WithCancel(m.ctx)
	w := &watcher{m: m, cluster: c, cancel: cancel, dirty: make(chan struct{}, 1), status: Status{Cluster: c.Name, RegisteredAt: m.opts.Now()}}
	m.watchers[c.Name] = w
	m.wg.Go(func() { w.run(ctx) })
	m.opts.Logger.Info("cluster registered for continuous posture", "cluster", c.Name, "host", c.Config.Host)
	return nil
}

// Unregister stops watching the named cluster; its stored findings stay.
func (m *Manager) Unregister(name string) bool {
	m.mu.Lock()
	w, ok := m.watchers[name]
	delete(m.watchers, name)
	m.mu.Unlock()
	if ok {
		w.cancel()
	}
	return ok
}

// Status returns the state of every watched cluster, by name.
func (m *Manager) Status() []Status {
	m.mu.Lock()
	ws := make([]*watcher, 0, len(m.watchers))
	for _, w := range m.watchers {
		ws = append(ws, w)
	}
	m.mu.Unlock()
	out := make([]Status, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.snapshot())
	}
	slices.SortFunc(out, func(a, b Status) int { return cmp.Compare(a.Cluster, b.Cluster) })
	return out
}

// Close stops every watcher and waits for them.
func (m *Manager) Close() {
	m.cancel()
	m.wg.Wait()
}

// Status is what a watcher last did.
type Status struct {
	Cluster      string    `json:"cluster"`
	RegisteredAt time.Time `json:"registeredAt"`
	GitVersion   string    `json:"gitVersion,omitempty"`
	LastScan     time.Time `json:"lastScan,omitzero"`
	Scans        int       `json:"scans"`
	Objects      int       `json:"objects"`
	OpenFindings int       `json:"openFindings"`
	Alerts       int       `json:"alerts"`
	// Missing are kinds Palisade may not list or watch (RBAC) or that did
	// not sync: findings about them are missing.
	Missing   []string `json:"missing,omitempty"`
	LastError string   `json:"lastError,omitempty"`
}
