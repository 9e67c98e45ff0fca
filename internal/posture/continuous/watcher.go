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
	"github.com/palisade-sec/palisade/internal/posture/versions"
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
	// The informers' LISTs and watches carry every object of the cluster:
	// protobuf costs both sides less than JSON (kube.WithProtobuf).
	watchCS, err := kubernetes.NewForConfig(kube.WithProtobuf(w.cluster.Config))
	if err != nil {
		w.fail(fmt.Errorf("build client: %w", err))
		return
	}
	facts := w.readFacts(ctx, cs, clusterFacts{})

	kinds, missing := accessibleKinds(ctx, cs, kube.LiveKinds())
	crds := newCRDWatch(cs, w.cluster.Config)
	crdKinds, crdMissing, err := crds.discover(ctx)
	// Until a discovery succeeds, the status says CRD kinds may be unseen.
	if err != nil {
		log.Warn("discover custom resources; watching built-in kinds only until the next discovery", "error", err)
		missing = append(missing, kube.UndiscoveredKinds)
	}
	missing = append(missing, crdMissing...)
	factory := informers.NewSharedInformerFactory(watchCS, 0)
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
		if i := slices.Index(missing, kube.UndiscoveredKinds); i >= 0 {
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
		if err := w.scan(ctx, mirrors, facts); err != nil && ctx.Err() == nil {
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
				// An upgrade or a change of anonymous authentication
				// emits no object event: re-read them on the same tick.
				fresh := watchNewCRDs()
				prev := facts
				facts = w.readFacts(ctx, cs, prev)
				if fresh || !facts.equal(prev) {
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

// clusterFacts are what a watcher reads of the cluster besides its
// objects: its version, the distribution its nodes reveal, and what
// probing its endpoint found.
type clusterFacts struct {
	gitVersion string
	dist       string
	endpoint   posture.EndpointProbe
}

func (f clusterFacts) equal(g clusterFacts) bool {
	return f.gitVersion == g.gitVersion && f.dist == g.dist && f.endpoint.URL == g.endpoint.URL &&
		f.endpoint.AnonymousStatus == g.endpoint.AnonymousStatus && slices.Equal(f.endpoint.Addresses, g.endpoint.Addresses)
}

// readFacts reads the cluster's facts as `posture scan --kubeconfig` does
// (version, one Node for AKS, ProbeEndpoint). What cannot be read this
// time keeps its value from prev: a passing network error must not make
// an alert disappear and come back.
func (w *watcher) readFacts(ctx context.Context, cs kubernetes.Interface, prev clusterFacts) clusterFacts {
	log := w.m.opts.Logger.With("cluster", w.cluster.Name)
	f := prev
	if v, err := cs.Discovery().ServerVersion(); err != nil {
		log.Warn("read cluster version", "error", err)
	} else {
		f.gitVersion = v.GitVersion
	}
	// One node is enough to tell AKS; RBAC may hide nodes, then the
	// gitVersion suffix decides.
	if nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1}); err == nil && len(nodes.Items) > 0 {
		f.dist = versions.NodeDistribution(nodes.Items[0].Labels)
	}
	p, err := ProbeEndpoint(ctx, w.cluster.Config, w.m.opts.Resolver)
	if err != nil {
		log.Warn("cluster probe failed", "error", err)
	}
	f.endpoint.URL = p.URL
	if p.AnonymousStatus != 0 {
		f.endpoint.AnonymousStatus = p.AnonymousStatus
	}
	if p.Addresses != nil {
		f.endpoint.Addresses = p.Addresses
	}
	w.update(func(s *Status) { s.GitVersion = f.gitVersion })
	return f
}

func (w *watcher) scan(ctx context.Context, mirrors []mirrored, facts clusterFacts) error {
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
	// What the watcher cannot see proves nothing missing (Check.Needs).
	inv.Unlisted = kube.UnlistedKinds(w.snapshot().Missing)
	// Base.Cluster carries what serve set for every cluster (the versions
	// table `palisade db update` refreshed); the rest is this cluster's.
	opts := w.m.opts.Base
	info := opts.Cluster
	info.GitVersion, info.Now = facts.gitVersion, now
	if info.Distribution == "" {
		info.Distribution = facts.dist
	}
	endpoint := facts.endpoint
	info.Endpoint = &endpoint
	opts.Cluster = info
	out, err := w.m.opts.Scanner.Scan(ctx, inv, opts)
	if err != nil {
		return err
	}
	fs := out.Findings
	// Findings about the cluster itself (its version, its endpoint) come
	// from no object; with no object visible they name no cluster yet.
	for i := range fs {
		if fs[i].Resource.Cluster == "" {
			fs[i].Resource.Cluster = w.cluster.Name
		}
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
