package bench

import (
	"context"
	"fmt"
	"os"
	goruntime "runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/pager"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/memlimit"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
	"github.com/palisade-sec/palisade/internal/posture/compliance"
)

// BenchmarkPostureLive loads a real kube-apiserver with 10,100 objects
// (4,000 Deployments, 4,000 Services, 1,800 ConfigMaps and a Namespace,
// Role, RoleBinding, NetworkPolicy, CiliumNetworkPolicy and HTTPRoute in
// each of 50 namespaces, the CRDs of kube.CRDKinds installed), then
// alternates, for a few rounds, (a) the floor: a plain paged LIST of every
// kind a live scan reads, through the same typed client, objects discarded,
// and (b) kube.ListCluster plus the posture scan of its inventory, under
// the memory limit and collector target `posture scan` sets
// (memlimit.DefaultScan), each from a heap given back to the system, as a
// fresh process starts. It reports the fastest scan over the fastest floor (target ≤ 1.5) and the
// scan's peak RSS growth. Run it with -benchtime 1x: loading the cluster
// dominates, and each benchmark iteration runs POSTURE_LIVE_ROUNDS
// (default 3) rounds of both. POSTURE_LIVE_N changes the number of
// Deployments.
func BenchmarkPostureLive(b *testing.B) {
	deployments, rounds := 4000, 3
	if s := os.Getenv("POSTURE_LIVE_N"); s != "" {
		deployments, _ = strconv.Atoi(s)
	}
	if s := os.Getenv("POSTURE_LIVE_ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	c := kubelabtest.Start(b, kubelab.Options{})
	cfg := rest.CopyConfig(c.Config)
	cfg.QPS, cfg.Burst = -1, 0             // no client-side throttling: measure the server and the scan
	cfg.WarningHandler = rest.NoWarnings{} // PSA warns on every privileged Deployment created
	cs := kubernetes.NewForConfigOrDie(cfg)
	// The scan's own LISTs ask for protobuf (kube.WithProtobuf); the floor
	// is a plain LIST as kubectl makes it, in JSON, and the same LISTs in
	// protobuf are measured too, to tell the scan's overhead from the gain
	// of the encoding.
	pcs := kubernetes.NewForConfigOrDie(kube.WithProtobuf(cfg))
	ctx := b.Context()

	start := time.Now()
	if err := kube.InstallLabCRDs(ctx, cfg, kube.CRDKinds()); err != nil {
		b.Fatal(err)
	}
	loaded := loadLiveCluster(b, ctx, cs, deployments, 50)
	loaded += loadLiveCRDObjects(b, ctx, cfg, 50)
	b.Logf("loaded %d objects in %v", loaded, time.Since(start).Round(time.Millisecond))

	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		b.Fatal(err)
	}
	m, err := compliance.Load()
	if err != nil {
		b.Fatal(err)
	}
	sc := posture.NewScanner(reg, m.ControlsOf)
	lists, err := liveListers(dynamic.NewForConfigOrDie(cfg))
	if err != nil {
		b.Fatal(err)
	}

	var prof *os.File
	if path := os.Getenv("PALISADE_BENCH_SCAN_PROFILE"); path != "" {
		if prof, err = os.Create(path); err != nil {
			b.Fatal(err)
		}
		defer prof.Close()
	}
	floorDur, scanDur, concurrentDur := time.Duration(1<<62), time.Duration(1<<62), time.Duration(1<<62)
	protoDur, warmDur := time.Duration(1<<62), time.Duration(1<<62)
	floorCPU, scanCPU := time.Duration(1<<62), time.Duration(1<<62)
	listOnly, checksOnly := time.Duration(1<<62), time.Duration(1<<62) // the two parts of the scan
	var peak int64
	var listed, objects, findings int
	// timeLists lists every kind with cs, workers kinds at a time, after
	// prepare, and keeps the fastest time in *best.
	timeLists := func(best *time.Duration, cs kubernetes.Interface, workers int, prepare func()) {
		prepare()
		t0 := time.Now()
		if _, err := pagedListAll(ctx, cs, lists, workers); err != nil {
			b.Fatal(err)
		}
		*best = min(*best, time.Since(t0))
	}
	b.ResetTimer()
	for range b.N {
		for r := range rounds {
			// Alternate which goes first, so that drift in machine load
			// and apiserver caches falls on both alike.
			steps := []func(){
				func() {
					// Each LIST starts, as the scan does, from a heap given
					// back to the system: a kubectl is a fresh process.
					rssBase()
					t0, cpu0 := time.Now(), cpuTime()
					n, err := pagedListAll(ctx, cs, lists, 1)
					if err != nil {
						b.Fatal(err)
					}
					floorDur, floorCPU = min(floorDur, time.Since(t0)), min(floorCPU, cpuTime()-cpu0)
					listed = n
					// Again on the heap the first grew: what starting
					// from a returned heap costs the floor.
					timeLists(&warmDur, cs, 1, func() { goruntime.GC() })
					// The same LISTs as many at a time as ListCluster runs:
					// how much of the scan's lead is its concurrency.
					timeLists(&concurrentDur, cs, kube.ListWorkers, func() { rssBase() })
					timeLists(&protoDur, pcs, 1, func() { rssBase() })
				},
				func() {
					// As the command runs it: under its memory limit and
					// collector target (a user's palisade posture scan).
					restore, err := memlimit.Apply(memlimit.DefaultScan, true, os.Getenv)
					if err != nil {
						b.Fatal(err)
					}
					defer restore()
					base := rssBase()
					if prof != nil && r == rounds-1 {
						// PALISADE_BENCH_SCAN_PROFILE: the last round's scan.
						_ = pprof.StartCPUProfile(prof)
						defer pprof.StopCPUProfile()
					}
					t0, cpu0 := time.Now(), cpuTime()
					inv, missing, err := kube.ListCluster(ctx, cfg, "lab", 0)
					if err != nil {
						b.Fatal(err)
					}
					if len(missing) > 0 {
						b.Fatalf("admin scan could not list: %v", missing)
					}
					t1 := time.Now()
					out, err := sc.Scan(ctx, inv, posture.Options{})
					if err != nil {
						b.Fatal(err)
					}
					scanDur, scanCPU = min(scanDur, time.Since(t0)), min(scanCPU, cpuTime()-cpu0)
					listOnly, checksOnly = min(listOnly, t1.Sub(t0)), min(checksOnly, time.Since(t1))
					peak = max(peak, peakRSS()-base)
					objects, findings = len(inv.Objects), len(out.Findings)
				},
			}
			if r%2 == 1 {
				steps[0], steps[1] = steps[1], steps[0]
			}
			for _, step := range steps {
				step()
			}
		}
	}
	b.StopTimer()
	if objects < loaded {
		b.Fatalf("the scan saw %d objects, fewer than the %d loaded", objects, loaded)
	}
	ratio := float64(scanDur) / float64(floorDur)
	b.ReportMetric(ratio, "scan/list")
	b.ReportMetric(float64(scanCPU)/float64(floorCPU), "scan/list-client-cpu")
	b.ReportMetric(float64(scanDur)/float64(concurrentDur), "scan/concurrent-list")
	b.ReportMetric(float64(scanDur)/float64(protoDur), "scan/protobuf-list")
	b.ReportMetric(float64(scanDur)/float64(warmDur), "scan/warm-list")
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(listed), "objects")
	b.ReportMetric(float64(findings), "findings")
	b.Logf("the same LISTs in protobuf, one at a time: %v (JSON %v); scan %.2f× that", protoDur, floorDur, float64(scanDur)/float64(protoDur))
	b.Logf("the JSON LISTs again on the heap the first grew: %v; scan %.2f× that", warmDur, float64(scanDur)/float64(warmDur))
	b.Logf("the same LISTs %d at a time (as ListCluster): %v; scan %.2f× that", kube.ListWorkers, concurrentDur, float64(scanDur)/float64(concurrentDur))
	b.Logf("%d objects listed (%d loaded): paged LIST %v (client cpu %v), ListCluster+scan %v (client cpu %v; ListCluster %v, checks %v), ratio %.2f wall (target ≤ 1.5), %.2f client cpu; %d findings; peak RSS growth %.0f MiB",
		listed, loaded, floorDur, floorCPU, scanDur, scanCPU, listOnly, checksOnly, ratio, float64(scanCPU)/float64(floorCPU), findings, float64(peak)/(1<<20))
}

