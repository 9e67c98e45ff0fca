package checks

import (
	"context"
	"maps"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

// TestBuiltInsAreTheAPIServers: the objects a manifest scan takes for
// granted are the ones a real API server creates. Every Role of a fresh
// cluster is a built-in Role (and not in another namespace), every
// ClusterRole a built-in ClusterRole, and the Service default/kubernetes
// carries the labels the built-in one is selected by.
func TestBuiltInsAreTheAPIServers(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	cs := kubernetes.NewForConfigOrDie(c.Config)
	manifest := &kube.Object{Source: kube.Source{File: "m.yaml"}}
	im := impliedBy(kube.NewInventory(nil))
	roles, err := cs.RbacV1().Roles("").List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(roles.Items) == 0 {
		t.Fatal("a fresh cluster has no Roles")
	}
	for _, r := range roles.Items {
		if !im.has(manifest, "Role", r.Namespace, r.Name, 13) {
			t.Errorf("Role %s/%s of a fresh cluster is not built in", r.Namespace, r.Name)
		}
		if im.has(manifest, "Role", "shop", r.Name, 13) {
			t.Errorf("Role %s is built into namespace shop", r.Name)
		}
	}
	// The API server's bootstrap controller creates its Service after
	// the server reports ready.
	var svc *corev1.Service
	err = wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		svc, err = cs.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("the API server's Service default/kubernetes: %v", err)
	}
	for _, o := range builtInObjects {
		if o.kind == "Service" && o.namespace == svc.Namespace && o.name == svc.Name && !maps.Equal(svc.Labels, map[string]string(o.labels)) {
			t.Errorf("the API server's Service is labelled %v, the built-in one %v", svc.Labels, o.labels)
		}
	}
	if !im.selected(manifest, "Service", "default", labels.SelectorFromSet(svc.Labels), 13) {
		t.Errorf("a selector of the API server's Service labels %v selects no built-in Service", svc.Labels)
	}
	clusterRoles, err := cs.RbacV1().ClusterRoles().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range clusterRoles.Items {
		if !im.has(manifest, "ClusterRole", "", r.Name, 11) {
			t.Errorf("ClusterRole %s of a fresh cluster is not built in", r.Name)
		}
	}
}
