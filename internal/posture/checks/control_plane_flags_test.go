package checks

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/nodecheck"
	"github.com/palisade-sec/palisade/internal/posture"
)

// TestControlPlaneFlagsRules fails when internal/nodecheck gains or loses a
// flag rule: control-plane-flags would report differently, so the change
// needs a new Versioned listing the rules (pinned scans keep the older
// versions).
func TestControlPlaneFlagsRules(t *testing.T) {
	flagRules := func(checks []nodecheck.Check) []string {
		var rules []string
		for _, comp := range []string{nodecheck.APIServer, nodecheck.ControllerManager, nodecheck.Scheduler, nodecheck.Etcd, nodecheck.Kubelet} {
			for _, ch := range nodecheck.FlagChecks(checks, comp) {
				rules = append(rules, ch.ID)
			}
		}
		return rules
	}
	if diff := cmp.Diff(flagRules(nodecheck.All()), controlPlaneFlagRules()); diff != "" {
		t.Errorf("nodecheck flag rules changed (-nodecheck +control-plane-flags v4): add a Versioned to ControlPlaneFlags\n%s", diff)
	}
}

func TestControlPlaneComponent(t *testing.T) {
	for _, tc := range []struct {
		name       string
		labels     map[string]string
		containers []corev1.Container
		component  string // of the first container
		args       []string
	}{
		{"command", nil, []corev1.Container{{Name: "x", Command: []string{"/usr/local/bin/kube-scheduler"}, Args: []string{"--profiling=false"}}},
			nodecheck.Scheduler, []string{"--profiling=false"}},
		{"args only, labelled pod", map[string]string{"component": "kube-apiserver"}, []corev1.Container{{Name: "kube-apiserver", Args: []string{"--a=1"}}},
			nodecheck.APIServer, []string{"--a=1"}},
		{"args only, labelled pod with one container", map[string]string{"component": "etcd"}, []corev1.Container{{Name: "main", Args: []string{"--a=1"}}},
			nodecheck.Etcd, []string{"--a=1"}},
		{"args only, labelled pod, sidecar", map[string]string{"component": "etcd"}, []corev1.Container{{Name: "backup", Image: "example.com/backup:1", Args: []string{"--a=1"}}, {Name: "etcd"}},
			"", nil},
		{"labelled pod, no command line", map[string]string{"component": "etcd"}, []corev1.Container{{Name: "etcd", Image: "example.com/etcd-wrapper:1"}}, "", nil},
		{"unknown label", map[string]string{"component": "kube-proxy"}, []corev1.Container{{Name: "kube-proxy", Args: []string{"--a=1"}}}, "", nil},
		{"args only, image", nil, []corev1.Container{{Name: "db", Image: "gcr.io/google_containers/kube-apiserver-amd64:v1.6.0@sha256:00", Args: []string{"--a=1"}}},
			nodecheck.APIServer, []string{"--a=1"}},
		{"image but no args: defaults of an unknown entrypoint are not judged", nil, []corev1.Container{{Name: "db", Image: "quay.io/coreos/etcd:v3.5.15"}}, "", nil},
		{"image with another program", nil, []corev1.Container{{Name: "db", Image: "quay.io/coreos/etcd:v3.5.15", Command: []string{"etcdctl", "get"}}}, "", nil},
		{"registry port is not a tag", nil, []corev1.Container{{Name: "db", Image: "localhost:5000/etcd", Args: []string{"--a"}}}, nodecheck.Etcd, []string{"--a"}},
		{"a first flag whose value ends in a component's name", nil, []corev1.Container{{Name: "op", Image: "quay.io/prometheus-operator/prometheus-operator:v0.93.1",
			Args: []string{"--kubelet-service=kube-system/kubelet", "--kubelet-endpoints=true"}}}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &kube.Workload{PodMeta: metav1.ObjectMeta{Labels: tc.labels}, PodSpec: &corev1.PodSpec{Containers: tc.containers}}
			comp, args := controlPlaneComponent(w, &w.PodSpec.Containers[0], false)
			if comp != tc.component || !slices.Equal(args, tc.args) {
				t.Errorf("got %q %q, want %q %q", comp, args, tc.component, tc.args)
			}
		})
	}
	// Versions 4–11 took that flag for the kubelet; pinned scans still do.
	w := &kube.Workload{PodSpec: &corev1.PodSpec{Containers: []corev1.Container{{Args: []string{"--kubelet-service=kube-system/kubelet", "--x"}}}}}
	if comp, args := controlPlaneComponent(w, &w.PodSpec.Containers[0], true); comp != nodecheck.Kubelet || !slices.Equal(args, []string{"--x"}) {
		t.Errorf("flagAsProgram: got %q %q, want the kubelet as before version 12", comp, args)
	}
}

