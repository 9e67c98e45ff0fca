package secrets

import (
	"strings"
	"testing"
)

func TestFileRules(t *testing.T) {
	kubeconfig := `apiVersion: v1
kind: Config
clusters:
- cluster: {server: https://10.0.0.1:6443}
  name: prod
users:
- name: admin
  user:
    token: ` + gen("kube", 40, alnum) + `
`
	runCases(t, []detectCase{
		{name: "dotenv", path: "/app/.env", text: "DEBUG=1\nPORT=8080\n", want: []string{"secret/file/dotenv:0:medium"}},
		{name: "dotenv stage", path: "/app/.env.production", text: "PORT=8080\n", want: []string{"secret/file/dotenv:0:medium"}},
		{name: "dotenv example", path: "/app/.env.example", text: "PORT=8080\n"},
		{name: "dotenv empty", path: "/app/.env", text: "# nothing here\n"},
		{name: "aws credentials", path: "/root/.aws/credentials", text: "[default]\naws_access_key_id = " + tokAWSID + "\naws_secret_access_key = " + tokAWSSecret + "\n",
			want: []string{"secret/file/aws-credentials:0:high", "secret/aws-access-key:2:high", "secret/aws-secret-key:3:critical"}},
		{name: "aws config", path: "/root/.aws/config", text: "[default]\nregion = eu-west-1\n"},
		{name: "npmrc token", path: "/home/node/.npmrc", text: "//registry.npmjs.org/:_authToken=" + ghToken("npm", "npm") + "\n", want: []string{"secret/file/npmrc-token:0:high", "secret/npm-token:1:critical"}},
		{name: "npmrc legacy token", path: "/home/node/.npmrc", text: "//registry.npmjs.org/:_authToken=" + gen("npmuuid", 8, hexLow) + "-" + gen("u2", 4, hexLow) + "-4" + gen("u3", 3, hexLow) + "-a" + gen("u4", 3, hexLow) + "-" + gen("u5", 12, hexLow) + "\n",
			want: []string{"secret/file/npmrc-token:0:high", "secret/generic-assignment:1:medium"}},
		{name: "npmrc env reference", path: "/home/node/.npmrc", text: "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"},
		{name: "npmrc registry only", path: "/home/node/.npmrc", text: "registry=https://registry.npmjs.org/\n"},
		{name: "docker config auths", path: "/root/.docker/config.json", text: `{"auths":{"ghcr.io":{"auth":"` + gen("dock", 32, b64) + `"}}}`, want: []string{"secret/file/docker-config:0:high"}},
		{name: "docker config helper", path: "/root/.docker/config.json", text: `{"auths":{"ghcr.io":{}},"credsStore":"desktop"}`},
		{name: "kubeconfig", path: "/root/.kube/config", text: kubeconfig, want: []string{"secret/file/kubeconfig:0:critical"}},
		{name: "kubeconfig exec plugin", path: "/root/.kube/config", text: "apiVersion: v1\nkind: Config\nusers:\n- name: a\n  user:\n    exec:\n      command: aws\n"},
		{name: "kubeconfig as yaml", path: "/deploy/admin.yaml", text: kubeconfig, want: []string{"secret/file/kubeconfig:0:critical"}},
		{name: "manifest", path: "/deploy/app.yaml", text: "apiVersion: v1\nkind: ConfigMap\ndata:\n  token: abc\n"},
		{name: "ssh private key", path: "/root/.ssh/id_ed25519", text: fakeKeyPEM("OPENSSH PRIVATE KEY", "ed"), want: []string{"secret/file/ssh-private-key:0:high"}},
		{name: "ssh public key", path: "/root/.ssh/id_ed25519.pub", text: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA" + gen("pub", 40, b64) + " me@host\n"},
		{name: "public key under private name", path: "/root/.ssh/id_rsa", text: "ssh-rsa AAAAB3NzaC1yc2E" + gen("pub", 300, b64) + "\n"},
		{name: "git credentials", path: "/root/.git-credentials", text: "https://ci:" + tokPassword + "@git.acme.io\n", want: []string{"secret/file/git-credentials:0:high"}},
		{name: "pgpass", path: "/root/.pgpass", text: "db.acme.io:5432:app:app:" + tokPassword + "\n", want: []string{"secret/file/pgpass:0:high"}},
		{name: "pgpass comment only", path: "/root/.pgpass", text: "# host:port:db:user:password\n"},
		{name: "p12 by name", path: "/app/certs/client.p12", text: "text but p12", want: []string{"secret/file/keystore:0:medium"}},
		{name: "bash history", path: "/root/.bash_history", text: "ls\ncurl -u admin https://x\n", want: []string{"secret/file/shell-history:0:low"}},
		{name: "empty history", path: "/root/.bash_history", text: ""},
	})
}

func TestBinaryAndLarge(t *testing.T) {
	s := Scanner{MaxFileSize: 1024}
	bin := "\x7fELF\x00\x00" + tokGitHub + "\n"
	res, err := s.ScanReader(t.Context(), "/usr/bin/tool", strings.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 || res.SkippedBinary != 1 {
		t.Errorf("binary: findings %d skipped %d, want 0 and 1", len(res.Findings), res.SkippedBinary)
	}
	latin1 := "caf\xe9 token=" + tokGitHub
	res, _ = s.ScanReader(t.Context(), "/x", strings.NewReader(latin1))
	if res.SkippedBinary != 1 {
		t.Errorf("non-UTF-8 text not skipped")
	}
	// A binary keystore is still reported by name.
	res, _ = s.ScanReader(t.Context(), "/app/a.pfx", strings.NewReader("\x30\x82\x00\x01"))
	if len(res.Findings) != 1 || res.Findings[0].RuleID != "secret/file/keystore" {
		t.Errorf("pfx: %+v", res.Findings)
	}
	big := strings.Repeat("a", 2000) + "\n" + tokGitHub
	res, _ = s.ScanReader(t.Context(), "/big.txt", strings.NewReader(big))
	if len(res.Findings) != 0 || res.SkippedLarge != 1 {
		t.Errorf("large: findings %d skipped %d, want 0 and 1", len(res.Findings), res.SkippedLarge)
	}
}

func TestLongLines(t *testing.T) {
	// Secrets deep inside a minified line, including one across a window
	// boundary, are found once each, on line 2.
	pad := strings.Repeat("x=1;", maxLine/4)
	text := "head\n" + pad[:maxLine-20] + tokGitHub + " " + pad + tokStripe + "\n"
	var s Scanner
	res, err := s.ScanReader(t.Context(), "/app/min.js", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.RuleID+":"+string(rune('0'+f.Resource.Line)))
	}
	if strings.Join(got, ",") != "secret/github-token:2,secret/stripe-key:2" {
		t.Errorf("got %v", got)
	}
}

func TestUTF8Boundary(t *testing.T) {
	// A multi-byte rune cut by the 8 KiB sniff window is still text.
	text := strings.Repeat("a", sniffSize-1) + "é\nGITHUB_TOKEN=" + tokGitHub
	var s Scanner
	res, _ := s.ScanReader(t.Context(), "/x", strings.NewReader(text))
	if res.SkippedBinary != 0 || len(res.Findings) != 1 {
		t.Errorf("skipped %d findings %d", res.SkippedBinary, len(res.Findings))
	}
}
