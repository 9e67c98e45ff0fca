package nodecheck

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// verdicts runs every check on collector output and returns, by check ID,
// "fail", "pass" or "not evaluated" (a check with any finding fails; with
// a passing result and no finding passes; with only missing facts is not
// evaluated). Checks that do not apply are absent.
func verdicts(t *testing.T, inputs ...string) map[string]string {
	t.Helper()
	var in []Input
	for i, s := range inputs {
		in = append(in, Input{Name: fmt.Sprintf("in%d.json", i), Data: []byte(s)})
	}
	out, err := RunFacts(t.Context(), All(), in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, ne := range out.NotEvaluated {
		got[ne.CheckID] = "not evaluated"
	}
	for _, r := range out.Coverage.Rules {
		got[r.RuleID] = "pass"
	}
	for _, f := range out.Findings {
		got[f.RuleID] = "fail"
	}
	return got
}

// compareVerdicts compares got with want over want's checks; a want of ""
// means the check does not apply (no result at all).
func compareVerdicts(t *testing.T, want, got map[string]string) {
	t.Helper()
	w, g := map[string]string{}, map[string]string{}
	for id, v := range want {
		if v != "" {
			w[id] = v
		}
		if v, ok := got[id]; ok {
			g[id] = v
		}
	}
	if d := cmp.Diff(w, g); d != "" {
		t.Errorf("verdicts (-want +got):\n%s", d)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func ksObject(kind, name, data string) string {
	meta := ""
	if name != "" {
		meta = `"metadata": {"name": "` + name + `"},`
	}
	return `{"apiVersion": "hostdata.kubescape.cloud/v1beta0", "kind": "` + kind + `", ` + meta + ` "data": ` + data + `}`
}

func ksFileJSON(path string, mode int, uid, gid int, user, group string) string {
	return fmt.Sprintf(`{"path": %q, "permissions": %d, "ownership": {"uid": %d, "gid": %d, "username": %q, "groupname": %q}}`, path, mode, uid, gid, user, group)
}

func TestFactsKubescape(t *testing.T) {
	cp := ksObject("ControlPlaneInfo", "cp1", `{
		"APIServerInfo": {
			"cmdLine": "kube-apiserver --anonymous-auth=false --encryption-provider-config=/etc/enc.yaml --profiling=false",
			"specsFile": `+ksFileJSON("/etc/kubernetes/manifests/kube-apiserver.yaml", 0o644, 0, 0, "root", "root")+`,
			"encryptionProviderConfigFile": {"path": "/etc/enc.yaml", "permissions": 384, "content": "`+b64("kind: EncryptionConfiguration\nresources: [{resources: [secrets], providers: [{identity: {}}]}]\n")+`"}
		},
		"controllerManagerInfo": {
			"specsFile": `+ksFileJSON("/etc/kubernetes/manifests/kube-controller-manager.yaml", 0o600, 0, 0, "root", "noroot")+`,
			"configFile": `+ksFileJSON("/etc/kubernetes/controller-manager.conf", 0o600, 0, 0, "root", "root")+`
		},
		"etcdDataDir": `+ksFileJSON("/var/lib/minikube/etcd", 0o700, 0, 0, "etcd", "etcd")+`,
		"adminConfigFile": `+ksFileJSON("/etc/kubernetes/admin.conf", 0o600, 0, 0, "root", "root")+`,
		"PKIDir": `+ksFileJSON("/var/lib/minikube/certs", 0o755, 0, 0, "root", "root")+`,
		"PKIFiles": [`+ksFileJSON("/var/lib/minikube/certs/ca.crt", 0o644, 0, 0, "root", "root")+`, `+ksFileJSON("/var/lib/minikube/certs/ca.key", 0o600, 0, 0, "", "")+`]
	}`)
	got := verdicts(t, cp)
	want := map[string]string{
		"node/apiserver-manifest-permissions":            "fail", // 644
		"node/apiserver-manifest-owner":                  "pass",
		"node/controller-manager-manifest-owner":         "fail", // named root:noroot
		"node/controller-manager-kubeconfig-owner":       "pass",
		"node/apiserver-anonymous-auth":                  "pass",
		"node/apiserver-encryption-providers":            "fail", // identity first
		"node/controller-manager-profiling":              "not evaluated",
		"node/etcd-data-dir-owner":                       "pass", // found where minikube keeps it, judged by name
		"node/etcd-data-dir-permissions":                 "pass",
		"node/admin-kubeconfig-permissions":              "pass", // admin.conf passes; super-admin.conf not collected
		"node/pki-cert-permissions":                      "fail",
		"node/pki-key-permissions":                       "pass",
		"node/pki-owner":                                 "pass", // numbers where no names
		"node/scheduler-manifest-permissions":            "",     // looked for, not found
		"node/cni-config-permissions":                    "not evaluated",
		"node/etcd-tls":                                  "not evaluated", // etcd runs (its data directory is reported); its command line is not
		"node/controller-manager-kubeconfig-permissions": "pass",
	}
	compareVerdicts(t, want, got)
}

func TestFactsKubescapeKubelet(t *testing.T) {
	cfg := b64("kind: KubeletConfiguration\nauthentication: {anonymous: {enabled: false}, x509: {clientCAFile: /ca.crt}}\nreadOnlyPort: 10255\neventRecordQPS: 0\n")
	tests := []struct {
		name string
		data string
		want map[string]string
	}{
		{
			name: "config file read",
			data: `{"cmdLine": "/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.conf",
				"configFile": {"path": "/var/lib/kubelet/config.yaml", "permissions": 420, "ownership": {"uid": 0, "gid": 0, "username": "root", "groupname": "root"}, "content": "` + cfg + `"},
				"kubeConfigFile": ` + ksFileJSON("/etc/kubernetes/kubelet.conf", 0o600, 0, 0, "root", "root") + `,
				"clientCAFile": ` + ksFileJSON("/ca.crt", 0o600, 0, 1, "", "") + `,
				"serviceFiles": [` + ksFileJSON("/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", 0o640, 0, 0, "root", "root") + `]}`,
			want: map[string]string{
				"node/kubelet-anonymous-auth":         "pass",
				"node/kubelet-authz-mode":             "pass", // config default Webhook
				"node/kubelet-read-only-port":         "fail",
				"node/kubelet-event-qps":              "pass",
				"node/kubelet-config-permissions":     "fail", // 644
				"node/kubelet-kubeconfig-permissions": "pass",
				"node/kubelet-client-ca-owner":        "fail", // gid 1
				"node/kubelet-service-permissions":    "fail",
				"node/kubelet-service-owner":          "pass",
			},
		},
		{
			name: "sensor failed to read the config file",
			data: `{"cmdLine": "kubelet --config=xxx --anonymous-auth=false", "configFile": {}}`,
			want: map[string]string{
				"node/kubelet-anonymous-auth":     "pass", // the flag decides
				"node/kubelet-authz-mode":         "not evaluated",
				"node/kubelet-config-permissions": "not evaluated",
				"node/kubelet-service-owner":      "",
			},
		},
		{
			name: "no config file: flag defaults",
			data: `{"cmdLine": "kubelet --read-only-port=0"}`,
			want: map[string]string{
				"node/kubelet-anonymous-auth": "fail",
				"node/kubelet-authz-mode":     "fail",
				"node/kubelet-read-only-port": "pass",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := verdicts(t, ksObject("KubeletInfo", "", tt.data))
			compareVerdicts(t, tt.want, got)
		})
	}
}

// An owner the sensor failed to read comes with ids -1 and an error: not
// collected, never root.
func TestFactsKubescapeOwnerError(t *testing.T) {
	got := verdicts(t, ksObject("KubeletInfo", "n", `{"cmdLine": "kubelet --kubeconfig=/k", "kubeConfigFile": {"path": "/k", "permissions": 384, "ownership": {"uid": -1, "gid": -1, "err": "operation not supported by the file system"}}}`))
	compareVerdicts(t, map[string]string{
		"node/kubelet-kubeconfig-permissions": "pass",
		"node/kubelet-kubeconfig-owner":       "not evaluated",
	}, got)
}

func TestFactsKubescapeProxyAndCNI(t *testing.T) {
	got := verdicts(t,
		ksObject("ControlPlaneInfo", "n", `{}`),
		ksObject("KubeProxyInfo", "n", `{"cmdLine": "kube-proxy --kubeconfig=/var/lib/kube-proxy/kubeconfig.conf", "kubeConfigFile": `+ksFileJSON("/var/lib/kube-proxy/kubeconfig.conf", 0o644, 0, 0, "root", "root")+`}`),
		ksObject("CNIInfo", "n", `{"CNIConfigFiles": [`+ksFileJSON("/etc/cni/net.d/10-a.conflist", 0o600, 0, 0, "root", "root")+`, `+ksFileJSON("/etc/cni/net.d/20-b.conf", 0o600, 0, 0, "nobody", "root")+`]}`),
	)
	want := map[string]string{
		"node/proxy-kubeconfig-permissions": "fail",
		"node/proxy-kubeconfig-owner":       "pass",
		"node/cni-config-permissions":       "pass",
		"node/cni-config-owner":             "fail",
	}
	compareVerdicts(t, want, got)
}

func trivyNode(typ string, info map[string]string) string {
	keys := make([]string, 0, len(info))
	for k := range info {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q: {\"values\": %s}", k, info[k])
	}
	return `{"apiVersion": "v1", "kind": "NodeInfo", "type": "` + typ + `", "metadata": {"name": "w1"}, "info": {` + b.String() + `}}`
}

func TestFactsTrivy(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		info map[string]string
		want map[string]string
	}{
		{
			name: "control-plane files",
			typ:  "master",
			info: map[string]string{
				"kubeAPIServerSpecFilePermission":          `[600]`,
				"kubeAPIServerSpecFileOwnership":           `["root:root"]`,
				"kubeSchedulerSpecFilePermission":          `[]`,
				"etcdDataDirectoryPermissions":             `[755]`,
				"etcdDataDirectoryOwnership":               `["etcd:etcd"]`,
				"containerNetworkInterfaceFilePermissions": `[600, 644]`,
				"kubernetesPKICertificateFilePermissions":  `[600]`,
				"kubePKIKeyFilePermissions":                `[600, 640]`,
				"kubePKIDirectoryFileOwnership":            `["root:root", "user:root"]`,
			},
			want: map[string]string{
				"node/apiserver-manifest-permissions": "pass",
				"node/apiserver-manifest-owner":       "pass",
				"node/scheduler-manifest-permissions": "",
				"node/etcd-data-dir-permissions":      "fail",
				"node/etcd-data-dir-owner":            "pass",
				"node/cni-config-permissions":         "fail",
				"node/cni-config-owner":               "not evaluated",
				"node/pki-cert-permissions":           "pass",
				"node/pki-key-permissions":            "fail",
				"node/pki-owner":                      "fail",
				"node/apiserver-profiling":            "not evaluated",
				"node/admin-kubeconfig-owner":         "not evaluated",
			},
		},
		{
			name: "kubelet settings, configuration file in use",
			typ:  "worker",
			info: map[string]string{
				"kubeletConfigYamlConfigurationFilePermission":     `[600]`,
				"kubeletAnonymousAuthArgumentSet":                  `[]`,
				"kubeletReadOnlyPortArgumentSet":                   `[]`,
				"kubeletAuthorizationModeArgumentSet":              `["AlwaysAllow"]`,
				"kubeletEventQpsArgumentSet":                       `[-1]`,
				"kubeletRotateCertificatesArgumentSet":             `[]`,
				"kubeletStreamingConnectionIdleTimeoutArgumentSet": `["5m"]`,
			},
			want: map[string]string{
				"node/kubelet-config-permissions": "pass",
				// Not on the command line, and the file may set them.
				"node/kubelet-anonymous-auth":         "not evaluated",
				"node/kubelet-read-only-port":         "not evaluated",
				"node/kubelet-authz-mode":             "fail",
				"node/kubelet-event-qps":              "fail",
				"node/kubelet-rotate-certificates":    "not evaluated", // command line only; the file may set it
				"node/kubelet-streaming-idle-timeout": "pass",
				"node/kubelet-tls-ciphers":            "not evaluated",
			},
		},
		{
			name: "kubelet settings, no configuration file",
			typ:  "worker",
			info: map[string]string{
				"kubeletConfigYamlConfigurationFilePermission": `[]`,
				"kubeletAnonymousAuthArgumentSet":              `[]`,
				"kubeletRotateCertificatesArgumentSet":         `[]`,
				"kubeletOnlyUseStrongCryptographic":            `["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA"]`,
				"kubeletClientCaFileArgumentSet":               `["/etc/kubernetes/pki/ca.crt"]`,
				"certificateAuthoritiesFileOwnership":          `["root:root"]`,
			},
			want: map[string]string{
				"node/kubelet-config-permissions":    "",
				"node/kubelet-anonymous-auth":        "fail", // flag default true
				"node/kubelet-rotate-certificates":   "pass", // not set to false
				"node/kubelet-tls-ciphers":           "fail",
				"node/kubelet-client-ca":             "pass",
				"node/kubelet-client-ca-owner":       "pass",
				"node/kubelet-client-ca-permissions": "not evaluated",
			},
		},
		{
			name: "unknown whether a configuration file is used",
			typ:  "worker",
			info: map[string]string{"kubeletAnonymousAuthArgumentSet": `[]`, "kubeletProtectKernelDefaultsArgumentSet": `["false"]`},
			want: map[string]string{
				"node/kubelet-anonymous-auth":          "not evaluated",
				"node/kubelet-protect-kernel-defaults": "fail",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := verdicts(t, trivyNode(tt.typ, tt.info))
			compareVerdicts(t, tt.want, got)
		})
	}
}

// A NodeInfo without "type" whose keys are control-plane files is a
// control-plane node: node-collector gathers them nowhere else.
func TestFactsTrivyUntypedControlPlane(t *testing.T) {
	got := verdicts(t, `{"kind": "NodeInfo", "info": {"adminConfFilePermissions": {"values": [644]}}}`)
	compareVerdicts(t, map[string]string{"node/admin-kubeconfig-permissions": "fail"}, got)
}

func TestFactsNodes(t *testing.T) {
	in := []Input{{Name: "all.json", Data: []byte(`{"kind": "List", "items": [` +
		trivyNode("worker", map[string]string{"kubeletConfFilePermissions": `[644]`}) + `,` +
		strings.Replace(trivyNode("worker", map[string]string{"kubeletConfFilePermissions": `[600]`}), `"w1"`, `"w2"`, 1) + `]}`)}}
	out, err := RunFacts(t.Context(), All(), in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range out.Nodes {
		names = append(names, n.Name)
	}
	if d := cmp.Diff([]string{"w1", "w2"}, names); d != "" {
		t.Errorf("nodes (-want +got):\n%s", d)
	}
	var failed []string
	for _, f := range out.Findings {
		if f.RuleID == "node/kubelet-kubeconfig-permissions" {
			failed = append(failed, f.Resource.Name)
		}
	}
	if d := cmp.Diff([]string{"w1"}, failed); d != "" {
		t.Errorf("failing nodes (-want +got):\n%s", d)
	}
}

// node-collector's own output names no node: two files are two nodes.
func TestFactsUnnamedFiles(t *testing.T) {
	obj := `{"kind": "NodeInfo", "type": "worker", "info": {"kubeletConfFilePermissions": {"values": [%d]}}}`
	out, err := RunFacts(t.Context(), All(), []Input{
		{Name: "a.json", Data: []byte(fmt.Sprintf(obj, 644))},
		{Name: "b.json", Data: []byte(fmt.Sprintf(obj, 600))},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range out.Findings {
		failed = append(failed, f.Resource.Name)
	}
	if d := cmp.Diff([]string{"(a.json)"}, failed); d != "" {
		t.Errorf("failing nodes (-want +got):\n%s", d)
	}
}

func TestFactsMalformed(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"not JSON", `{"kind": `, "bad.json: parse JSON"},
		{"no collector object", `{"apiVersion": "v1", "kind": "Pod"}`, "bad.json: no Kubescape host-sensor"},
		{"permissions not a number", ksObject("KubeletInfo", "n", `{"configFile": {"path": "/c", "permissions": "644"}}`), "bad.json: KubeletInfo n: data: json: cannot unmarshal string into Go struct field"},
		{"content not base64", ksObject("KubeletInfo", "n", `{"configFile": {"path": "/c", "content": "%%%"}}`), "bad.json: KubeletInfo n: data.configFile.content: not base64"},
		{"config not a KubeletConfiguration", ksObject("KubeletInfo", "n", `{"configFile": {"path": "/c", "content": "`+b64("kind: Pod\n")+`"}}`), "data.configFile.content: parse kubelet config: kind is Pod"},
		{"mode out of range", ksObject("CNIInfo", "n", `{"CNIConfigFiles": [{"path": "/x", "permissions": 99999}]}`), "data.CNIConfigFiles[0].permissions: 99999 is not a file mode"},
		{"pki file without path", ksObject("ControlPlaneInfo", "n", `{"PKIFiles": [{"permissions": 384}]}`), "data.PKIFiles[0].path: missing"},
		{"trivy mode not octal", trivyNode("master", map[string]string{"adminConfFilePermissions": `[800]`}), `bad.json: NodeInfo w1: info.adminConfFilePermissions.values[0]: "800" is not a file mode in octal`},
		{"trivy owner not user:group", trivyNode("master", map[string]string{"adminConfFileOwnership": `["root"]`}), `info.adminConfFileOwnership.values[0]: "root" is not user:group`},
		{"trivy info not values", `{"kind": "NodeInfo", "type": "worker", "info": {"kubeletConfFilePermissions": [600]}}`, "info.kubeletConfFilePermissions: want {\"values\": [...]}"},
		{"trivy type", `{"kind": "NodeInfo", "type": "gpu", "info": {}}`, `type: "gpu" is neither master nor worker`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RunFacts(t.Context(), All(), []Input{{Name: "bad.json", Data: []byte(tt.data)}}, Options{})
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an *InputError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}