// listPage lists one page of a kind across all namespaces.
type listPage func(ctx context.Context, cs kubernetes.Interface, opts metav1.ListOptions) (runtime.Object, error)

// liveListers returns a typed paged lister for every built-in kind
// kube.ListCluster reads, and fails when a kind is added there without one
// here, so the floor always lists the same kinds as the scan; the CRD kinds
// it reads when installed (all, here) are listed with the dynamic client at
// the version installLiveCRDs serves. The floor skips the scan's discovery
// request: deciding what is installed is part of the scan's cost.
func liveListers(dyn dynamic.Interface) ([]listPage, error) {
	byResource := map[string]listPage{
		"namespaces": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().Namespaces().List(ctx, o)
		},
		"pods": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().Pods("").List(ctx, o)
		},
		"replicationcontrollers": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().ReplicationControllers("").List(ctx, o)
		},
		"deployments": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.AppsV1().Deployments("").List(ctx, o)
		},
		"replicasets": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.AppsV1().ReplicaSets("").List(ctx, o)
		},
		"statefulsets": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.AppsV1().StatefulSets("").List(ctx, o)
		},
		"daemonsets": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.AppsV1().DaemonSets("").List(ctx, o)
		},
		"jobs": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.BatchV1().Jobs("").List(ctx, o)
		},
		"cronjobs": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.BatchV1().CronJobs("").List(ctx, o)
		},
		"services": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().Services("").List(ctx, o)
		},
		"serviceaccounts": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().ServiceAccounts("").List(ctx, o)
		},
		"configmaps": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().ConfigMaps("").List(ctx, o)
		},
		"resourcequotas": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().ResourceQuotas("").List(ctx, o)
		},
		"limitranges": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().LimitRanges("").List(ctx, o)
		},
		"networkpolicies": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.NetworkingV1().NetworkPolicies("").List(ctx, o)
		},
		"ingresses": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.NetworkingV1().Ingresses("").List(ctx, o)
		},
		"roles": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.RbacV1().Roles("").List(ctx, o)
		},
		"clusterroles": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.RbacV1().ClusterRoles().List(ctx, o)
		},
		"rolebindings": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.RbacV1().RoleBindings("").List(ctx, o)
		},
		"clusterrolebindings": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.RbacV1().ClusterRoleBindings().List(ctx, o)
		},
		"runtimeclasses": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.NodeV1().RuntimeClasses().List(ctx, o)
		},
		"poddisruptionbudgets": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.PolicyV1().PodDisruptionBudgets("").List(ctx, o)
		},
		"horizontalpodautoscalers": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.AutoscalingV2().HorizontalPodAutoscalers("").List(ctx, o)
		},
		"priorityclasses": func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return cs.SchedulingV1().PriorityClasses().List(ctx, o)
		},
	}
	var out []listPage
	for _, k := range kube.LiveKinds() {
		f, ok := byResource[k.Resource]
		if !ok {
			return nil, fmt.Errorf("no floor lister for live kind %s (%s)", k.GVK.Kind, k.Resource)
		}
		out = append(out, f)
	}
	for _, k := range kube.CRDKinds() {
		ri := dyn.Resource(k.At(k.Versions[0]).GVR())
		out = append(out, func(ctx context.Context, _ kubernetes.Interface, o metav1.ListOptions) (runtime.Object, error) {
			return ri.List(ctx, o)
		})
	}
	return out, nil
}

