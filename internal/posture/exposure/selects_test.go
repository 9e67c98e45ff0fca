package exposure

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/palisade-sec/palisade/internal/kube"
)

func TestWorkloadIndexAnySelected(t *testing.T) {
	const manifests = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api, tier: back}}
    spec: {containers: [{name: api, image: api:1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec: {containers: [{name: web, image: web:1}]}
---
apiVersion: v1
kind: PodTemplate
metadata: {name: batch, namespace: shop}
template:
  metadata: {labels: {app: batch}}
  spec: {containers: [{name: batch, image: batch:1}]}
`
	objs, err := kube.Decode(t.Context(), "index.yaml", []byte(manifests), kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	idx := IndexWorkloads(kube.NewInventory(objs))
	for _, tc := range []struct {
		name, ns string
		sel      metav1.LabelSelector
		want     bool
	}{
		{"matchLabels", "shop", metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}}, true},
		{"two labels, one wrong", "shop", metav1.LabelSelector{MatchLabels: map[string]string{"app": "api", "tier": "front"}}, false},
		{"expression In", "shop", metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"back", "front"}}}}, true},
		{"expression NotIn", "shop", metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"api"}}}}, false},
		{"empty selects every running workload", "shop", metav1.LabelSelector{}, true},
		{"a PodTemplate runs no pod", "shop", metav1.LabelSelector{MatchLabels: map[string]string{"app": "batch"}}, false},
		{"no namespace is default", "default", metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, true},
		{"other namespace", "shop", metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := metav1.LabelSelectorAsSelector(&tc.sel)
			if err != nil {
				t.Fatal(err)
			}
			if got := idx.AnySelected("", tc.ns, sel); got != tc.want {
				t.Errorf("AnySelected(%q, %s) = %v, want %v", tc.ns, sel, got, tc.want)
			}
		})
	}
}
