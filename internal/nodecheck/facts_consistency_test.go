package nodecheck

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sensorOutput describes a filesystem node the way Kubescape's host-sensor
// would: component command lines (etcd's excepted, which the sensor does
// not report), and the files' modes, numeric owners and contents.
func sensorOutput(t *testing.T, n *Node) []byte {
	t.Helper()
	src := fsSource{root: n.root}
	file := func(p string, content bool) map[string]any {
		fi, err := src.stat(p, aspectMode)
		if err != nil || fi == nil {
			return nil
		}
		f := map[string]any{"path": p, "permissions": int(fi.Mode), "ownership": map[string]any{"uid": fi.Owner.UID, "gid": fi.Owner.GID}}
		if content {
			if b, err := src.read(p); err == nil {
				f["content"] = base64.StdEncoding.EncodeToString(b)
			}
		}
		return f
	}
	cmdline := func(c *Component) string {
		words := []string{c.Name}
		for _, name := range c.Flags.Names() {
			for _, v := range c.Flags.values[name] {
				words = append(words, "--"+name+"="+v)
			}
		}
		return strings.Join(words, " ")
	}
	var objs []map[string]any
	add := func(kind string, data map[string]any) {
		for k, v := range data {
			if m, ok := v.(map[string]any); ok && m == nil {
				delete(data, k)
			}
		}
		objs = append(objs, map[string]any{"apiVersion": "hostdata.kubescape.cloud/v1beta0", "kind": kind, "metadata": map[string]any{"name": n.Name}, "data": data})
	}
	if n.IsControlPlane() {
		cp := map[string]any{}
		for name, field := range map[string]string{APIServer: "APIServerInfo", ControllerManager: "controllerManagerInfo", Scheduler: "schedulerInfo"} {
			info := map[string]any{"specsFile": file(manifestDir+"/"+name+".yaml", false)}
			if c := n.Components[name]; c != nil {
				info["cmdLine"] = cmdline(c)
				if p, ok := c.Flags.Get("encryption-provider-config"); ok {
					info["encryptionProviderConfigFile"] = file(p, true)
				}
			}
			if name != APIServer {
				info["configFile"] = file("/etc/kubernetes/"+strings.TrimPrefix(name, "kube-")+".conf", false)
			}
			cp[field] = info
		}
		cp["etcdConfigFile"] = file(manifestDir+"/etcd.yaml", false)
		dataDirs, _ := etcdDataDir(t.Context(), n, nil, aspectMode)
		cp["etcdDataDir"] = file(dataDirs[0], false)
		cp["adminConfigFile"] = file("/etc/kubernetes/admin.conf", false)
		pkiFiles, _ := src.walk(t.Context(), pkiDir, aspectMode)
		var list []map[string]any
		for _, p := range pkiFiles {
			if p == pkiDir {
				cp["PKIDir"] = file(p, false)
			} else {
				list = append(list, file(p, false))
			}
		}
		cp["PKIFiles"] = list
		add("ControlPlaneInfo", cp)
		cni, _ := cniFiles(t.Context(), n, nil, aspectMode)
		var cniList []map[string]any
		for _, p := range cni {
			cniList = append(cniList, file(p, false))
		}
		add("CNIInfo", map[string]any{"CNIConfigFiles": cniList})
	}
	if c := n.Components[Kubelet]; c != nil {
		kl := map[string]any{"cmdLine": cmdline(c)}
		cfg, _ := kubeletConfigPath(t.Context(), n, c, aspectMode)
		kl["configFile"] = file(cfg[0], true)
		kc, _ := fromSetting(kubeletKubecfg, kubeletKubeconfig)(t.Context(), n, c, aspectMode)
		kl["kubeConfigFile"] = file(kc[0], false)
		if ca, _ := fromSetting(kubeletCA, "")(t.Context(), n, c, aspectMode); len(ca) > 0 {
			kl["clientCAFile"] = file(ca[0], false)
		}
		units, _ := src.unitFiles()
		var ul []map[string]any
		for _, p := range units {
			ul = append(ul, file(p, false))
		}
		kl["serviceFiles"] = ul
		add("KubeletInfo", kl)
	}
	if c := n.Components[KubeProxy]; c != nil {
		kp := map[string]any{"cmdLine": cmdline(c)}
		if p, ok := c.Flags.Get("kubeconfig"); ok {
			kp["kubeConfigFile"] = file(p, false)
		}
		add("KubeProxyInfo", kp)
	}
	b, err := json.Marshal(objs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFactsMatchFilesystem checks a node from its filesystem and from what
// a host-sensor would report of it: the same checks give the same findings,
// except where the sensor does not collect a fact, which is then listed as
// not evaluated rather than passed.
func TestFactsMatchFilesystem(t *testing.T) {
	for _, name := range []string{"hardened", "weak", "worker"} {
		t.Run(name, func(t *testing.T) {
			root := materialize(t, name)
			opts := Options{Root: root, RootOwner: me(), EtcdOwner: me()}
			fsOut, err := Run(t.Context(), All(), opts)
			if err != nil {
				t.Fatal(err)
			}
			data := sensorOutput(t, fsOut.Node)
			factsOut, err := RunFacts(t.Context(), All(), []Input{{Name: "sensor.json", Data: data}}, Options{RootOwner: me(), EtcdOwner: me()})
			if err != nil {
				t.Fatalf("%v\n%s", err, data)
			}
			notEvaluated := map[string]bool{}
			for _, ne := range factsOut.NotEvaluated {
				notEvaluated[ne.CheckID+" "+ne.File] = true
			}
			key := func(ruleID, file, msg string) string { return ruleID + " " + file + ": " + msg }
			var want, got []string
			for _, f := range fsOut.Findings {
				if !notEvaluated[f.RuleID+" "] && !notEvaluated[f.RuleID+" "+f.Resource.File] {
					want = append(want, key(f.RuleID, f.Resource.File, f.Message))
				}
			}
			for _, f := range factsOut.Findings {
				got = append(got, key(f.RuleID, f.Resource.File, f.Message))
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("findings from the filesystem (-) and from sensor facts (+):\n%s", d)
			}
			// Every check the filesystem run evaluated is evaluated from the
			// facts too, or said not to be.
			evaluated := map[string]bool{}
			for _, r := range factsOut.Coverage.Rules {
				evaluated[r.RuleID] = true
			}
			said := map[string]bool{}
			for _, ne := range factsOut.NotEvaluated {
				said[ne.CheckID] = true
			}
			for _, r := range fsOut.Coverage.Rules {
				if !evaluated[r.RuleID] && !said[r.RuleID] {
					t.Errorf("%s: evaluated on the filesystem, silently missing from the facts", r.RuleID)
				}
			}
		})
	}
}