// loadLiveCRDObjects creates, in each of nsCount namespaces, a
// CiliumNetworkPolicy isolating the namespace's pods and an HTTPRoute to
// Service app-i, and returns the number created.
func loadLiveCRDObjects(b *testing.B, ctx context.Context, cfg *rest.Config, nsCount int) int {
	b.Helper()
	dyn := dynamic.NewForConfigOrDie(cfg)
	cnps := dyn.Resource(schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumnetworkpolicies"})
	routes := dyn.Resource(schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"})
	n := 0
	for i := range nsCount {
		ns := fmt.Sprintf("team-%d", i)
		cnp := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": map[string]any{"name": "isolate"},
			"spec": map[string]any{
				"endpointSelector": map[string]any{},
				"ingress":          []any{map[string]any{"fromEndpoints": []any{map[string]any{}}}},
				"egress":           []any{map[string]any{"toEndpoints": []any{map[string]any{}}}},
			},
		}}
		if _, err := cnps.Namespace(ns).Create(ctx, cnp, metav1.CreateOptions{}); err != nil {
			b.Fatalf("create CiliumNetworkPolicy in %s: %v", ns, err)
		}
		route := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": map[string]any{"name": "web"},
			"spec": map[string]any{
				"parentRefs": []any{map[string]any{"name": "public", "namespace": "gateways"}},
				"rules":      []any{map[string]any{"backendRefs": []any{map[string]any{"name": fmt.Sprintf("app-%d", i), "port": int64(80)}}}},
			},
		}}
		if _, err := routes.Namespace(ns).Create(ctx, route, metav1.CreateOptions{}); err != nil {
			b.Fatalf("create HTTPRoute in %s: %v", ns, err)
		}
		n += 2
	}
	return n
}

