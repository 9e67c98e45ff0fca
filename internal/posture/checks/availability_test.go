package checks_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

var availabilityIDs = []string{"replicas", "pod-disruption-budget", "pod-spread", "priority-class",
	"restart-policy", "image-pull-policy", "bare-pod", "rollout-strategy"}

// TestAvailabilityChecksPinned: the checks of behaviour version 8 stay out
// of scans pinned to 7.
func TestAvailabilityChecksPinned(t *testing.T) {
	checkPinned(t, availabilityIDs, 8)
}

// checkPinned checks that checks ids are in registries pinned to since or
// later, and only there.
func checkPinned(t *testing.T, ids []string, since posture.Version) {
	t.Helper()
	for _, id := range ids {
		for _, tc := range []struct {
			pin  posture.Version
			want bool
		}{{since - 1, false}, {since, true}, {posture.Latest, true}} {
			reg, err := posture.NewRegistry(checks.All(), tc.pin)
			if err != nil {
				t.Fatal(err)
			}
			if got := reg.Check(id) != nil; got != tc.want {
				t.Errorf("%s pinned to %d: in the registry %v, want %v", id, tc.pin, got, tc.want)
			}
		}
	}
}

// scanDoc runs check id, pinned to pin, on the objects of doc (written to
// a file and scanned as vulngraphScan scans one).
func scanDoc(t *testing.T, id string, pin posture.Version, opts posture.Options, doc string) []finding.Finding {
	t.Helper()
	f := filepath.Join(t.TempDir(), "in.yaml")
	if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return vulngraphScan(t, f, id, pin, opts)
}

// scanAvailability returns "Kind/name evidence…" for each finding of check
// id on doc, sorted.
func scanAvailability(t *testing.T, id string, opts posture.Options, doc string) []string {
	t.Helper()
	var got []string
	for _, f := range scanDoc(t, id, posture.Latest, opts, doc) {
		got = append(got, strings.TrimSpace(f.Resource.Kind+"/"+f.Resource.Name+" "+allEvidence(f)))
	}
	slices.Sort(got)
	return got
}

func deployment(name, spec string) string {
	return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: shop}\nspec:\n" + spec +
		"  selector: {matchLabels: {app: " + name + "}}\n  template:\n    metadata: {labels: {app: " + name + "}}\n    spec:\n      containers: [{name: app, image: registry.example.com/app:1}]\n---\n"
}

func hpa(target, spec string) string {
	return "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: " + target + ", namespace: shop}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: " + target + "}\n" + spec + "---\n"
}

func pdb(name, apiVersion, spec string) string {
	return "apiVersion: " + apiVersion + "\nkind: PodDisruptionBudget\nmetadata: {name: " + name + ", namespace: shop}\nspec:\n  unhealthyPodEvictionPolicy: AlwaysAllow\n" + spec + "---\n"
}

