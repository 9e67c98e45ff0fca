package continuous

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/store"
)

// ScopePrefix starts the store scope of a cluster's posture findings.
const ScopePrefix = "cluster:"

type watcher struct {
	m       *Manager
	cluster Cluster
	cancel  context.CancelFunc
	dirty   chan struct{}

	mu     sync.Mutex
	status Status

	alerted map[string]bool // alert IDs OnAlert has seen: a rescan refreshes, it does not re-announce
}

type mirrored struct {
	kind   kube.LiveKind
	lister cache.GenericLister
}

func (w *watcher) run(ctx context.Context) {
	log := w.m.opts.Logger.With("cluster", w.cluster.Name)
	cs, err := kubernetes.NewForConfig(w.cluster.Config)
	if err != nil {
		w.fail(fmt.Errorf("build client: %w", err))
		return
	}
	var info posture.ClusterInfo
	if v, err := cs.Discovery().ServerVersion(); err != nil {
		log.Warn("read cluster version", "error", err)
	} else {
		info.GitVersion = v.GitVersion
		w.update(func(s *Status) { s.GitVersion = v.GitVersion })
	}
	exposures := w.probe(ctx)

	kinds, missing := accessibleKinds(ctx, cs, kube.LiveKinds())
	crds := newCRDWatch(cs, w.cluster.Config)
	crdKinds, crdMissing, err := crds.discover(ctx)
	// Until a discovery succeeds, the status says CRD kinds may be unseen.
	const discoveryFailed = "custom resources (API discovery failed)"
	if err != nil {
		log.Warn("discover custom resources; watching built-in kinds only until the next discovery", "error", err)
		missing = append(missing, discoveryFailed)
	}
	missing = append(missing, crdMissing...)
	factory := informers.NewSharedInformerFactory(cs, 0)
	var mirrors []mirrored
	// watch mirrors kind k with gi and returns its HasSynced, or names the
	// kind missing.
	watch := func(k kube.LiveKind, gi informers.GenericInformer, err error) cache.InformerSynced {
		if err == nil {
			_, err = gi.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
				AddFunc:    func(any) { w.markDirty() },
				UpdateFunc: func(any, any) { w.markDirty() },
				DeleteFunc: func(any) { w.markDirty() },
			})
		}
		if err != nil {
			log.Warn("cannot watch kind", "kind", k.Name(), "error", err)
			missing = append(missing, k.Name())
			return nil
		}
		mirrors = append(mirrors, mirrored{kind: k, lister: gi.Lister()})
		return gi.Informer().HasSynced
	}
	// synced waits, up to SyncTimeout, for the informers of mirrors[from:]
	// and names the kinds that did not sync.
	synced := func(from int, syncs []cache.InformerSynced) {
		syncCtx, cancel := context.WithTimeout(ctx, w.m.opts.SyncTimeout)
		defer cancel()
		if !cache.WaitForCacheSync(syncCtx.Done(), syncs...) && ctx.Err() == nil {
			for i, s := range syncs {
				if !s() {
					missing = append(missing, mirrors[from+i].kind.Name()+" (not synced)")
				}
			}
			log.Warn("some kinds did not sync in time; scanning without them", "missing", missing)
		}
	}
	var syncs []cache.InformerSynced
	for _, k := range kinds {
		gi, err := factory.ForResource(k.GVR())
		if s := watch(k, gi, err); s != nil {
			syncs = append(syncs, s)
		}
	}
	for _, k := range crdKinds {
		gi, err := crds.informer(k)
		if s := watch(k, gi, err); s != nil {
			syncs = append(syncs, s)
		}
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	crds.start(ctx)
	defer crds.shutdown()
	synced(0, syncs)
	setMissing := func() {
		slices.Sort(missing)
		ms := slices.Clone(missing)
		w.update(func(s *Status) { s.Missing = ms })
	}
	setMissing()
	// watchNewCRDs adds informers for CRD kinds installed since the last
	// discovery and reports whether there were any.
	watchNewCRDs := func() bool {
		fresh, forbidden, err := crds.discover(ctx)
		if err != nil {
			log.Debug("rediscover custom resources", "error", err)
			return false
		}
		recovered := false
		if i := slices.Index(missing, discoveryFailed); i >= 0 {
			missing, recovered = slices.Delete(missing, i, i+1), true
		}
		if len(fresh) == 0 && len(forbidden) == 0 {
			if recovered {
				setMissing()
			}
			return false
		}
		missing = append(missing, forbidden...)
		from := len(mirrors)
		var syncs []cache.InformerSynced
		for _, k := range fresh {
			gi, err := crds.informer(k)
			if s := watch(k, gi, err); s != nil {
				syncs = append(syncs, s)
			}
		}
		crds.start(ctx)
		synced(from, syncs)
		setMissing()
		log.Info("watching newly installed custom resources", "kinds", len(fresh), "forbidden", forbidden)
		return len(fresh) > 0
	}
	rediscover := time.NewTicker(w.m.opts.Rediscover)
	defer rediscover.Stop()

	for {
		select {
		case <-w.dirty: // drained before reading the caches: a change from now on rescans
		default:
		}
		if ctx.Err() != nil {
			return
		}
		if err := w.scan(ctx, mirrors, info, exposures); err != nil && ctx.Err() == nil {
			log.Error("continuous posture scan failed", "error", err)
			w.update(func(s *Status) { s.LastError = err.Error() })
		}
	changed:
		for {
			select {
			case <-ctx.Done():
				return
			case <-w.dirty:
				break changed
			case <-rediscover.C:
				if watchNewCRDs() {
					break changed
				}
			}
		}
		// Debounce: a rollout changes many objects in a few seconds.
		select {
		case <-ctx.Done():
			return
		case <-time.After(w.m.opts.Debounce):
		}
	}
}