// pagedListAll is the floor: every kind listed in pages of
// kube.DefaultPageSize, each object visited and discarded, workers kinds
// at a time (1: one after the other, the "plain paged LIST").
func pagedListAll(ctx context.Context, cs kubernetes.Interface, lists []listPage, workers int) (int, error) {
	var n atomic.Int64
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, list := range lists {
		g.Go(func() error {
			p := pager.New(func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
				return list(ctx, cs, opts)
			})
			p.PageSize = kube.DefaultPageSize
			p.FullListIfExpired = false
			if err := p.EachListItem(ctx, metav1.ListOptions{}, func(runtime.Object) error { n.Add(1); return nil }); err != nil {
				return fmt.Errorf("paged list: %w", err)
			}
			return nil
		})
	}
	err := g.Wait()
	return int(n.Load()), err
}

// loadLiveCluster creates deployments Deployments, one Service each,
// 0.45 ConfigMaps per Deployment, and per namespace a Namespace, a Role, a
// RoleBinding and a default-deny NetworkPolicy, over nsCount namespaces,
// with 32 concurrent creates. Half the Deployments are hardened; every
// tenth is privileged. It returns the number of objects created.
func loadLiveCluster(b *testing.B, ctx context.Context, cs kubernetes.Interface, deployments, nsCount int) int {
	b.Helper()
	var created atomic.Int64
	var firstErr error
	var once sync.Once
	fail := func(err error) { once.Do(func() { firstErr = err }) }
	do := func(err error) {
		if err != nil {
			fail(err)
			return
		}
		created.Add(1)
	}
	create := metav1.CreateOptions{}
	for i := range nsCount {
		ns := fmt.Sprintf("team-%d", i)
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: ns, Labels: map[string]string{"pod-security.kubernetes.io/enforce": "baseline"},
		}}, create)
		do(err)
	}
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	jobs := make(chan func() error)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for job := range jobs {
				do(job())
			}
		})
	}
	for i := range nsCount {
		ns := fmt.Sprintf("team-%d", i)
		jobs <- func() error {
			_, err := cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{
				ObjectMeta: metav1.ObjectMeta{Name: "deployer"},
				Rules: []rbacv1.PolicyRule{
					{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "create", "update"}},
					{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}},
				},
			}, create)
			return err
		}
		jobs <- func() error {
			_, err := cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "deployer"},
				RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "deployer"},
				Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "ci", Namespace: ns}},
			}, create)
			return err
		}
		jobs <- func() error {
			_, err := cs.NetworkingV1().NetworkPolicies(ns).Create(ctx, &networkingv1.NetworkPolicy{
				ObjectMeta: metav1.ObjectMeta{Name: "default-deny"},
				Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}},
			}, create)
			return err
		}
	}
	for i := range deployments {
		ns := fmt.Sprintf("team-%d", i%nsCount)
		jobs <- func() error {
			_, err := cs.AppsV1().Deployments(ns).Create(ctx, liveDeployment(i, ns), create)
			return err
		}
		jobs <- func() error {
			_, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%d", i)},
				Spec: corev1.ServiceSpec{
					Type:     corev1.ServiceTypeClusterIP,
					Selector: map[string]string{"app": fmt.Sprintf("app-%d", i)},
					Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}},
				},
			}, create)
			return err
		}
		if i%20 < 9 { // 9 in 20: 1,800 ConfigMaps for 4,000 Deployments
			jobs <- func() error {
				data := map[string]string{"LOG_LEVEL": "info", "FEATURES": "a,b,c"}
				if i%100 == 0 {
					data["DB_PASSWORD"] = "hunter2-" + strconv.Itoa(i) // a secret in a ConfigMap
				}
				_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%d", i)}, Data: data,
				}, create)
				return err
			}
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		b.Fatalf("load the cluster: %v", firstErr)
	}
	return int(created.Load())
}