func TestReplicasEdges(t *testing.T) {
	three := posture.Options{Availability: config.Availability{MinReplicas: 3}}
	for _, tc := range []struct {
		name string
		opts posture.Options
		doc  string
		want []string
	}{
		{"two replicas meet the default", posture.Options{}, deployment("web", "  replicas: 2\n"), nil},
		{"two replicas below a minimum of three", three, deployment("web", "  replicas: 2\n"),
			[]string{"Deployment/web problem=too-few-replicas replicas=2 minimum=3"}},
		{"a KEDA ScaledObject drives it", posture.Options{}, deployment("web", "  replicas: 1\n") +
			"apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: web, namespace: shop}\nspec:\n  scaleTargetRef: {name: web}\n", nil},
		{"an HPA in another namespace drives another workload", posture.Options{}, deployment("web", "  replicas: 1\n") +
			"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: other}\nspec:\n  scaleTargetRef: {kind: Deployment, name: web}\n  minReplicas: 2\n  maxReplicas: 4\n",
			[]string{"Deployment/web problem=too-few-replicas replicas=1 minimum=2"}},
		{"an HPA with min and max of one", posture.Options{}, hpa("web", "  minReplicas: 1\n  maxReplicas: 1\n"),
			[]string{"HorizontalPodAutoscaler/web problem=autoscaler-cannot-scale minReplicas=1 maxReplicas=1",
				"HorizontalPodAutoscaler/web problem=autoscaler-min-too-low minReplicas=1 minimum=2"}},
		{"the HPA KEDA made for a ScaledObject", posture.Options{},
			"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: keda-hpa-web\n  namespace: shop\n  ownerReferences: [{apiVersion: keda.sh/v1alpha1, kind: ScaledObject, name: web, uid: 0b6c4d7e-1f2a-4e3b-9c8d-7a6b5c4d3e2f, controller: true}]\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 1\n  maxReplicas: 100\n", nil},
		{"DaemonSets have no replicas", posture.Options{},
			"apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: shop}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec:\n      containers: [{name: a, image: registry.example.com/a:1}]\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, scanAvailability(t, "replicas", tc.opts, tc.doc)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPodDisruptionBudgetEdges(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"90% of 3 rounds up to 3", deployment("web", "  replicas: 3\n") + pdb("web", "policy/v1", "  minAvailable: 90%\n  selector: {matchLabels: {app: web}}\n"),
			[]string{"PodDisruptionBudget/web problem=zero-disruptions field=minAvailable basis=replicas workload=Deployment/web relation=equal"}},
		{"4 of 3 is never met", deployment("web", "  replicas: 3\n") + pdb("web", "policy/v1", "  minAvailable: 4\n  selector: {matchLabels: {app: web}}\n"),
			[]string{"PodDisruptionBudget/web problem=zero-disruptions field=minAvailable basis=replicas workload=Deployment/web relation=greater"}},
		{"60% of 5 leaves two", deployment("web", "  replicas: 5\n") + pdb("web", "policy/v1", "  minAvailable: 60%\n  selector: {matchLabels: {app: web}}\n"), nil},
		{"maxUnavailable 0%", pdb("web", "policy/v1", "  maxUnavailable: 0%\n  selector: {matchLabels: {app: web}}\n"),
			[]string{"PodDisruptionBudget/web problem=zero-disruptions field=maxUnavailable basis=value"}},
		{"maxUnavailable 10% of anything is at least one", deployment("web", "  replicas: 3\n") + pdb("web", "policy/v1", "  maxUnavailable: 10%\n  selector: {matchLabels: {app: web}}\n"), nil},
		{"both set are refused", pdb("web", "policy/v1", "  minAvailable: 1\n  maxUnavailable: 1\n  selector: {matchLabels: {app: web}}\n"),
			[]string{"PodDisruptionBudget/web problem=both-set"}},
		{"policy/v1 empty selector picks every pod", deployment("web", "  replicas: 3\n") + pdb("all", "policy/v1", "  maxUnavailable: 1\n  selector: {}\n"), nil},
		{"policy/v1beta1 empty selector picks none", deployment("web", "  replicas: 3\n") + pdb("all", "policy/v1beta1", "  maxUnavailable: 1\n  selector: {}\n"),
			[]string{"Deployment/web problem=missing replicas=3"}},
		{"a budget with expressions", deployment("web", "  replicas: 3\n") + pdb("web", "policy/v1", "  maxUnavailable: 1\n  selector: {matchExpressions: [{key: app, operator: In, values: [web, api]}]}\n"), nil},
		{"an autoscaler that may grow past one pod", deployment("web", "  replicas: 1\n") + hpa("web", "  minReplicas: 1\n  maxReplicas: 5\n"),
			[]string{"Deployment/web problem=missing replicas=5"}},
		{"a KEDA minimum of zero is judged at one pod", deployment("web", "") +
			"apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: web, namespace: shop}\nspec:\n  scaleTargetRef: {name: web}\n---\n" +
			pdb("web", "policy/v1", "  minAvailable: 1\n  selector: {matchLabels: {app: web}}\n"),
			[]string{"PodDisruptionBudget/web problem=zero-disruptions field=minAvailable basis=autoscaler workload=Deployment/web relation=equal"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, scanAvailability(t, "pod-disruption-budget", posture.Options{}, tc.doc)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPodSpreadEdges(t *testing.T) {
	antiAffinity := func(extra string) string {
		return "  template:\n    metadata: {labels: {app: web}}\n    spec:\n      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n          - topologyKey: kubernetes.io/hostname\n            labelSelector: {matchLabels: {app: web}}\n" + extra +
			"      containers: [{name: app, image: registry.example.com/app:1}]\n"
	}
	doc := func(tpl string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n" + tpl
	}
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"own namespace by default", doc(antiAffinity("")), nil},
		{"an empty namespaceSelector is every namespace", doc(antiAffinity("            namespaceSelector: {}\n")), nil},
		{"the name label of the own namespace", doc(antiAffinity("            namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}\n")), nil},
		{"another namespace only", doc(antiAffinity("            namespaces: [batch]\n")), []string{"Deployment/web problem=no-spread replicas=3"}},
		{"a constraint without a selector selects nothing", doc("  template:\n    metadata: {labels: {app: web}}\n    spec:\n      topologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule}]\n      containers: [{name: app, image: registry.example.com/app:1}]\n"),
			[]string{"Deployment/web problem=no-spread replicas=3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, scanAvailability(t, "pod-spread", posture.Options{}, tc.doc)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPriorityClassAccepted(t *testing.T) {
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  priorityClassName: batch\n  containers: [{name: a, image: registry.example.com/a:1}]\n"
	if got := scanAvailability(t, "priority-class", posture.Options{}, pod); len(got) != 0 {
		t.Errorf("no accepted list: %q, want none", got)
	}
	opts := posture.Options{Availability: config.Availability{PriorityClasses: []string{"business"}}}
	want := []string{"Pod/p problem=not-accepted priorityClassName=batch"}
	if diff := cmp.Diff(want, scanAvailability(t, "priority-class", opts, pod)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestImagePullPolicyDefaults(t *testing.T) {
	for _, tc := range []struct {
		image, policy string
		want          []string
	}{
		{"nginx", "", nil},
		{"nginx:latest", "", nil},
		{"nginx:Latest", "", []string{"Pod/p policy=IfNotPresent reference=tag"}},
		{"nginx:1.27", "", []string{"Pod/p policy=IfNotPresent reference=tag"}},
		{"nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "", nil},
		{"nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "IfNotPresent", nil},
		{"nginx", "IfNotPresent", []string{"Pod/p policy=IfNotPresent reference=latest"}},
		{"registry.example.com:5000/nginx", "Never", []string{"Pod/p policy=Never reference=latest"}},
	} {
		t.Run(tc.image+" "+tc.policy, func(t *testing.T) {
			pol := ""
			if tc.policy != "" {
				pol = ", imagePullPolicy: " + tc.policy
			}
			doc := "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers: [{name: a, image: \"" + tc.image + "\"" + pol + "}]\n"
			if diff := cmp.Diff(tc.want, scanAvailability(t, "image-pull-policy", posture.Options{}, doc)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRestartPolicyJobPod(t *testing.T) {
	pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: migrate-x7k2p\n  namespace: shop\n%s\nspec:\n  restartPolicy: Never\n  containers: [{name: a, image: registry.example.com/a:1}]\n"
	owned := "  ownerReferences: [{apiVersion: batch/v1, kind: Job, name: migrate, uid: 5e0a7c1d-2b3f-4a6e-8d9c-1f2e3d4c5b6a, controller: true}]"
	if got := scanAvailability(t, "restart-policy", posture.Options{}, fmt.Sprintf(pod, owned)); len(got) != 0 {
		t.Errorf("a Job's pod: %q, want none (the Job replaces it)", got)
	}
	want := []string{"Pod/migrate-x7k2p problem=never-restarted restartPolicy=Never"}
	if diff := cmp.Diff(want, scanAvailability(t, "restart-policy", posture.Options{}, fmt.Sprintf(pod, "  labels: {app: migrate}"))); diff != "" {
		t.Errorf("a bare pod (-want +got):\n%s", diff)
	}
}
