package imageconfig

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/secrets"
)

// problemCase is one config-check case: the messages (substrings, in
// order) and severities the check must report, none for a pass.
type problemCase struct {
	name string
	md   image.Metadata
	want []string
	sev  []finding.Severity // optional, per problem
}

func runConfig(t *testing.T, c *Check, cases []problemCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			in := &Input{Metadata: &tt.md, Layers: []image.Layer{{Index: 0, Digest: "sha256:l0", CreatedBy: "ADD rootfs /"}, {Index: 1, Digest: "sha256:l1"}}}
			ps, err := c.Config(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != len(tt.want) {
				t.Fatalf("%d problems, want %d: %+v", len(ps), len(tt.want), ps)
			}
			for i, p := range ps {
				if !strings.Contains(p.Message, tt.want[i]) {
					t.Errorf("problem %d: %q lacks %q", i, p.Message, tt.want[i])
				}
				if tt.sev != nil {
					sev := p.Severity
					if sev == finding.SeverityUnknown {
						sev = c.Severity
					}
					if sev != tt.sev[i] {
						t.Errorf("problem %d: severity %s, want %s", i, sev, tt.sev[i])
					}
				}
			}
		})
	}
}

func TestRootUser(t *testing.T) {
	runConfig(t, RootUser(), []problemCase{
		{name: "no user", md: image.Metadata{}, want: []string{"sets no USER"}},
		{name: "root", md: image.Metadata{User: "root"}, want: []string{"USER root is root"}},
		{name: "uid 0 with group", md: image.Metadata{User: "0:0"}, want: []string{"USER 0:0 is root"}},
		{name: "root with other group", md: image.Metadata{User: "root:staff"}, want: []string{"is root"}},
		{name: "numeric user", md: image.Metadata{User: "10001"}},
		{name: "uid 10 is not 0", md: image.Metadata{User: "10"}},
		{name: "named user", md: image.Metadata{User: "app:app"}},
	})
}

func TestNoHealthcheck(t *testing.T) {
	runConfig(t, NoHealthcheck(), []problemCase{
		{name: "none", md: image.Metadata{}, want: []string{"no HEALTHCHECK"}},
		{name: "disabled", md: image.Metadata{Healthcheck: &v1.HealthConfig{Test: []string{"NONE"}}}, want: []string{"HEALTHCHECK NONE"}},
		{name: "empty test", md: image.Metadata{Healthcheck: &v1.HealthConfig{}}, want: []string{"no HEALTHCHECK"}},
		{name: "set", md: image.Metadata{Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "/healthz"}}}},
	})
}

func TestPrivilegedPorts(t *testing.T) {
	runConfig(t, PrivilegedPorts(), []problemCase{
		{name: "none", md: image.Metadata{}},
		{name: "high ports", md: image.Metadata{ExposedPorts: []string{"1024/tcp", "8080/tcp", "9090/udp"}}},
		{name: "http and ssh", md: image.Metadata{ExposedPorts: []string{"22/tcp", "443/tcp", "80/tcp", "8080/tcp"}},
			want: []string{"port 22/tcp", "port 443/tcp", "port 80/tcp"},
			sev:  []finding.Severity{finding.SeverityMedium, finding.SeverityLow, finding.SeverityLow}},
		{name: "malformed and ranges skipped", md: image.Metadata{ExposedPorts: []string{"x/tcp", "0/tcp", "53-60/udp"}}},
	})
}

func TestAddRemote(t *testing.T) {
	runConfig(t, AddRemote(), []problemCase{
		{name: "buildkit", md: image.Metadata{History: []v1.History{
			{CreatedBy: "ADD rootfs.tar.gz / # buildkit"},
			{CreatedBy: "ADD https://example.com/tool.tgz /opt/ # buildkit"},
		}}, want: []string{"history entry 1 fetches https://example.com/tool.tgz"}},
		{name: "legacy with flags", md: image.Metadata{History: []v1.History{
			{CreatedBy: "/bin/sh -c #(nop) ADD --chown=1:1 http://mirror.example/x.deb /tmp/"},
		}}, want: []string{"fetches http://mirror.example/x.deb"}},
		{name: "copy and run curl are not ADD", md: image.Metadata{History: []v1.History{
			{CreatedBy: "COPY https-proxy.conf /etc/ # buildkit"},
			{CreatedBy: "RUN /bin/sh -c curl -fsSLO https://example.com/x # buildkit"},
			{CreatedBy: "ADD file:4b03b5f551e3fbdf47ec609712007327828f7530cc3455c43bbcdcaf449a75a9 in / "},
		}}},
	})
}

func TestAddRemoteLayer(t *testing.T) {
	md := image.Metadata{History: []v1.History{
		{CreatedBy: "ADD rootfs /"},
		{CreatedBy: "ENV A=b", EmptyLayer: true},
		{CreatedBy: "ADD https://example.com/a /a"},
	}}
	in := &Input{Metadata: &md, Layers: []image.Layer{{Index: 0, Digest: "sha256:l0"}, {Index: 1, Digest: "sha256:l1", CreatedBy: "ADD https://example.com/a /a"}}}
	ps, err := AddRemote().Config(t.Context(), in)
	if err != nil || len(ps) != 1 {
		t.Fatalf("%v %+v", err, ps)
	}
	if ps[0].Layer == nil || ps[0].Layer.Index != 1 {
		t.Fatalf("layer %+v, want layer 1 (the empty ENV step made none)", ps[0].Layer)
	}
}

