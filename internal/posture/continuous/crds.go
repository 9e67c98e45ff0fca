package continuous

import (
	"context"
	"fmt"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/palisade-sec/palisade/internal/kube"
)

// crdWatch finds the CRD kinds posture reads (kube.CRDKinds: Cilium
// policies, Gateway API, Istio) that a cluster serves, at start and again
// every Options.Rediscover, and gives each one dynamic informer: a
// CiliumNetworkPolicy must rescan as a NetworkPolicy does, also when Cilium
// is installed after the cluster was registered.
type crdWatch struct {
	cs      kubernetes.Interface
	cfg     *rest.Config
	factory dynamicinformer.DynamicSharedInformerFactory // nil until a kind is served
	// seen holds the kinds (by name, so a CRD upgraded to a newer version
	// is not watched twice) already watched or found forbidden.
	seen map[string]bool
}

func newCRDWatch(cs kubernetes.Interface, cfg *rest.Config) *crdWatch {
	return &crdWatch{cs: cs, cfg: cfg, seen: map[string]bool{}}
}

// discover returns the served CRD kinds not seen before that Palisade may
// list and watch, and names those it may not. It costs one discovery
// request, plus two access reviews per newly served kind.
func (c *crdWatch) discover(ctx context.Context) ([]kube.LiveKind, []string, error) {
	served, err := kube.ServedCRDKinds(ctx, c.cs.Discovery().RESTClient())
	if err != nil {
		return nil, nil, err
	}
	var fresh []kube.LiveKind
	for _, k := range served {
		if !c.seen[k.Name()] {
			c.seen[k.Name()] = true
			fresh = append(fresh, k)
		}
	}
	if len(fresh) == 0 {
		return nil, nil, nil
	}
	ok, missing := accessibleKinds(ctx, c.cs, fresh)
	return ok, missing, nil
}

// informer returns the dynamic informer of k, creating the factory on first use.
func (c *crdWatch) informer(k kube.LiveKind) (informers.GenericInformer, error) {
	if c.factory == nil {
		dyn, err := dynamic.NewForConfig(c.cfg)
		if err != nil {
			return nil, fmt.Errorf("build dynamic client: %w", err)
		}
		c.factory = dynamicinformer.NewDynamicSharedInformerFactory(dyn, 0)
	}
	return c.factory.ForResource(k.GVR()), nil
}

// start starts the informers created since the last start.
func (c *crdWatch) start(ctx context.Context) {
	if c.factory != nil {
		c.factory.Start(ctx.Done())
	}
}

// shutdown stops every informer and waits for them.
func (c *crdWatch) shutdown() {
	if c.factory != nil {
		c.factory.Shutdown()
	}
}
