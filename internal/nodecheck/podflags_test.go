package nodecheck

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestComponentCommand(t *testing.T) {
	for _, tc := range []struct {
		name      string
		argv      []string
		component string
		args      []string
	}{
		{"binary", []string{"kube-apiserver", "--profiling=false"}, APIServer, []string{"--profiling=false"}},
		{"path", []string{"/usr/local/bin/etcd", "--auto-tls"}, Etcd, []string{"--auto-tls"}},
		{"hyperkube full name", []string{"/hyperkube", "kube-controller-manager", "--profiling"}, ControllerManager, []string{"--profiling"}},
		{"hyperkube short name", []string{"hyperkube", "scheduler"}, Scheduler, []string{}},
		{"hyperkube kubelet", []string{"hyperkube", "kubelet", "--read-only-port=0"}, Kubelet, []string{"--read-only-port=0"}},
		{"hyperkube proxy is not judged", []string{"hyperkube", "proxy"}, "", nil},
		{"short name without hyperkube", []string{"apiserver", "--x"}, "", nil},
		{"other program", []string{"nginx", "-g", "daemon off;"}, "", nil},
		{"flags only", []string{"--profiling=false"}, "", nil},
		{"a flag whose value is a path to a component", []string{"--kubelet-service=kube-system/kubelet", "--x"}, "", nil},
		{"a flag naming a component's binary", []string{"--etcd-binary=/usr/local/bin/etcd"}, "", nil},
		{"empty", nil, "", nil},
		{"kubectl is not the API server", []string{"kubectl", "kube-apiserver"}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, args, ok := ComponentCommand(tc.argv)
			if c != tc.component || ok != (tc.component != "") {
				t.Fatalf("component %q ok %v, want %q", c, ok, tc.component)
			}
			if ok && !slices.Equal(args, tc.args) {
				t.Errorf("args %q, want %q", args, tc.args)
			}
		})
	}
}

// TestNeedsHost evaluates every check of every component on a node with no
// files, the component's flags naming files everywhere: a check left to
// posture must never reach for a file, and a check kept for the host must
// (else it belongs to posture too).
func TestNeedsHost(t *testing.T) {
	n := &Node{root: t.TempDir(), Components: map[string]*Component{}}
	files := ParseArgs([]string{
		"--encryption-provider-config=/etc/kubernetes/enc/enc.yaml", "--config=/var/lib/kubelet/config.yaml",
		"--kubeconfig=/etc/kubernetes/kubelet.conf", "--client-ca-file=/etc/kubernetes/pki/ca.crt",
		"--data-dir=/var/lib/etcd",
	})
	for _, ch := range All() {
		if ch.Component == ControlPlane {
			continue
		}
		c := &Component{Name: ch.Component, Flags: files, ConfigFile: "/var/lib/kubelet/config.yaml", Config: map[string]any{}}
		rs := ch.Eval(t.Context(), n, c)
		touched := len(rs) == 0 // files that do not exist give no result
		for _, r := range rs {
			touched = touched || r.Err != nil || r.File != "" || r.NotApplicable
		}
		if touched != needsHost(ch) {
			t.Errorf("%s: reads files %v, needsHost %v", ch.ID, touched, needsHost(ch))
		}
	}
}

func failing(rs []FlagResult) []string {
	var out []string
	for _, r := range rs {
		if !r.Pass {
			out = append(out, r.Check.ID+" "+r.Flag)
		}
	}
	return out
}

