package exposure

import (
	"testing"

	"github.com/palisade-sec/palisade/internal/kube"
)

// TestAnalyzePerPod: a Service selecting one pod of a StatefulSet by the
// labels its controller adds reaches the StatefulSet with AnalyzePerPod,
// for an ordinal the StatefulSet runs only, and never with
// AnalyzeGateways.
func TestAnalyzePerPod(t *testing.T) {
	const sts = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: kafka, namespace: data}
spec:
  replicas: 2
  ordinals: {start: 1}
  selector: {matchLabels: {app: kafka}}
  template:
    metadata: {labels: {app: kafka}}
    spec: {containers: [{name: kafka, image: kafka}]}
`
	service := func(selector string) string {
		return "---\napiVersion: v1\nkind: Service\nmetadata: {name: external, namespace: data}\nspec: {type: LoadBalancer, selector: " + selector + ", ports: [{port: 9094}]}\n"
	}
	for _, tc := range []struct {
		selector      string
		perPod, plain bool
	}{
		{"{app: kafka, statefulset.kubernetes.io/pod-name: kafka-1}", true, false},
		{"{statefulset.kubernetes.io/pod-name: kafka-2}", true, false},
		{"{apps.kubernetes.io/pod-index: '2'}", true, false},
		{"{statefulset.kubernetes.io/pod-name: kafka-0}", false, false}, // ordinals start at 1
		{"{statefulset.kubernetes.io/pod-name: kafka-3}", false, false},
		{"{app: kafka}", true, true},
	} {
		objs, err := kube.Decode(t.Context(), "test.yaml", []byte(sts+service(tc.selector)), kube.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		inv := kube.NewInventory(objs)
		if got := len(AnalyzePerPod(inv).Exposed()) == 1; got != tc.perPod {
			t.Errorf("selector %s: AnalyzePerPod exposed %v, want %v", tc.selector, got, tc.perPod)
		}
		if got := len(AnalyzeGateways(inv).Exposed()) == 1; got != tc.plain {
			t.Errorf("selector %s: AnalyzeGateways exposed %v, want %v", tc.selector, got, tc.plain)
		}
	}
}
