package nodecheck

import (
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