func TestEvalFlags(t *testing.T) {
	hardenedAPIServer := []string{
		"--anonymous-auth=false", "--kubelet-client-certificate=/pki/kc.crt", "--kubelet-client-key=/pki/kc.key",
		"--kubelet-certificate-authority=/pki/ca.crt", "--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=NodeRestriction,DenyServiceExternalIPs,EventRateLimit,AlwaysPullImages", "--profiling=false", "--audit-log-path=/var/log/audit.log",
		"--audit-log-maxage=30", "--audit-log-maxbackup=10", "--audit-log-maxsize=100",
		"--service-account-key-file=/pki/sa.pub", "--etcd-certfile=/pki/etcd.crt", "--etcd-keyfile=/pki/etcd.key",
		"--tls-cert-file=/pki/tls.crt", "--tls-private-key-file=/pki/tls.key", "--client-ca-file=/pki/ca.crt",
		"--etcd-cafile=/pki/etcd-ca.crt", "--encryption-provider-config=/etc/enc.yaml",
		"--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	}
	for _, tc := range []struct {
		name      string
		component string
		args      []string
		want      []string
	}{
		{"hardened API server", APIServer, hardenedAPIServer, nil},
		{"hardened API server, profiling on by separate value", APIServer, append(slices.Clone(hardenedAPIServer), "--profiling", "true"),
			[]string{"node/apiserver-profiling profiling"}},
		{"API server with nothing set", APIServer, nil, []string{
			"node/apiserver-anonymous-auth anonymous-auth",
			"node/apiserver-kubelet-client-cert kubelet-client-certificate", "node/apiserver-kubelet-client-cert kubelet-client-key",
			"node/apiserver-kubelet-ca kubelet-certificate-authority",
			"node/apiserver-authz-not-always-allow authorization-mode", "node/apiserver-authz-node authorization-mode",
			"node/apiserver-authz-rbac authorization-mode", "node/apiserver-node-restriction enable-admission-plugins",
			"node/apiserver-profiling profiling", "node/apiserver-audit-log-path audit-log-path",
			"node/apiserver-audit-log-maxage audit-log-maxage", "node/apiserver-audit-log-maxbackup audit-log-maxbackup",
			"node/apiserver-audit-log-maxsize audit-log-maxsize", "node/apiserver-service-account-key-file service-account-key-file",
			"node/apiserver-etcd-client-cert etcd-certfile", "node/apiserver-etcd-client-cert etcd-keyfile",
			"node/apiserver-tls-cert tls-cert-file", "node/apiserver-tls-cert tls-private-key-file",
			"node/apiserver-client-ca client-ca-file", "node/apiserver-etcd-ca etcd-cafile",
			"node/apiserver-encryption-config encryption-provider-config", "node/apiserver-tls-ciphers tls-cipher-suites",
			"node/apiserver-deny-service-external-ips enable-admission-plugins", "node/apiserver-event-rate-limit enable-admission-plugins",
			"node/apiserver-always-pull-images enable-admission-plugins",
		}},
		{"API server with the Manual plugins given over two flags", APIServer, append(slices.Clone(hardenedAPIServer)[:5:5],
			append([]string{"--enable-admission-plugins=NodeRestriction,EventRateLimit", "--enable-admission-plugins=AlwaysPullImages"}, hardenedAPIServer[6:]...)...),
			[]string{"node/apiserver-deny-service-external-ips enable-admission-plugins"}},
		{"etcd with TLS everywhere", Etcd, []string{"--cert-file=/a", "--key-file=/b", "--client-cert-auth=true", "--peer-cert-file=/c", "--peer-key-file=/d", "--peer-client-cert-auth=true"}, nil},
		{"etcd auto TLS", Etcd, []string{"--cert-file=/a", "--key-file=/b", "--client-cert-auth", "--auto-tls", "--peer-cert-file=/c", "--peer-key-file=/d", "--peer-client-cert-auth"},
			[]string{"node/etcd-auto-tls auto-tls"}},
		{"scheduler bound to all interfaces", Scheduler, []string{"--profiling=false", "--bind-address=0.0.0.0"}, []string{"node/scheduler-bind-address bind-address"}},
		{"controller manager feature gate off", ControllerManager, []string{
			"--terminated-pod-gc-threshold=10", "--profiling=false", "--use-service-account-credentials=true",
			"--service-account-private-key-file=/sa.key", "--root-ca-file=/ca.crt", "--bind-address=127.0.0.1",
			"--feature-gates=RotateKubeletServerCertificate=false",
		}, []string{"node/controller-manager-rotate-server-cert "}},
		{"controller manager pod GC switched off", ControllerManager, []string{
			"--terminated-pod-gc-threshold=0", "--profiling=false", "--use-service-account-credentials=true",
			"--service-account-private-key-file=/sa.key", "--root-ca-file=/ca.crt", "--bind-address=127.0.0.1",
		}, []string{"node/controller-manager-pod-gc terminated-pod-gc-threshold"}},
		{"controller manager pod GC negative", ControllerManager, []string{"--terminated-pod-gc-threshold=-1"},
			[]string{"node/controller-manager-pod-gc terminated-pod-gc-threshold", "node/controller-manager-profiling profiling",
				"node/controller-manager-sa-credentials use-service-account-credentials", "node/controller-manager-sa-key service-account-private-key-file",
				"node/controller-manager-root-ca root-ca-file", "node/controller-manager-bind-address bind-address"}},
		{"kubelet without config file: flag defaults", Kubelet, []string{"--anonymous-auth=false"}, []string{
			"node/kubelet-authz-mode authorization-mode", "node/kubelet-client-ca client-ca-file",
			"node/kubelet-read-only-port read-only-port", "node/kubelet-tls-cert tls-cert-file",
			"node/kubelet-tls-cert tls-private-key-file", "node/kubelet-tls-ciphers tls-cipher-suites",
			"node/kubelet-protect-kernel-defaults protect-kernel-defaults",
		}},
		{"kubelet with config file: only what flags say", Kubelet, []string{"--config=/var/lib/kubelet/config.yaml", "--anonymous-auth=true", "--read-only-port=0"},
			[]string{"node/kubelet-anonymous-auth anonymous-auth"}},
		{"not a component", "nginx", []string{"--profiling=true"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := failing(EvalFlags(t.Context(), All(), tc.component, tc.args))
			sort.Strings(got)
			want := slices.Clone(tc.want)
			sort.Strings(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("failing rules (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEvalFlagsMatchesNodeScan runs the node scan over the fake nodes and
// EvalFlags over the command lines the scan found: every flag check must
// give the same verdicts on both paths.
func TestEvalFlagsMatchesNodeScan(t *testing.T) {
	for _, name := range []string{"hardened", "weak"} {
		t.Run(name, func(t *testing.T) {
			root := materialize(t, name)
			out, err := Run(t.Context(), All(), Options{Root: root, RootOwner: me(), EtcdOwner: me()})
			if err != nil {
				t.Fatal(err)
			}
			scan := map[string]bool{}
			for _, f := range out.Findings {
				for _, e := range f.Evidence {
					if e.Name == "setting" {
						scan[f.RuleID+" "+e.Value] = true
					}
				}
			}
			compared := 0
			for _, c := range out.Node.Components {
				var args []string
				for _, n := range c.Flags.Names() {
					for _, v := range c.Flags.values[n] {
						args = append(args, "--"+n+"="+v)
					}
				}
				for _, r := range EvalFlags(t.Context(), All(), c.Name, args) {
					compared++
					k := r.Check.ID + " " + r.Setting
					if scan[k] == r.Pass {
						t.Errorf("%s: %s: node scan fails it %v, EvalFlags passes it %v (%s)", c.Name, k, scan[k], r.Pass, r.Message)
					}
					delete(scan, k)
				}
				if c.Name == Kubelet && c.ConfigFile != "" {
					continue // the scan judges the config file too
				}
				for k := range scan {
					for _, ch := range FlagChecks(All(), c.Name) {
						if k == ch.ID || len(k) > len(ch.ID) && k[:len(ch.ID)+1] == ch.ID+" " {
							t.Errorf("%s: node scan fails %s, EvalFlags does not", c.Name, k)
						}
					}
				}
			}
			if compared == 0 {
				t.Fatal("no component compared")
			}
		})
	}
}

func FuzzEvalFlags(f *testing.F) {
	f.Add("kube-apiserver\x00--profiling\x00--authorization-mode=AlwaysAllow,,\x00--feature-gates=A=")
	f.Add("hyperkube\x00kubelet\x00--config\x00--read-only-port=x\x00--tls-cipher-suites=,")
	f.Add("etcd\x00--\x00--auto-tls=maybe")
	f.Fuzz(func(t *testing.T, cmdline string) {
		c, args, ok := ComponentCommand(strings.Split(cmdline, "\x00"))
		if !ok {
			return
		}
		for _, r := range EvalFlags(t.Context(), All(), c, args) {
			if !r.Pass && r.Message == "" {
				t.Fatalf("%s fails without a message", r.Check.ID)
			}
		}
	})
}
