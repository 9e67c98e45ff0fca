package checks

// Objects a scan takes for granted although its inventory does not hold
// them. Some exist in every cluster — the API server, the controller
// manager and kubeadm create them — and a manifest set never holds them;
// others a controller makes from an object the set does hold: the Secret
// of a SealedSecret, ExternalSecret or cert-manager Certificate, the
// Secret kube-webhook-certgen writes for an admission webhook, the pods
// the Prometheus operator runs for a Prometheus or an Alertmanager and
// the kubelet Service it keeps, the CA ConfigMap istiod publishes in every
// namespace, the certificates contour certgen writes, Argo CD's Redis
// password Secret, and the labels the
// StatefulSet controller gives each pod (one Service per pod selects by
// them). The reference checks consult this one
// list instead of each knowing its own exceptions. Each entry counts from
// the behaviour version that added it, so a pinned scan keeps its
// verdicts.

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// impliedObject is one object taken for granted: by name (or name
// prefix) for lookups by reference, by labels for selectors.
type impliedObject struct {
	kind      string
	namespace string // "" in every namespace (and for cluster-scoped kinds)
	name      string // "" for pods, which are matched by labels
	prefix    bool   // name is a prefix ("system:")
	labels    labels.Set
	since     posture.Version
	// manifestOnly entries stand for what a live scan lists (or finds
	// missing) itself: control-plane pods a managed cluster does not run.
	manifestOnly bool
}

// builtInObjects exist in every cluster.
var builtInObjects = []impliedObject{
	// Published in every namespace by the controller manager; the
	// ServiceAccount controller creates "default" in each.
	{kind: "ConfigMap", name: "kube-root-ca.crt", since: 8},
	{kind: "ServiceAccount", name: "default", since: 8},
	// The API server's bootstrap RBAC policy: the user-facing
	// ClusterRoles, every system: one, and its namespaced Roles.
	{kind: "ClusterRole", name: "cluster-admin", since: 11},
	{kind: "ClusterRole", name: "admin", since: 11},
	{kind: "ClusterRole", name: "edit", since: 11},
	{kind: "ClusterRole", name: "view", since: 11},
	{kind: "ClusterRole", name: "system:", prefix: true, since: 11},
	{kind: "Role", namespace: "kube-system", name: "system:", prefix: true, since: 13},
	{kind: "Role", namespace: "kube-public", name: "system:", prefix: true, since: 13},
	{kind: "Role", namespace: "kube-system", name: "extension-apiserver-authentication-reader", since: 13},
	// The API server's own Service, which monitors of the API server
	// select.
	{kind: "Service", namespace: "default", name: "kubernetes", labels: labels.Set{"component": "apiserver", "provider": "kubernetes"}, since: 13, manifestOnly: true},
	// kubeadm's control-plane static pods, CoreDNS (labelled kube-dns
	// as the add-on it replaced) and kube-proxy: kube-prometheus-stack's
	// exporter Services in kube-system select them. A live scan sees
	// whether the cluster runs them (a managed one runs no scheduler pod).
	{kind: "Pod", namespace: "kube-system", labels: labels.Set{"component": "kube-apiserver", "tier": "control-plane"}, since: 14, manifestOnly: true},
	{kind: "Pod", namespace: "kube-system", labels: labels.Set{"component": "kube-controller-manager", "tier": "control-plane"}, since: 14, manifestOnly: true},
	{kind: "Pod", namespace: "kube-system", labels: labels.Set{"component": "kube-scheduler", "tier": "control-plane"}, since: 14, manifestOnly: true},
	{kind: "Pod", namespace: "kube-system", labels: labels.Set{"component": "etcd", "tier": "control-plane"}, since: 14, manifestOnly: true},
	{kind: "Pod", namespace: "kube-system", labels: labels.Set{"k8s-app": "kube-dns"}, since: 14, manifestOnly: true},
	{kind: "Pod", namespace: "kube-system", labels: labels.Set{"k8s-app": "kube-proxy"}, since: 14, manifestOnly: true},
}

// implied indexes the objects an inventory implies, by kind, cluster and
// namespace, beside the built-in ones.
type implied struct {
	builtIn map[string][]impliedObject // builtInObjects by kind
	made    map[impliedKey][]impliedObject
}

type impliedKey struct{ kind, cluster, ns string }

// everyNamespace keys what a controller makes in every namespace of its
// cluster.
const everyNamespace = "*"

type impliedIndexKey struct{}

