package checks_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// reliabilityIDs are the reference checks new in behaviour version 8.
var reliabilityIDs = []string{"dangling-service", "dangling-network-policy", "dangling-backend", "missing-service-account",
	"deprecated-service-account-field", "duplicate-env-var", "mismatched-selector", "probe-port", "missing-config-source",
	"dangling-autoscaler", "dangling-monitor", "invalid-port", "required-metadata"}

// TestReliabilityPinned checks that scans pinned to version 7 or lower
// do not run the reliability checks.
func TestReliabilityPinned(t *testing.T) {
	for _, tc := range []struct {
		pin  posture.Version
		want bool
	}{{6, false}, {7, false}, {8, true}, {posture.Latest, true}} {
		reg, err := posture.NewRegistry(checks.All(), tc.pin)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range reliabilityIDs {
			c := reg.Check(id)
			if got := c != nil; got != tc.want {
				t.Errorf("%s pinned to %d: in the registry %v, want %v", id, tc.pin, got, tc.want)
			}
			if c != nil && c.Category != "reliability" {
				t.Errorf("%s: category %q, want reliability", id, c.Category)
			}
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
