package checks_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

var workloadGapIDs = []string{"sudo-in-entrypoint", "git-sync-exec", "kube-system-workload"}

// TestWorkloadGapsPinned checks that the three checks new in behaviour
// version 5 stay out of scans pinned to 4.
func TestWorkloadGapsPinned(t *testing.T) {
	for _, id := range workloadGapIDs {
		for _, tc := range []struct {
			pin  posture.Version
			want bool
		}{{4, false}, {5, true}, {posture.Latest, true}} {
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

// TestGitSyncEvidence checks which setting each git-sync finding names, the
// evidence the Checkov mapping (setting=git) narrows on.
func TestGitSyncEvidence(t *testing.T) {
	const pod = `apiVersion: v1
kind: Pod
metadata: {name: sync, namespace: docs}
spec:
  containers:
  - name: sync
    image: registry.k8s.io/git-sync/git-sync:v4.4.0
    args: ["-git=/repo/tools/git", "--git-config", "credential.helper:!cat /keys/token"]
    env:
    - {name: GITSYNC_PRE_PUBLISH_EXECHOOK_COMMAND, value: /bin/make}
`
	got := scanYAML(t, "git-sync-exec", posture.Latest, pod)
	want := [][]string{
		{"setting=git", "source=-git", "value=/repo/tools/git"},
		{"setting=exechook", "source=env GITSYNC_PRE_PUBLISH_EXECHOOK_COMMAND", "value=/bin/make"},
		{"keys=credential.helper", "setting=git-config", "source=--git-config"},
	}
	slices.SortFunc(got, func(a, b []string) int { return strings.Compare(strings.Join(a, " "), strings.Join(b, " ")) })
	slices.SortFunc(want, func(a, b []string) int { return strings.Compare(strings.Join(a, " "), strings.Join(b, " ")) })
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("evidence (-want +got):\n%s", d)
	}
}

// TestWorkloadGapsLive creates the fixtures of the three checks in a real
// kube-apiserver — the kube-system ones in kube-system itself, where the
// server must accept the system priority classes and a mirror pod's
// annotation — and checks that a live scan of what the server stored finds
// what the manifests do. It then attaches an ephemeral container that runs
// sudo, which a Pod can only get through its ephemeralcontainers
// subresource, and checks that the live scan reports it.
func TestWorkloadGapsLive(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	lf := newLiveFixtures(t, c.Config)
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	sc := posture.NewScanner(reg.Only(workloadGapIDs...), nil)
	// The API server creates kube-system itself, shortly after start.
	waitFor(t, func() bool {
		_, err := lf.cs.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
		return err == nil
	})
	lf.namespaces["kube-system"] = true
	lf.addFixtures(workloadGapIDs, "kube-system")
	lf.matchLive(sc, c.Config, workloadGapIDs)

	// An ephemeral debug container that runs sudo.
	const ns = "debugging"
	if _, err := lf.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "api"}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "api", Image: "registry.example.com/shop/api:1.4.2"}}}}
	pod, err = lf.cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Spec.EphemeralContainers = append(pod.Spec.EphemeralContainers, corev1.EphemeralContainer{
		EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name: "debugger", Image: "registry.example.com/tools/debug:1.0.0",
			Command: []string{"sh", "-c", "sudo apk add strace && strace -p 1"},
		},
		TargetContainerName: "api",
	})
	if _, err := lf.cs.CoreV1().Pods(ns).UpdateEphemeralContainers(ctx, "api", pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	// A Pod at system-node-critical in kube-system: the Priority admission
	// plugin resolves the built-in class, which every cluster has.
	agent := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "node-agent"}, Spec: corev1.PodSpec{
		PriorityClassName: "system-node-critical",
		Containers:        []corev1.Container{{Name: "agent", Image: "registry.example.com/system/agent:1.0.0"}}}}
	agent, err = lf.cs.CoreV1().Pods("kube-system").Create(ctx, agent, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if agent.Spec.Priority == nil || *agent.Spec.Priority != 2000001000 {
		t.Errorf("system-node-critical pod stored with priority %v, want 2000001000", agent.Spec.Priority)
	}

	live, missing, err := kube.ListCluster(ctx, c.Config, "lab", 0)
	if err != nil || len(missing) > 0 {
		t.Fatalf("list cluster: %v %v", err, missing)
	}
	got := scanVerdicts(t, sc, live, map[string]bool{ns: true})
	if w := []string{posture.RulePrefix + "sudo-in-entrypoint Pod/" + ns + "/api debugger"}; !slices.Equal(got, w) {
		t.Errorf("ephemeral container findings %q, want %q", got, w)
	}
	for _, v := range scanVerdicts(t, sc, live, map[string]bool{"kube-system": true}) {
		if strings.Contains(v, "/node-agent ") {
			t.Errorf("system-critical pod reported: %s", v)
		}
	}
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 300 {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("condition not met within 30s")
}