// impliedBy returns what inv implies, worked out once per inventory.
func impliedBy(inv *kube.Inventory) *implied {
	return inv.Derived(impliedIndexKey{}, func() any {
		im := &implied{builtIn: map[string][]impliedObject{}, made: map[impliedKey][]impliedObject{}}
		for _, o := range builtInObjects {
			im.builtIn[o.kind] = append(im.builtIn[o.kind], o)
		}
		add := func(from *kube.Object, ns string, o impliedObject) {
			if ns != everyNamespace {
				ns = kube.AppliedNamespace(ns)
			}
			k := impliedKey{o.kind, from.Source.Cluster, ns}
			im.made[k] = append(im.made[k], o)
		}
		for _, o := range inv.OfKind("SealedSecret") {
			add(o, o.Meta.Namespace, impliedObject{kind: "Secret", name: o.Meta.Name, since: 8})
		}
		for _, o := range inv.OfKind("ExternalSecret") {
			target := o.Meta.Name
			if n := nestedString(o, "spec", "target", "name"); n != "" {
				target = n
			}
			add(o, o.Meta.Namespace, impliedObject{kind: "Secret", name: target, since: 8})
		}
		for _, o := range inv.OfKind("Certificate") {
			if n := nestedString(o, "spec", "secretName"); n != "" && groupOf(o) == "cert-manager.io" {
				add(o, o.Meta.Namespace, impliedObject{kind: "Secret", name: n, since: 14})
			}
		}
		for _, kind := range prometheusOperatorKinds {
			for _, o := range inv.OfKind(kind.kind) {
				if groupOf(o) == kube.MonitoringGroup {
					add(o, o.Meta.Namespace, impliedObject{kind: "Pod", labels: kind.podLabels(o), since: 14})
				}
			}
		}
		for _, w := range inv.Workloads {
			for _, pod := range w.StatefulSetPods() {
				add(w.Object, w.Object.Meta.Namespace, impliedObject{kind: "Pod", labels: pod, since: 14})
			}
			for c := range w.Containers() {
				if ns, name, ok := certgenSecret(c.Container); ok {
					add(w.Object, ns, impliedObject{kind: "Secret", name: name, since: 14})
				}
				if ns, name, ok := operatorKubeletService(c.Container); ok {
					add(w.Object, ns, impliedObject{kind: "Service", name: name, labels: kubeletServiceLabels, since: 14})
				}
				if ns, names := contourCertgenSecrets(c.Container, w.Object.Meta.Namespace); names != nil {
					for _, n := range names {
						add(w.Object, ns, impliedObject{kind: "Secret", name: n, since: 14})
					}
				}
				if ns, ok := argocdRedisSecret(c.Container, w.Object.Meta.Namespace); ok {
					add(w.Object, ns, impliedObject{kind: "Secret", name: "argocd-redis", since: 14})
				}
				if istiod(c.Container) {
					add(w.Object, everyNamespace, impliedObject{kind: "ConfigMap", name: istioRootCertConfigMap, since: 14})
				}
			}
		}
		return im
	}).(*implied)
}

// find reports whether match holds for an implied object of kind in
// namespace ns of from's cluster at version v. The reference checks ask
// once per reference: it allocates nothing.
func (im *implied) find(from *kube.Object, kind, ns string, v posture.Version, match func(*impliedObject) bool) bool {
	ns = kube.AppliedNamespace(ns)
	for i := range im.builtIn[kind] {
		o := &im.builtIn[kind][i]
		if o.since <= v && (o.namespace == "" || o.namespace == ns) && !(o.manifestOnly && liveObject(from)) && match(o) {
			return true
		}
	}
	for _, k := range [...]string{ns, everyNamespace} {
		made := im.made[impliedKey{kind, from.Source.Cluster, k}]
		for i := range made {
			if made[i].since <= v && match(&made[i]) {
				return true
			}
		}
	}
	return false
}

// has reports whether an object of kind named name in namespace ns of
// from's cluster is implied at version v.
func (im *implied) has(from *kube.Object, kind, ns, name string, v posture.Version) bool {
	return im.find(from, kind, ns, v, func(o *impliedObject) bool {
		return o.name == name || (o.prefix && strings.HasPrefix(name, o.name))
	})
}

// selected reports whether sel matches the labels of an implied pod or
// Service of kind in namespace ns of from's cluster at version v.
func (im *implied) selected(from *kube.Object, kind, ns string, sel labels.Selector, v posture.Version) bool {
	return im.find(from, kind, ns, v, func(o *impliedObject) bool { return o.labels != nil && sel.Matches(o.labels) })
}

// madeIn reports whether a controller makes some object of kind in
// namespace ns of from's cluster from the inventory at version v: a
// namespace with producers of Secrets is one where Secrets are deployed.
// What is made in every namespace does not count: it says nothing of what
// the set deploys there.
func (im *implied) madeIn(from *kube.Object, kind, ns string, v posture.Version) bool {
	for _, o := range im.made[impliedKey{kind, from.Source.Cluster, kube.AppliedNamespace(ns)}] {
		if o.since <= v {
			return true
		}
	}
	return false
}

// namespaces returns the namespaces of from's cluster with an implied
// object of kind at version v, for selectors over any namespace.
func (im *implied) namespaces(from *kube.Object, kind string, v posture.Version) []string {
	var out []string
	for _, o := range im.builtIn[kind] {
		if o.since <= v && o.namespace != "" && !(o.manifestOnly && liveObject(from)) {
			out = append(out, o.namespace)
		}
	}
	for k := range im.made {
		if k.kind == kind && k.cluster == from.Source.Cluster && k.ns != everyNamespace && im.madeIn(from, kind, k.ns, v) {
			out = append(out, k.ns)
		}
	}
	return out
}

// impliedVersions returns the behaviours of a reference check whose
// evaluation takes the behaviour version it runs at (the implied objects
// it counts): one from each of versions, evaluated at that version.
func impliedVersions(eval func(*posture.Input, posture.Version) []posture.Result, versions ...posture.Version) []posture.Versioned {
	out := make([]posture.Versioned, len(versions))
	for i, v := range versions {
		out[i] = posture.Versioned{MinVersion: v, Eval: func(in *posture.Input) []posture.Result { return eval(in, v) }}
	}
	return out
}

// groupOf returns the API group of o.
func groupOf(o *kube.Object) string {
	gv, err := schema.ParseGroupVersion(o.Ref.APIVersion)
	if err != nil {
		return ""
	}
	return gv.Group
}

// nestedString returns the string at path in a custom resource, "" when
// absent.
func nestedString(o *kube.Object, path ...string) string {
	u, ok := o.Typed.(*unstructured.Unstructured)
	if !ok {
		return ""
	}
	s, _, _ := unstructured.NestedString(u.Object, path...)
	return s
}
