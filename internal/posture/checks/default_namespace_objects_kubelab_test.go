package checks_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// TestDefaultNamespaceObjectsLive scans a real kube-apiserver: what the
// control plane itself keeps in default (the kubernetes Service, the
// default ServiceAccount, kube-root-ca.crt) gives no finding, and a
// ConfigMap created there does, through a live scan's own LISTs.
func TestDefaultNamespaceObjectsLive(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	reg, err := posture.NewRegistry([]posture.Check{checks.DefaultNamespaceObjects()}, posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	scan := func() []string {
		t.Helper()
		inv, missing, err := kube.ListCluster(ctx, c.Config, "lab", 0)
		if err != nil || len(missing) > 0 {
			t.Fatalf("list cluster: %v %v", err, missing)
		}
		out, err := posture.NewScanner(reg, nil).Scan(ctx, inv, posture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range out.Findings {
			got = append(got, f.Resource.Kind+"/"+f.Resource.Namespace+"/"+f.Resource.Name)
		}
		return got
	}
	// kubelab runs no controller manager: its ServiceAccount controller
	// and root CA publisher would create these two; the API server itself
	// creates the kubernetes Service.
	cs := kubernetes.NewForConfigOrDie(c.Config)
	if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-root-ca.crt"}, Data: map[string]string{"ca.crt": string(c.CAData)}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		_, err := cs.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
		return err == nil
	})
	if got := scan(); len(got) > 0 {
		t.Fatalf("a new cluster's default namespace gave findings: %v", got)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := scan(); len(got) != 1 || got[0] != "ConfigMap/default/settings" {
		t.Fatalf("findings %v, want ConfigMap/default/settings", got)
	}
}