// liveDeployment is Deployment i of the live benchmark: like the manifests
// of BenchmarkPostureScan, half hardened and half not.
func liveDeployment(i int, ns string) *appsv1.Deployment {
	labels := map[string]string{"app": fmt.Sprintf("app-%d", i), "tier": "web"}
	// The API server refuses privileged with allowPrivilegeEscalation: false
	// (the YAML of BenchmarkPostureScan is not validated), so a privileged
	// container leaves allowPrivilegeEscalation unset.
	sc := &corev1.SecurityContext{}
	switch {
	case i%2 == 0:
		sc.AllowPrivilegeEscalation, sc.RunAsNonRoot, sc.RunAsUser = new(false), new(true), new(int64(10001))
	case i%10 == 1:
		sc.Privileged = new(true)
	default:
		sc.AllowPrivilegeEscalation, sc.Privileged = new(false), new(false)
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%d", i), Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(3)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": labels["app"]}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: fmt.Sprintf("app-%d", i),
					Containers: []corev1.Container{{
						Name:  "app",
						Image: fmt.Sprintf("registry.example.com/%s/app:1.%d.0", ns, i),
						Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
						Env: []corev1.EnvVar{
							{Name: "LOG_LEVEL", Value: "info"},
							{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
								LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password",
							}}},
						},
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
							Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
						},
						LivenessProbe:   &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}}},
						ReadinessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromInt32(8080)}}},
						SecurityContext: sc,
					}},
				},
			},
		},
	}
}

// TestLiveListersCoverLiveKinds runs with the tests, which CI runs and the
// benchmarks are not: a kind added to kube.LiveKinds (or a CRD kind) without
// a floor lister above would otherwise go unseen until someone runs
// BenchmarkPostureLive.
func TestLiveListersCoverLiveKinds(t *testing.T) {
	lists, err := liveListers(dynamicfake.NewSimpleDynamicClient(runtime.NewScheme()))
	if err != nil {
		t.Fatal(err)
	}
	if len(lists) < len(kube.LiveKinds()) {
		t.Fatalf("%d floor listers for %d live kinds", len(lists), len(kube.LiveKinds()))
	}
}
