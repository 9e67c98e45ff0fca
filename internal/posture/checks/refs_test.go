package checks_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// reliabilityIDs are the reference checks new in behaviour version 8.
var reliabilityIDs = []string{"dangling-service", "dangling-network-policy", "dangling-backend", "missing-service-account",
	"deprecated-service-account-field", "duplicate-env-var", "mismatched-selector", "probe-port", "missing-config-source",
	"dangling-autoscaler", "dangling-monitor", "invalid-port", "required-metadata"}

// TestReliabilityPinned checks that scans pinned to version 7 or lower
// do not run the reference checks, which are all of category reliability.
func TestReliabilityPinned(t *testing.T) {
	checkPinned(t, reliabilityIDs, 8) // availability_test.go
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range reliabilityIDs {
		if c := reg.Check(id); c == nil || c.Category != "reliability" {
			t.Errorf("%s: %+v, want a check of category reliability", id, c)
		}
	}
}

// TestReferencesLive checks what a live scan judges: ServiceAccounts only
// in namespaces where it listed some (each holds "default"), ConfigMaps
// likewise, Secrets never (a live scan does not read them).
func TestReferencesLive(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop"}, Spec: corev1.PodSpec{
		ServiceAccountName: "api",
		Containers: []corev1.Container{{Name: "api", Image: "registry.example.com/shop/api:2.0.1", Env: []corev1.EnvVar{
			{Name: "PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"}}},
			{Name: "MODE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "api"}, Key: "mode"}}},
		}}}}}
	defaultSA := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "shop"}}
	rootCA := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-root-ca.crt", Namespace: "shop"}}
	for _, tc := range []struct {
		name string
		objs []runtime.Object
		id   string
		want int
	}{
		{"accounts not listed", []runtime.Object{pod}, "missing-service-account", 0},
		{"accounts listed", []runtime.Object{pod, defaultSA}, "missing-service-account", 1},
		{"config maps not listed", []runtime.Object{pod}, "missing-config-source", 0},
		{"config maps listed, Secret not judged", []runtime.Object{pod, rootCA}, "missing-config-source", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var objs []*kube.Object
			for _, o := range tc.objs {
				gvks, _, err := scheme.Scheme.ObjectKinds(o)
				if err != nil {
					t.Fatal(err)
				}
				objs = append(objs, kube.LiveObject(o.DeepCopyObject(), gvks[0], "lab"))
			}
			reg, err := posture.NewRegistry(checks.All(), posture.Latest)
			if err != nil {
				t.Fatal(err)
			}
			out, err := posture.NewScanner(reg.Only(tc.id), nil).Scan(t.Context(), kube.NewInventory(objs), posture.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Findings) != tc.want {
				t.Errorf("%d findings, want %d: %v", len(out.Findings), tc.want, out.Findings)
			}
		})
	}
}

// TestReferenceEdges pins edge cases of the reference checks, as evidence.
func TestReferenceEdges(t *testing.T) {
	const deploy = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: registry.example.com/shop/web:1.2.0}
`
	for _, tc := range []struct {
		name, id, doc string
		want          [][]string
	}{
		{"autoscaler: a custom kind the set holds is judged", "dangling-autoscaler", `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: checkout, namespace: shop}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: cart, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: cart}
  maxReplicas: 3
`, [][]string{{"kind=Rollout", "name=cart"}}},
		{"autoscaler: target found whatever its API group", "dangling-autoscaler", deploy + `---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: extensions/v1beta1, kind: Deployment, name: web}
  maxReplicas: 3
`, nil},
		{"monitor: an empty selector needs a Service all the same", "dangling-monitor", `apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: all, namespace: monitoring}
spec:
  selector: {}
`, [][]string{{"namespaces=its namespace monitoring", "selector=everything"}}},
		{"network policy: no namespace is default", "dangling-network-policy", `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  containers: [{name: web, image: registry.example.com/shop/web:1.2.0}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web}
spec:
  podSelector: {matchLabels: {app: web}}
`, nil},
		{"config: optional references are not judged", "missing-config-source", `apiVersion: v1
kind: ConfigMap
metadata: {name: other, namespace: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
  - name: web
    image: registry.example.com/shop/web:1.2.0
    envFrom:
    - configMapRef: {name: flags, optional: true}
  volumes:
  - name: extra
    configMap: {name: extra, optional: true}
  - name: main
    configMap: {name: main}
`, [][]string{{"kind=ConfigMap", "name=main", "problem=missing", "via=volume"}}},
		{"duplicate env: three definitions, two reported", "duplicate-env-var", `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
  - name: web
    image: registry.example.com/shop/web:1.2.0
    env: [{name: A, value: "1"}, {name: A, value: "2"}, {name: A, value: "3"}]
`, [][]string{{"index=1", "name=A"}, {"index=2", "name=A"}}},
		{"service account: deprecated field alone is the account", "missing-service-account", `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  serviceAccount: builder
  containers: [{name: web, image: registry.example.com/shop/web:1.2.0}]
`, [][]string{{"serviceAccount=builder"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, scanYAML(t, tc.id, posture.Latest, tc.doc)); d != "" {
				t.Errorf("evidence (-want +got):\n%s", d)
			}
		})
	}
}
