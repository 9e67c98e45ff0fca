package nodecheck

import (
	"errors"
	"testing"
)

func FuzzParseCmdline(f *testing.F) {
	f.Add([]byte("kube-apiserver\x00--anonymous-auth=false\x00--etcd-servers\x00http://x\x00"))
	f.Add([]byte("\x00\x00--=\x00-\x00--\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, fl := ParseCmdline(b)
		for _, n := range fl.Names() {
			if _, ok := fl.Get(n); !ok {
				t.Fatalf("flag %q listed but not gettable", n)
			}
			_ = fl.List(n)
		}
	})
}

func FuzzUnit(f *testing.F) {
	f.Add([]byte("[Service]\nEnvironment=\"A=--x=1\"\nExecStart=/usr/bin/kubelet $A ${B} \\\n --y\n"), []byte("B=--z=2\n"))
	f.Add([]byte("ExecStart='\nEnvironment=\"\n"), []byte("=\n"))
	f.Fuzz(func(t *testing.T, unitFile, envFile []byte) {
		var u unit
		u.parse(unitFile)
		u.parseEnvFile(envFile)
		_ = u.flags()
	})
}

func FuzzConfigs(f *testing.F) {
	f.Add([]byte("kind: KubeletConfiguration\nauthentication: {anonymous: {enabled: false}}\ntlsCipherSuites: [a, b]\n"))
	f.Add([]byte("kind: EncryptionConfiguration\nresources: [{resources: [secrets], providers: [{identity: {}}]}]\n"))
	f.Add([]byte("kind: Pod\nspec: {containers: [{command: [etcd, --auto-tls], args: [--x]}]}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseKubeletConfig(b); err == nil {
			for _, p := range []string{"authentication.anonymous.enabled", "tlsCipherSuites", "a.b.c"} {
				_, _ = lookup(m, p)
			}
		}
		_, _ = EncryptionProviders(b)
		_, _, _ = ParseStaticPod(b)
	})
}

// FuzzFromFacts: collector output never panics, and is either nodes or an
// *InputError naming the file.
func FuzzFromFacts(f *testing.F) {
	f.Add([]byte(`{"apiVersion": "hostdata.kubescape.cloud/v1beta0", "kind": "KubeletInfo", "data": {"cmdLine": "kubelet --config=/c", "configFile": {"path": "/c", "permissions": 420, "content": "a2luZDogS3ViZWxldENvbmZpZ3VyYXRpb24K"}}}`))
	f.Add([]byte(`{"apiVersion": "hostdata.kubescape.cloud/v1beta0", "kind": "ControlPlaneInfo", "metadata": {"name": "m"}, "data": {"PKIDir": {"path": "/p"}, "PKIFiles": [{"path": "/p/a.key", "permissions": 384, "ownership": {"uid": 0, "gid": 0}}]}}`))
	f.Add([]byte(`[{"kind": "NodeInfo", "type": "master", "info": {"kubePKIKeyFilePermissions": {"values": [600, "640"]}, "kubeletAnonymousAuthArgumentSet": {"values": []}}}]`))
	f.Add([]byte(`{"kind": "List", "items": [{"kind": "NodeInfo", "info": {"x": {"values": null}}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := RunFacts(t.Context(), All(), []Input{{Name: "f.json", Data: b}}, Options{})
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.File != "f.json" {
				t.Fatalf("error %v is not an *InputError naming the file", err)
			}
			return
		}
		if len(out.Nodes) == 0 {
			t.Fatal("no nodes and no error")
		}
	})
}
