package admission

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1listers "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	psaapi "k8s.io/pod-security-admission/api"
)

func TestNamespaceLevels(t *testing.T) {
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	for name, labels := range map[string]map[string]string{
		"labelled":  {psaapi.EnforceLevelLabel: "restricted"},
		"versioned": {psaapi.EnforceLevelLabel: "restricted", psaapi.EnforceVersionLabel: "v1.30"},
		"typo":      {psaapi.EnforceLevelLabel: "restrictd"},
		"both":      {psaapi.EnforceLevelLabel: "privileged"},
		"plain":     nil,
	} {
		if err := idx.Add(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := ParseLevels(map[string]string{"both": "restricted", "configured": "privileged"}, "v1.29")
	if err != nil {
		t.Fatal(err)
	}
	n := &NamespaceLevels{Config: cfg, Lister: corev1listers.NewNamespaceLister(idx)}
	def := psaapi.LevelVersion{Level: psaapi.LevelBaseline, Version: psaapi.MajorMinorVersion(1, 29)}
	tests := []struct {
		ns, want string
	}{
		{"plain", "baseline:v1.29"},
		{"unknown", "baseline:v1.29"},
		{"labelled", "restricted:v1.29"},
		{"versioned", "restricted:v1.30"},
		{"typo", "baseline:v1.29"},
		{"configured", "privileged:v1.29"},
		{"both", "privileged:v1.29"},
	}
	for _, tt := range tests {
		t.Run(tt.ns, func(t *testing.T) {
			if got := n.level(tt.ns, def).String(); got != tt.want {
				t.Errorf("level = %s, want %s", got, tt.want)
			}
		})
	}
	var none *NamespaceLevels
	if got := none.level("x", def); got != def {
		t.Errorf("nil levels = %v", got)
	}
	if _, err := ParseLevels(map[string]string{"a": "strict"}, "latest"); err == nil {
		t.Error("bad level accepted")
	}
}
