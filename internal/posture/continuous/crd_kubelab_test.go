package continuous

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// TestCiliumPolicyRescans watches a cluster with Cilium's CRDs: the first
// scan reports a Deployment no policy isolates, and creating a
// CiliumNetworkPolicy that isolates it afterwards must trigger a rescan
// that drops the finding, as a NetworkPolicy would — also when the CRDs
// are installed after the cluster was registered (found by rediscovery).
func TestCiliumPolicyRescans(t *testing.T) {
	for _, tt := range []struct {
		name   string
		before bool // CRDs installed before registration
	}{{"CRDs installed first", true}, {"CRDs installed after registration", false}} {
		t.Run(tt.name, func(t *testing.T) { testCiliumPolicyRescans(t, tt.before) })
	}
}

func testCiliumPolicyRescans(t *testing.T, crdsFirst bool) {
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	if crdsFirst {
		installCilium(t, c.Config)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "api"}
	if _, err := cs.AppsV1().Deployments("shop").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "api"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "registry.example/api:1"}}},
			},
		},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	st, err := sqlite.Open(ctx, t.TempDir()+"/palisade.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	m := New(context.Background(), Options{
		Scanner: posture.NewScanner(reg.Only("network-pod-isolation"), nil), Findings: st, Alerts: st, Debounce: 200 * time.Millisecond,
		Rediscover: 300 * time.Millisecond,
	})
	t.Cleanup(m.Close)
	if err := m.Register(Cluster{Name: "lab", Config: c.Config}); err != nil {
		t.Fatal(err)
	}
	directions := func(ctx context.Context) ([]string, error) {
		fs, err := st.ListFindings(ctx, store.FindingFilter{Scope: ScopePrefix + "lab", RuleID: posture.RulePrefix + "network-pod-isolation"})
		var out []string
		for _, f := range fs {
			if r := f.Finding.Resource; r.Namespace == "shop" && r.Name == "api" {
				out = append(out, f.Finding.Message)
			}
		}
		return out, err
	}
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		fs, err := directions(ctx)
		return len(fs) == 2, err // ingress and egress
	})
	if err != nil {
		t.Fatalf("the unisolated Deployment was not reported: %v", err)
	}
	if s := m.Status(); len(s) != 1 || len(s[0].Missing) > 0 {
		t.Errorf("status: %+v, want nothing missing", s)
	}

	if !crdsFirst {
		installCilium(t, c.Config)
	}
	var cnp unstructured.Unstructured
	cnp.SetAPIVersion("cilium.io/v2")
	cnp.SetKind("CiliumNetworkPolicy")
	cnp.SetName("api")
	cnp.Object["spec"] = map[string]any{
		"endpointSelector": map[string]any{"matchLabels": map[string]any{"app": "api"}},
		"ingress":          []any{map[string]any{"fromEndpoints": []any{map[string]any{"matchLabels": map[string]any{"app": "web"}}}}},
		"egress":           []any{map[string]any{"toEndpoints": []any{map[string]any{"matchLabels": map[string]any{"app": "db"}}}}},
	}
	gvr := schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumnetworkpolicies"}
	if _, err := dynamic.NewForConfigOrDie(c.Config).Resource(gvr).Namespace("shop").Create(ctx, &cnp, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		fs, err := directions(ctx)
		return len(fs) == 0, err
	})
	if err != nil {
		fs, _ := directions(ctx)
		t.Fatalf("the CiliumNetworkPolicy created after the first scan did not change the verdict: %v %q", err, fs)
	}
	if s := m.Status(); len(s) != 1 || len(s[0].Missing) > 0 {
		t.Errorf("status: %+v, want nothing missing", s)
	}
}

// installCilium installs Cilium's policy CRDs and waits until they are served.
func installCilium(t *testing.T, cfg *rest.Config) {
	t.Helper()
	var cilium []kube.CRDKind
	for _, k := range kube.CRDKinds() {
		if k.Group == "cilium.io" {
			cilium = append(cilium, k)
		}
	}
	if err := kube.InstallLabCRDs(t.Context(), cfg, cilium); err != nil {
		t.Fatal(err)
	}
}
