package checks_test

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/nodecheck"
)

// TestControlPlaneFlagsMatchNodeScan starts a real kube-apiserver and
// etcd, stores each one's real command line (/proc/<pid>/cmdline) into
// that API server as the mirror pod a kubeadm node would show, scans the
// cluster live, and checks that control-plane-flags reports exactly the
// flag rules the node scan of the same processes fails.
func TestControlPlaneFlagsMatchNodeScan(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{
		AnonymousAuth:       true,
		ExtraAPIServerFlags: []string{"--enable-admission-plugins=NodeRestriction", "--profiling=false"},
	})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)

	node, err := nodecheck.Run(ctx, nodecheck.All(), nodecheck.Options{Root: "/", PIDs: c.PIDs()})
	if err != nil {
		t.Fatal(err)
	}
	flagRules := map[string]bool{}
	for _, comp := range []string{nodecheck.APIServer, nodecheck.Etcd} {
		for _, ch := range nodecheck.FlagChecks(nodecheck.All(), comp) {
			flagRules[ch.ID] = true
		}
	}
	var want []string
	for _, f := range node.Findings {
		if flagRules[f.RuleID] {
			want = append(want, f.Resource.Container+" "+f.RuleID+" "+evidence(f, "setting"))
		}
	}

	pods := 0
	for _, pid := range c.PIDs() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			t.Fatal(err)
		}
		argv := strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00")
		comp := path.Base(argv[0])
		if comp != nodecheck.APIServer && comp != nodecheck.Etcd {
			continue
		}
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: comp + "-cp1", Namespace: "kube-system",
				Labels: map[string]string{"component": comp, "tier": "control-plane"}},
			Spec: corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{
				Name: comp, Image: "registry.k8s.io/" + comp + ":lab", Command: argv,
			}}},
		}
		if _, err := cs.CoreV1().Pods("kube-system").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s pod: %v", comp, err)
		}
		pods++
	}
	if pods != 2 {
		t.Fatalf("stored %d component pods, want the API server and etcd (pids %v)", pods, c.PIDs())
	}

	out := scanLive(t, c.Config, "control-plane-flags")
	var got []string
	for _, f := range out.Findings {
		if f.Resource.Kind != "Pod" || f.Resource.Namespace != "kube-system" || f.Resource.Cluster != "lab" {
			t.Errorf("finding on %+v", f.Resource)
		}
		if !strings.Contains(f.Message, "CIS "+evidence(f, "cis")) || !strings.Contains(f.Message, f.Resource.Name) {
			t.Errorf("message names no pod or CIS number: %s", f.Message)
		}
		got = append(got, f.Resource.Container+" "+evidence(f, "rule")+" "+evidence(f, "setting"))
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("posture vs node scan of the same processes (-node +posture):\n%s", diff)
	}
	// The lab's known weaknesses are among them, and its hardening is not.
	for _, rule := range []string{"node/apiserver-anonymous-auth", "node/apiserver-token-auth-file", "node/etcd-client-cert-auth"} {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, " "+rule+" ") }) {
			t.Errorf("no %s finding: %q", rule, got)
		}
	}
	for _, rule := range []string{"node/apiserver-profiling", "node/apiserver-node-restriction"} {
		if slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, " "+rule+" ") }) {
			t.Errorf("%s reported though the lab sets it", rule)
		}
	}
}

func evidence(f finding.Finding, name string) string {
	for _, e := range f.Evidence {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}