func TestEtcdEnvFlags(t *testing.T) {
	env := []corev1.EnvVar{
		{Name: "ETCD_CLIENT_CERT_AUTH", Value: "true"},
		{Name: "ETCD_PEER_KEY_FILE", Value: "/k"},
		{Name: "ETCD_AUTO_TLS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "ETCD_", Value: "x"},
		{Name: "ETCDCTL_API", Value: "3"},
		{Name: "GOMAXPROCS", Value: "2"},
	}
	want := []string{"--client-cert-auth=true", "--peer-key-file=/k"}
	if got := etcdEnvFlags(env); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func FuzzControlPlaneImage(f *testing.F) {
	for _, s := range []string{"registry.k8s.io/etcd:3.5.15-0", "localhost:5000/kube-apiserver-amd64@sha256:ab", ":", "/", "@", "a:b/c:d@e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, image string) {
		if c := controlPlaneImage(image); c != "" && !nodecheck.IsComponent(c) {
			t.Fatalf("%q: component %q", image, c)
		}
	})
}

// TestControlPlaneFlagsPinned: the check is new in version 4, so scans
// pinned to versions 1–3 do not report it.
func TestControlPlaneFlagsPinned(t *testing.T) {
	for _, tc := range []struct {
		fixture  string
		v3, v4   int // findings
		v4RuleID string
	}{
		{"testdata/control_plane_flags/fail/controller_manager_gc_off.yaml", 0, 1, "node/controller-manager-pod-gc"},
		{"testdata/control_plane_flags/fail/manual_admission_plugins.yaml", 0, 3, "node/apiserver-event-rate-limit"},
		{"testdata/control_plane_flags/fail/kubeadm_apiserver.yaml", 0, 12, "node/apiserver-always-pull-images"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			inv, err := kube.Load(t.Context(), []string{tc.fixture}, nil, kube.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []struct {
				pin  posture.Version
				want int
			}{{1, tc.v3}, {3, tc.v3}, {4, tc.v4}, {posture.Latest, tc.v4}} {
				reg, err := posture.NewRegistry(All(), p.pin)
				if err != nil {
					t.Fatal(err)
				}
				out, err := posture.NewScanner(reg.Only("control-plane-flags"), nil).Scan(t.Context(), inv, posture.Options{})
				if err != nil {
					t.Fatal(err)
				}
				rules := map[string]bool{}
				for _, f := range out.Findings {
					for _, e := range f.Evidence {
						if e.Name == "rule" {
							rules[e.Value] = true
						}
					}
				}
				if len(out.Findings) != p.want || rules[tc.v4RuleID] != (p.pin == 4 || p.pin == posture.Latest) {
					t.Errorf("pinned to %d: %d findings (rules %v), want %d", p.pin, len(out.Findings), rules, p.want)
				}
			}
		})
	}
}

// TestControlPlaneFlagsCiphers: from version 11 the API server's cipher
// suites are judged by CIS v1.10's list (ECDHE AES-CBC-SHA accepted; 3DES,
// RSA key exchange and CBC-SHA256 not); scans pinned to 4–10 keep AEAD only.
func TestControlPlaneFlagsCiphers(t *testing.T) {
	const (
		aead    = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,TLS_AES_128_GCM_SHA256"
		cbcSHA  = aead + ",TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"
		rsaGCM  = aead + ",TLS_RSA_WITH_AES_128_GCM_SHA256"
		threeDE = cbcSHA + ",TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"
		sha256  = aead + ",TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"
	)
	for _, tc := range []struct {
		name, suites string
		v10, latest  bool // reported
	}{
		{"AEAD only", aead, false, false},
		{"ECDHE AES-CBC-SHA (CIS v1.10 list)", cbcSHA, true, false},
		{"RSA key exchange", rsaGCM, false, true},
		{"3DES", threeDE, true, true},
		{"CBC-SHA256", sha256, true, true},
		{"unset", "", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flag := ""
			if tc.suites != "" {
				flag = ", '--tls-cipher-suites=" + tc.suites + "'"
			}
			doc := "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver-cp1, namespace: kube-system, labels: {component: kube-apiserver}}\n" +
				"spec:\n  containers: [{name: kube-apiserver, image: registry.k8s.io/kube-apiserver:v1.37.0, command: [kube-apiserver" + flag + "]}]\n"
			for _, p := range []struct {
				pin  posture.Version
				want bool
			}{{4, tc.v10}, {10, tc.v10}, {11, tc.latest}, {posture.Latest, tc.latest}} {
				got := false
				for _, f := range scanDoc(t, ControlPlaneFlags(), p.pin, doc) {
					got = got || slices.Contains(f.Evidence, finding.Evidence{Name: "rule", Value: "node/apiserver-tls-ciphers", Key: true})
				}
				if got != p.want {
					t.Errorf("pinned to %d: cipher suites reported %v, want %v", p.pin, got, p.want)
				}
			}
		})
	}
}
