package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestValidate covers Validate on configurations built in code: no file,
// so problems name only the field path.
func TestValidate(t *testing.T) {
	valid := Exception{Match: Match{Rules: []string{"CVE-1"}}, Owner: "a", Reason: "r", Expires: date("2026-01-01")}
	tests := []struct {
		name   string
		modify func(c *Config)
		want   []string
	}{
		{name: "defaults"},
		{name: "empty header is fine", modify: func(c *Config) { c.APIVersion, c.Kind = "", "" }},
		{name: "expired exception is fine", modify: func(c *Config) {
			e := valid
			e.Expires = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)
			c.Exceptions = []Exception{e}
		}},
		{
			name:   "header",
			modify: func(c *Config) { c.APIVersion, c.Kind = "v1", "Pod" },
			want: []string{
				`apiVersion: unsupported version "v1" (want "palisade.dev/v1alpha1")`,
				`kind: unsupported kind "Pod" (want "Config")`,
			},
		},
		{
			name: "baseline",
			modify: func(c *Config) {
				c.ImagePolicy.MaxVulnerabilities = SeverityLimits{Critical: -5, High: -1, Medium: 0, Low: 3, Unknown: -2}
				c.ImagePolicy.MaxDBAge = -Day
				c.ImagePolicy.SLA.Unknown = -Duration(time.Hour)
			},
			want: []string{
				"imagePolicy.maxVulnerabilities.critical: must be a count (0 or more) or -1 for unlimited, got -5",
				"imagePolicy.maxVulnerabilities.unknown: must be a count (0 or more) or -1 for unlimited, got -2",
				"imagePolicy.maxDBAge: must not be negative, got -1d (0 disables the check)",
				"imagePolicy.sla.unknown: must not be negative, got -1h0m0s (0 means no SLA)",
			},
		},
		{
			name:   "registries",
			modify: func(c *Config) { c.Registries.Trusted = []string{"docker.io/library/*", "a b", "x[", ""} },
			want: []string{
				`registries.trusted[1]: pattern "a b" names a digest or has spaces; trusted patterns match repositories, such as "ghcr.io/acme/*"`,
				`registries.trusted[2]: invalid pattern "x[": syntax error in pattern`,
				`registries.trusted[3]: empty pattern`,
			},
		},
		{
			name: "exceptions",
			modify: func(c *Config) {
				noOwner := valid
				noOwner.Owner = ""
				noOwner.ID = "b"
				badKind := valid
				badKind.Match = Match{Kind: "apps/v1 Deployment"}
				c.Exceptions = []Exception{valid, noOwner, valid, badKind, {}}
			},
			want: []string{
				"exceptions[1].owner: missing: say who accepted the risk",
				"exceptions[2].match: same match as exceptions[0]; merge the two exceptions or give each an id",
				`exceptions[3].match.kind: invalid kind "apps/v1 Deployment" (want a Kubernetes kind such as "Deployment"; kind takes no pattern)`,
				"exceptions[4].match: set at least one of rule, namespace, kind, name, image or labels; an exception must not match every finding",
				"exceptions[4].owner: missing: say who accepted the risk",
				"exceptions[4].reason: missing: say why the risk is acceptable",
				"exceptions[4].expires: missing: every exception expires (YYYY-MM-DD or RFC 3339)",
			},
		},
		{
			name: "long id",
			modify: func(c *Config) {
				e := valid
				e.ID = strings.Repeat("x", 129)
				c.Exceptions = []Exception{e}
			},
			want: []string{`exceptions[0].id: invalid id "` + strings.Repeat("x", 64) + `…" (want at most 128 letters, digits and . _ - : /, starting with a letter or digit)`},
		},
		{
			name:   "store",
			modify: func(c *Config) { c.Store.DSN = "postgres://u:hunter2@db:x/palisade" },
			want:   []string{`store.dsn: invalid PostgreSQL URL: invalid port ":x" after host`},
		},
		{
			name: "server and log",
			modify: func(c *Config) {
				c.Server = Server{Listen: "[::1]:x", TLS: TLS{KeyFile: "k"}}
				c.Log = Log{}
			},
			want: []string{
				`server.listen: invalid port "x" in "[::1]:x" (want 0 to 65535)`,
				"server.tls: keyFile is set but certFile is not; set both or neither",
				"server.shutdownTimeout: must be positive, got 0s",
				`log.level: unknown level "" (want debug, info, warn or error)`,
				`log.format: unknown format "" (want json or text)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			if tt.modify != nil {
				tt.modify(c)
			}
			var got []string
			if err := c.Validate(); err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
