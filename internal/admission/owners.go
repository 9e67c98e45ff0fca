package admission

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/kube"
)

// Owner lookups are on the API server's admission path: the webhook has 3 s
// in all, image verification included, so the whole owner chain gets a
// fraction of it, and a slow API server costs break-glass, not the review.
const (
	// OwnerLookupTimeout bounds the lookups of one owner chain.
	OwnerLookupTimeout = time.Second
	// ownerCacheTTL keeps a resolved owner this long. Short: removing the
	// annotation from an owner ends inherited break-glass within it.
	ownerCacheTTL = 10 * time.Second
	// maxOwnerDepth bounds a chain (Pod → ReplicaSet → Deployment is 2;
	// Pod → Job → CronJob is 2).
	maxOwnerDepth = 3
)

// OwnerLookup resolves the controlling owners of objects through the API
// server, for inherited break-glass. Entries are cached briefly by UID, so a
// rollout of many pods costs one lookup per owner.
type OwnerLookup struct {
	client kubernetes.Interface
	cache  *expirable.LRU[string, *owner]
	// Metrics counts cache hits and misses as cache="owner"; nil: none.
	Metrics *Metrics
}

// NewOwnerLookup returns a lookup through client, which should carry a
// short timeout of its own (rest.Config.Timeout), with a cache of size
// owners kept ttl each (0: 10 s).
func NewOwnerLookup(client kubernetes.Interface, size int, ttl time.Duration) *OwnerLookup {
	if ttl <= 0 {
		ttl = ownerCacheTTL
	}
	return &OwnerLookup{client: client, cache: expirable.NewLRU[string, *owner](size, nil, ttl)}
}

// owner is what inherited break-glass needs from an owner: its pod
// template's annotations and images, and its own controlling owner.
type owner struct {
	Kind, Name  string
	UID         types.UID
	Annotations map[string]string // of the pod template
	Images      []containerImage  // of the pod template
	Controller  *metav1.OwnerReference
}

// containerImage is one container of a pod spec, in order.
type containerImage struct{ List, Name, Image string }

// errOwnerKind is returned for owners that are not built-in workload
// controllers: no kube-controller-manager controller creates pods for them.
var errOwnerKind = errors.New("not a built-in workload kind")

// get returns the owner ref points at in namespace ns, checking that the
// object found has ref's UID: an owner deleted and re-created under the same
// name is another object, whoever wrote it.
func (o *OwnerLookup) get(ctx context.Context, ns string, ref metav1.OwnerReference) (*owner, error) {
	key := ns + "/" + ref.Kind + "/" + ref.Name + "/" + string(ref.UID)
	if ow, ok := o.cache.Get(key); ok {
		o.Metrics.cacheLookup("owner", true)
		return ow, nil
	}
	o.Metrics.cacheLookup("owner", false)
	obj, err := o.fetch(ctx, ns, ref)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s %s/%s does not exist", ref.Kind, ns, ref.Name)
		}
		if errors.Is(err, errOwnerKind) {
			return nil, err
		}
		// The cause (timeout, RBAC) goes to the log; the user is told which
		// lookup failed.
		return nil, &undecided{Text: fmt.Sprintf("%s %s/%s could not be read", ref.Kind, ns, ref.Name), Err: err}
	}
	ko := &kube.Object{Ref: kube.Ref{Kind: ref.Kind, Namespace: ns, Name: ref.Name}, Typed: obj}
	meta, err := metaOf(obj)
	if err != nil {
		return nil, err
	}
	if meta.GetUID() != ref.UID {
		return nil, fmt.Errorf("%s %s/%s has uid %s, not the %s its ownerReference names", ref.Kind, ns, ref.Name, meta.GetUID(), ref.UID)
	}
	w := kube.WorkloadOf(ko)
	if w == nil {
		return nil, fmt.Errorf("%s %s/%s has no pod template", ref.Kind, ns, ref.Name)
	}
	ow := &owner{Kind: ref.Kind, Name: ref.Name, UID: ref.UID, Annotations: w.PodMeta.Annotations, Images: imagesOf(w.PodSpec),
		Controller: metav1.GetControllerOfNoCopy(meta)}
	o.cache.Add(key, ow)
	return ow, nil
}

// fetch GETs the owner by name; apiVersion must be the one the
// controllers write, so a reference to a look-alike custom resource does
// not resolve to a built-in workload.
func (o *OwnerLookup) fetch(ctx context.Context, ns string, ref metav1.OwnerReference) (runtime.Object, error) {
	opts := metav1.GetOptions{}
	switch ref.APIVersion + "/" + ref.Kind {
	case "apps/v1/ReplicaSet":
		return o.client.AppsV1().ReplicaSets(ns).Get(ctx, ref.Name, opts)
	case "apps/v1/Deployment":
		return o.client.AppsV1().Deployments(ns).Get(ctx, ref.Name, opts)
	case "apps/v1/StatefulSet":
		return o.client.AppsV1().StatefulSets(ns).Get(ctx, ref.Name, opts)
	case "apps/v1/DaemonSet":
		return o.client.AppsV1().DaemonSets(ns).Get(ctx, ref.Name, opts)
	case "batch/v1/Job":
		return o.client.BatchV1().Jobs(ns).Get(ctx, ref.Name, opts)
	case "batch/v1/CronJob":
		return o.client.BatchV1().CronJobs(ns).Get(ctx, ref.Name, opts)
	case "v1/ReplicationController":
		return o.client.CoreV1().ReplicationControllers(ns).Get(ctx, ref.Name, opts)
	}
	return nil, fmt.Errorf("owner %s %s is %w", ref.APIVersion, ref.Kind, errOwnerKind)
}

func metaOf(obj runtime.Object) (metav1.Object, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("read metadata of %T: not an object", obj)
	}
	return m, nil
}

// imagesOf lists a pod spec's containers of every kind, in order.
func imagesOf(spec *corev1.PodSpec) []containerImage {
	if spec == nil {
		return nil
	}
	out := make([]containerImage, 0, len(spec.InitContainers)+len(spec.Containers)+len(spec.EphemeralContainers))
	for _, c := range spec.InitContainers {
		out = append(out, containerImage{"initContainers", c.Name, c.Image})
	}
	for _, c := range spec.Containers {
		out = append(out, containerImage{"containers", c.Name, c.Image})
	}
	for _, c := range spec.EphemeralContainers {
		out = append(out, containerImage{"ephemeralContainers", c.Name, c.Image})
	}
	return out
}

// sameImages reports whether a and b list the same containers with the
// same images, in order; when not, it names the first difference, calling
// b what.
func sameImages(a, b []containerImage, what string) (bool, string) {
	for i := range max(len(a), len(b)) {
		switch {
		case i >= len(a):
			return false, fmt.Sprintf("container %s of %s is missing", b[i].Name, what)
		case i >= len(b):
			return false, fmt.Sprintf("container %s is not in %s", a[i].Name, what)
		case a[i].List != b[i].List || a[i].Name != b[i].Name:
			return false, fmt.Sprintf("container %s is %s in %s", a[i].Name, b[i].Name, what)
		case a[i].Image != b[i].Image:
			return false, fmt.Sprintf("container %s runs %s, %s %s", a[i].Name, a[i].Image, what, b[i].Image)
		}
	}
	return true, ""
}