func (w *watcher) markDirty() {
	select {
	case w.dirty <- struct{}{}:
	default:
	}
}

// probe runs the checks that need the endpoint rather than the objects.
func (w *watcher) probe(ctx context.Context) []Exposure {
	var out []Exposure
	for _, p := range []func() (*Exposure, error){
		func() (*Exposure, error) { return probeAnonymous(ctx, w.cluster.Config) },
		func() (*Exposure, error) { return probeEndpoint(ctx, w.cluster.Config.Host) },
	} {
		e, err := p()
		if err != nil {
			w.m.opts.Logger.Warn("cluster probe failed", "cluster", w.cluster.Name, "error", err)
			continue
		}
		if e != nil {
			out = append(out, *e)
		}
	}
	return out
}

func (w *watcher) scan(ctx context.Context, mirrors []mirrored, info posture.ClusterInfo, exposures []Exposure) error {
	now := w.m.opts.Now()
	var objs []*kube.Object
	for _, mr := range mirrors {
		items, err := mr.lister.List(labels.Everything())
		if err != nil {
			return fmt.Errorf("read %s cache: %w", mr.kind.GVK.Kind, err)
		}
		for _, it := range items {
			if o := kube.LiveObject(it, mr.kind.GVK, w.cluster.Name); o != nil {
				objs = append(objs, o)
			}
		}
	}
	inv := kube.NewInventory(objs)
	opts := w.m.opts.Base
	info.Now = now
	opts.Cluster = info
	out, err := w.m.opts.Scanner.Scan(ctx, inv, opts)
	if err != nil {
		return err
	}
	fs := out.Findings
	for _, e := range exposures {
		fs = append(fs, finding.Finding{
			RuleID: e.RuleID, Title: e.Title, Severity: e.Severity, Category: "exposure", Message: e.Message,
			Resource: finding.Resource{Cluster: w.cluster.Name, Kind: "Cluster", Name: w.cluster.Name},
		})
	}
	finding.Normalize(fs)
	config.ApplyExceptions(now, w.m.opts.Exceptions, fs, nil)
	if _, err := w.m.opts.Findings.ReplaceFindings(ctx, ScopePrefix+w.cluster.Name, now, fs); err != nil {
		return fmt.Errorf("store findings: %w", err)
	}
	alerts, open := 0, 0
	unannounced := false
	for i := range fs {
		f := &fs[i]
		if !f.Open() {
			continue
		}
		open++
		if !critical(f) {
			continue
		}
		a, err := alertOf(f, w.cluster.Name, now)
		if err != nil {
			return err
		}
		if err := w.m.opts.Alerts.PutAlert(ctx, a); err != nil {
			return fmt.Errorf("store alert %s: %w", a.ID, err)
		}
		alerts++
		if w.m.opts.OnAlert == nil || w.alerted[a.ID] {
			continue
		}
		if err := w.m.opts.OnAlert(ctx, a); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			w.m.opts.Logger.Warn("posture alert not forwarded; will retry", "cluster", w.cluster.Name, "alert_id", a.ID, "error", err)
			unannounced = true
			continue
		}
		if w.alerted == nil {
			w.alerted = map[string]bool{}
		}
		w.alerted[a.ID] = true
	}
	if unannounced {
		w.markDirty() // rescan after Debounce and offer the alerts again
	}
	w.update(func(s *Status) {
		s.LastScan, s.Objects, s.OpenFindings, s.LastError = now, len(objs), open, ""
		s.Scans++
		s.Alerts = alerts
	})
	return nil
}