func TestConfigSecrets(t *testing.T) {
	const awsSecret = "AWS_SECRET_ACCESS_KEY=Zq8vR2mK7pT4xW9nB3cL6hJ1fD5sG0yEaU2iO8rP" // not a documented example
	const ghToken = "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"                         // valid checksum: the public format example
	tests := []problemCase{
		{name: "clean", md: image.Metadata{Env: []string{"PATH=/usr/bin", "LANG=C.UTF-8"}, Labels: map[string]string{"org.opencontainers.image.source": "https://github.com/x/y"}}},
		{name: "env", md: image.Metadata{Env: []string{"PATH=/usr/bin", awsSecret}}, want: []string{"AWS secret access key in ENV AWS_SECRET_ACCESS_KEY"},
			sev: []finding.Severity{finding.SeverityCritical}},
		{name: "label", md: image.Metadata{Labels: map[string]string{"ci.token": ghToken}}, want: []string{"GitHub token in LABEL ci.token"}},
		{name: "build arg", md: image.Metadata{History: []v1.History{
			{CreatedBy: "RUN |2 GITHUB_TOKEN=" + ghToken + " VERSION=1.2 /bin/sh -c make # buildkit"},
		}}, want: []string{"GitHub token in build argument GITHUB_TOKEN (history 0)"}},
		{name: "same secret in env and history once", md: image.Metadata{Env: []string{awsSecret}, History: []v1.History{
			{CreatedBy: "ENV " + awsSecret, EmptyLayer: true},
		}}, want: []string{"in ENV AWS_SECRET_ACCESS_KEY"}},
	}
	runConfig(t, ConfigSecrets(), tests)

	// The secret never appears in a finding.
	md := image.Metadata{Env: []string{awsSecret}}
	ps, err := ConfigSecrets().Config(t.Context(), &Input{Metadata: &md})
	if err != nil || len(ps) != 1 {
		t.Fatalf("%v %+v", err, ps)
	}
	f := ConfigSecrets().Finding(ps[0], "reg/app:1", "sha256:abc")
	raw := strings.TrimPrefix(awsSecret, "AWS_SECRET_ACCESS_KEY=")
	if s := f.Message + f.Title + f.Remediation; strings.Contains(s, raw) {
		t.Fatalf("secret leaked: %s", s)
	}
	for _, e := range f.Evidence {
		if strings.Contains(e.Value, raw) {
			t.Fatalf("secret leaked in evidence %s", e.Name)
		}
	}
	if f.Category != secrets.Category || !slices.Contains(f.Controls, finding.Control{Framework: Framework, ID: "4.10"}) {
		t.Fatalf("category %q controls %v", f.Category, f.Controls)
	}

	// The secrets allowlist applies to configuration values too.
	sc := &secrets.Scanner{Allowlist: secrets.Allowlist{Rules: []string{"secret/aws-secret-key"}}}
	ps, err = ConfigSecrets().Config(t.Context(), &Input{Metadata: &md, Secrets: sc})
	if err != nil || len(ps) != 0 {
		t.Fatalf("allowlisted rule still reported: %v %+v", err, ps)
	}
}

func TestBuildArgs(t *testing.T) {
	tests := []struct {
		in   string
		args []string
		rest string
	}{
		{"/bin/sh -c make", nil, "/bin/sh -c make"},
		{"|2 A=1 B=two /bin/sh -c make", []string{"A=1", "B=two"}, "/bin/sh -c make"},
		{"RUN |1 TOKEN=x /bin/sh -c make # buildkit", []string{"TOKEN=x"}, "/bin/sh -c make # buildkit"},
		{"|3 A=1 /bin/sh -c make", []string{"A=1"}, "/bin/sh -c make"},
		{"|0 /bin/sh -c true", nil, "/bin/sh -c true"},
		{"|1 A=", []string{"A="}, ""},
	}
	for _, tt := range tests {
		args, rest := BuildArgs(tt.in)
		if diff := cmp.Diff(tt.args, args); diff != "" || rest != tt.rest {
			t.Errorf("BuildArgs(%q) = %q, %q; diff %s, want rest %q", tt.in, args, rest, diff, tt.rest)
		}
	}
}

func FuzzBuildArgs(f *testing.F) {
	for _, s := range []string{"|2 A=1 B=2 /bin/sh -c make", "RUN |1 T=x y", "|9999 a=b", "|", "ADD https://x /"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args, rest := BuildArgs(s)
		for _, a := range args {
			if !strings.Contains(a, "=") || strings.Contains(a, " ") {
				t.Fatalf("arg %q", a)
			}
		}
		if len(rest) > len(s) {
			t.Fatalf("rest %q longer than input", rest)
		}
		_, _ = addURL.FindStringSubmatch(s), isRoot(s)
	})
}
