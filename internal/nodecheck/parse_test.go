package nodecheck

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want map[string]string // flag -> Get value; "<unset>" for absent
	}{
		{"equals", []string{"--profiling=false", "--x=a=b"}, map[string]string{"profiling": "false", "x": "a=b"}},
		{"separate value", []string{"--audit-log-path", "/var/log/a.log"}, map[string]string{"audit-log-path": "/var/log/a.log"}},
		{"bare bool keeps next positional", []string{"--anonymous-auth", "extra"}, map[string]string{"anonymous-auth": "true"}},
		{"last wins", []string{"--profiling=true", "--profiling=false"}, map[string]string{"profiling": "false"}},
		{"single dash", []string{"-v=2"}, map[string]string{"v": "2"}},
		{"double dash ends flags", []string{"--a=1", "--", "--b=2"}, map[string]string{"a": "1", "b": "<unset>"}},
		{"unknown bare flag before flag", []string{"--token-auth-file", "--profiling=false"}, map[string]string{"token-auth-file": "true", "profiling": "false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := ParseArgs(tc.args)
			for k, want := range tc.want {
				got, ok := f.Get(k)
				if !ok {
					got = "<unset>"
				}
				if got != want {
					t.Errorf("--%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestFlagsList(t *testing.T) {
	f := ParseArgs([]string{"--enable-admission-plugins=NodeRestriction, EventRateLimit", "--enable-admission-plugins=AlwaysPullImages", "--feature-gates=A=true,RotateKubeletServerCertificate=false"})
	if diff := cmp.Diff([]string{"NodeRestriction", "EventRateLimit", "AlwaysPullImages"}, f.List("enable-admission-plugins")); diff != "" {
		t.Error(diff)
	}
	if v, ok := featureGate(f.List("feature-gates"), "RotateKubeletServerCertificate"); !ok || v != "false" {
		t.Errorf("feature gate = %q, %v", v, ok)
	}
}

func TestParseCmdline(t *testing.T) {
	prog, f := ParseCmdline([]byte("/usr/local/bin/kube-apiserver\x00--anonymous-auth=false\x00--etcd-servers\x00http://127.0.0.1:2379\x00"))
	if prog != "kube-apiserver" {
		t.Errorf("program %q", prog)
	}
	if v, _ := f.Get("etcd-servers"); v != "http://127.0.0.1:2379" {
		t.Errorf("etcd-servers %q", v)
	}
	if prog, _ := ParseCmdline(nil); prog != "" {
		t.Errorf("empty cmdline gave program %q", prog)
	}
}

func TestUnit(t *testing.T) {
	var u unit
	u.parse([]byte("[Service]\nEnvironment=\"A=--kubeconfig=/k.conf --anonymous-auth=false\" B=--x=1\nExecStart=/usr/bin/kubelet --old\nExecStart=\nExecStart=/usr/bin/kubelet $A ${B} \\\n  --read-only-port=0 $UNSET\n"))
	u.parseEnvFile([]byte("# comment\nC=\"--c=3\"\n"))
	f := u.flags()
	for k, want := range map[string]string{"kubeconfig": "/k.conf", "anonymous-auth": "false", "x": "1", "read-only-port": "0"} {
		if got, _ := f.Get(k); got != want {
			t.Errorf("--%s = %q, want %q", k, got, want)
		}
	}
	if _, ok := f.Get("old"); ok {
		t.Error("a reset ExecStart= kept the old command")
	}
	if u.env["C"] != "--c=3" {
		t.Errorf("env file C = %q", u.env["C"])
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		parse func([]byte) error
		in    string
		want  string
	}{
		{"pod not yaml", func(b []byte) error { _, _, err := ParseStaticPod(b); return err }, "spec: [", "parse static pod"},
		{"pod wrong kind", func(b []byte) error { _, _, err := ParseStaticPod(b); return err }, "kind: Deployment\n", "not Pod"},
		{"pod no containers", func(b []byte) error { _, _, err := ParseStaticPod(b); return err }, "kind: Pod\nspec: {}\n", "no containers"},
		{"kubelet wrong kind", func(b []byte) error { _, err := ParseKubeletConfig(b); return err }, "kind: Pod\n", "not KubeletConfiguration"},
		{"kubelet list", func(b []byte) error { _, err := ParseKubeletConfig(b); return err }, "- a\n", "parse kubelet config"},
		{"encryption wrong kind", func(b []byte) error { _, err := EncryptionProviders(b); return err }, "kind: Pod\n", "not EncryptionConfiguration"},
		{"encryption no providers", func(b []byte) error { _, err := EncryptionProviders(b); return err }, "kind: EncryptionConfiguration\nresources: [{resources: [secrets]}]\n", "no providers"},
		{"encryption two in one", func(b []byte) error { _, err := EncryptionProviders(b); return err }, "kind: EncryptionConfiguration\nresources: [{resources: [secrets], providers: [{aescbc: {}, identity: {}}]}]\n", "want 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.parse([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestBrokenInputIsPartial: a file that exists but cannot be parsed is an
// error in the output, not a silent pass and not a failed run.
func TestBrokenInputIsPartial(t *testing.T) {
	root := materialize(t, "hardened")
	if err := os.WriteFile(filepath.Join(root, "var/lib/kubelet/config.yaml"), []byte("kind: KubeletConfiguration\nauthentication: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/kubernetes/enc/encryption.yaml"), []byte("kind: Secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := Run(t.Context(), All(), Options{Root: root, RootOwner: me(), EtcdOwner: me()})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range out.Errors {
		msgs = append(msgs, e.Error())
	}
	got := strings.Join(msgs, "\n")
	for _, want := range []string{"/var/lib/kubelet/config.yaml: parse kubelet config", "check node/apiserver-encryption-providers: /etc/kubernetes/enc/encryption.yaml: parse encryption configuration"} {
		if !strings.Contains(got, want) {
			t.Errorf("errors %q lack %q", got, want)
		}
	}
}

func TestEtcdOwnerFromPasswd(t *testing.T) {
	root := materialize(t, "hardened")
	uid, gid := os.Getuid(), os.Getgid()
	write := func(p, s string) {
		if err := os.WriteFile(filepath.Join(root, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\netcd:x:"+itoa(uid+7)+":"+itoa(gid+7)+"::/var/lib/etcd:/sbin/nologin\n")
	write("etc/group", "root:x:0:\netcd:x:"+itoa(gid+7)+":\n")
	out, err := Run(t.Context(), All(), Options{Root: root, RootOwner: me()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range out.Findings {
		got = append(got, f.RuleID+": "+f.Message)
	}
	want := []string{"node/etcd-data-dir-owner: /var/lib/etcd is owned by " + me().String() + ", not etcd:etcd (" + itoa(uid+7) + ":" + itoa(gid+7) + ")"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

func TestExplicitPID(t *testing.T) {
	root := materialize(t, "weak")
	out, err := Run(t.Context(), All(), Options{Root: root, PIDs: []int{77}, RootOwner: me()})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Node.Components) != 1 || out.Node.Components[Etcd] == nil {
		t.Fatalf("components %v, want etcd only", out.Node.Components)
	}
	if _, err := Run(t.Context(), All(), Options{Root: root, PIDs: []int{99999}}); err == nil || !strings.Contains(err.Error(), "pid 99999") {
		t.Errorf("missing pid: error %v", err)
	}
	if err := os.WriteFile(filepath.Join(root, "proc/77/cmdline"), []byte("/bin/bash\x00-l\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(t.Context(), All(), Options{Root: root, PIDs: []int{77}}); err == nil || !strings.Contains(err.Error(), `runs "bash"`) {
		t.Errorf("non-Kubernetes pid: error %v", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