// critical says which findings alert rather than wait in a report: what
// lets an outsider in or marks the cluster unsupported.
func critical(f *finding.Finding) bool {
	switch f.RuleID {
	case RuleAnonymousAccess, RulePublicEndpoint, posture.RulePrefix + "end-of-support":
		return true
	case posture.RulePrefix + "rbac-anonymous-binding":
		return f.Severity >= finding.SeverityHigh
	case posture.RulePrefix + "internet-exposed-workload":
		return f.Severity == finding.SeverityCritical
	}
	return false
}

func alertOf(f *finding.Finding, cluster string, now time.Time) (store.Alert, error) {
	raw, err := json.Marshal(f)
	if err != nil {
		return store.Alert{}, fmt.Errorf("encode finding %s: %w", f.ID, err)
	}
	title := f.Title
	if r := f.Resource; r.Kind != "" && r.Kind != "Cluster" {
		title += ": " + r.Kind + " " + r.Namespace + "/" + r.Name
	}
	// The finding ID is stable across scans, so a rescan refreshes the
	// alert instead of raising a new one, and keeps its status.
	return store.Alert{ID: "posture-" + f.ID, RuleID: f.RuleID, Severity: f.Severity, Cluster: cluster, Title: title, CreatedAt: now, UpdatedAt: now, Raw: raw}, nil
}

// accessibleKinds returns the kinds Palisade may list and watch, asking
// the API server's authorizer, and names the others: an informer on a
// forbidden kind would retry forever and never sync.
func accessibleKinds(ctx context.Context, cs kubernetes.Interface, kinds []kube.LiveKind) ([]kube.LiveKind, []string) {
	var ok []kube.LiveKind
	var missing []string
	for _, k := range kinds {
		allowed := true
		for _, verb := range []string{"list", "watch"} {
			r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
				Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
					Verb: verb, Group: k.GVK.Group, Resource: k.Resource,
				}},
			}, metav1.CreateOptions{})
			if err != nil || !r.Status.Allowed {
				allowed = false
				break
			}
		}
		if allowed {
			ok = append(ok, k)
		} else {
			missing = append(missing, k.Name()+" (forbidden)")
		}
	}
	return ok, missing
}

func (w *watcher) update(f func(*Status)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(&w.status)
}

func (w *watcher) fail(err error) {
	w.m.opts.Logger.Error("continuous posture stopped", "cluster", w.cluster.Name, "error", err)
	w.update(func(s *Status) { s.LastError = err.Error() })
}

func (w *watcher) snapshot() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.status
	s.Missing = slices.Clone(s.Missing)
	return s
}
