package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
)

func TestStoreBackend(t *testing.T) {
	tests := []struct {
		dsn     string
		want    Backend
		wantErr string
	}{
		{dsn: "", want: Backend{Driver: DriverSQLite}},
		{dsn: "postgres://u:p@db:5432/palisade?sslmode=verify-full", want: Backend{Driver: DriverPostgres, DSN: "postgres://u:p@db:5432/palisade?sslmode=verify-full"}},
		{dsn: "postgresql:///palisade?host=/run/postgresql", want: Backend{Driver: DriverPostgres, DSN: "postgresql:///palisade?host=/run/postgresql"}},
		{dsn: "sqlite:/var/lib/palisade.db", want: Backend{Driver: DriverSQLite, DSN: "/var/lib/palisade.db"}},
		{dsn: "sqlite:///var/lib/palisade.db", want: Backend{Driver: DriverSQLite, DSN: "/var/lib/palisade.db"}},
		{dsn: "sqlite:rel.db", want: Backend{Driver: DriverSQLite, DSN: "rel.db"}},
		{dsn: "./data/palisade.db", want: Backend{Driver: DriverSQLite, DSN: "./data/palisade.db"}},
		{dsn: `C:\palisade\db`, want: Backend{Driver: DriverSQLite, DSN: `C:\palisade\db`}},
		{dsn: "file:/var/lib/palisade.db", want: Backend{Driver: DriverSQLite, DSN: "/var/lib/palisade.db"}},
		{dsn: "sqlite:x.db?_pragma=busy_timeout(5000)", wantErr: `query parameters are not supported in "sqlite:x.db?_pragma=busy_timeout(5000)"; give a plain path to use ? or # in a file name`},
		{dsn: "weird?name.db", want: Backend{Driver: DriverSQLite, DSN: "weird?name.db"}},
		{dsn: "git+ssh://host/x", wantErr: `unsupported scheme "git+ssh" (want postgres://, postgresql://, sqlite:PATH or a file path)`},
		{dsn: "dir/x://y", want: Backend{Driver: DriverSQLite, DSN: "dir/x://y"}},
		{dsn: "sqlite:", wantErr: `"sqlite:" names no database file (want sqlite:PATH)`},
		{dsn: "mysql://db/x", wantErr: `unsupported scheme "mysql" (want postgres://, postgresql://, sqlite:PATH or a file path)`},
		{dsn: "host=db dbname=x", wantErr: "looks like a PostgreSQL key=value connection string; write it as a postgres:// URL"},
	}
	for _, tt := range tests {
		got, err := Store{DSN: tt.dsn}.Backend()
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Backend(%q) error = %v, want %q", tt.dsn, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Backend(%q): %v", tt.dsn, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Backend(%q) mismatch (-want +got):\n%s", tt.dsn, diff)
		}
	}
}

func TestStoreRedacted(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"postgres://u:hunter2@db/x", "postgres://u:xxxxx@db/x"},
		{"postgres://u:hunter2@db:x/x", "REDACTED"},
		{"sqlite:/a.db", "sqlite:/a.db"},
	}
	for _, tt := range tests {
		s := Store{DSN: tt.dsn}
		if got := s.Redacted(); got != tt.want {
			t.Errorf("Redacted(%q) = %q, want %q", tt.dsn, got, tt.want)
		}
		if got := s.LogValue().String(); got != tt.want {
			t.Errorf("LogValue(%q) = %q, want %q", tt.dsn, got, tt.want)
		}
	}
}

func TestRegistriesIsTrusted(t *testing.T) {
	r := Registries{Trusted: []string{"ghcr.io/acme/*", "registry.acme.internal:5000/*/*", "docker.io/library/*", "index.docker.io/bitnami/*"}}
	tests := []struct {
		repo string
		want bool
	}{
		{"ghcr.io/acme/app", true},
		{"ghcr.io/acme/team/app", false},
		{"ghcr.io/evil/app", false},
		{"registry.acme.internal:5000/team/app", true},
		{"docker.io/evil/nginx", false},
		// Docker Hub's two names are one registry, in patterns and repos.
		{"docker.io/library/nginx", true},
		{"index.docker.io/library/nginx", true},
		{"docker.io/bitnami/redis", true},
		{"index.docker.io/bitnami/redis", true},
		{"index.docker.io/evil/nginx", false},
		{"notindex.docker.io/library/nginx", false},
	}
	for _, tt := range tests {
		if got := r.IsTrusted(tt.repo); got != tt.want {
			t.Errorf("IsTrusted(%q) = %v, want %v", tt.repo, got, tt.want)
		}
	}
	if !(Registries{}).IsTrusted("anything/at/all") {
		t.Error("with no patterns every registry must be trusted")
	}
}

func TestBaselineHelpers(t *testing.T) {
	b := Default().ImagePolicy
	counts := map[finding.Severity]int{finding.SeverityCritical: 1, finding.SeverityMedium: 40, finding.SeverityInfo: 3}
	if diff := cmp.Diff([]finding.Severity{finding.SeverityCritical}, b.MaxVulnerabilities.Exceeded(counts)); diff != "" {
		t.Errorf("Exceeded mismatch (-want +got):\n%s", diff)
	}
	if got := b.MaxVulnerabilities.Limit(finding.SeverityInfo); got != Unlimited {
		t.Errorf("Limit(info) = %d, want Unlimited", got)
	}
	seen := date("2026-01-01")
	due, ok := b.SLA.Deadline(finding.SeverityCritical, seen)
	if !ok || !due.Equal(seen.Add(7*24*60*60*1e9)) {
		t.Errorf("Deadline(critical) = %v, %v", due, ok)
	}
	if _, ok := b.SLA.Deadline(finding.SeverityUnknown, seen); ok {
		t.Error("unknown severity has no SLA by default")
	}
	if got := Default().Log.SlogLevel().String(); got != "INFO" {
		t.Errorf("SlogLevel = %s, want INFO", got)
	}
}

func TestStoreResolve(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"", ""},
		{"a.db", "/etc/palisade/a.db"},
		{"sqlite:a.db", "sqlite:/etc/palisade/a.db"},
		{"file:../a.db", "file:/etc/a.db"},
		{"sqlite:///var/a.db", "sqlite:///var/a.db"},
		{":memory:", ":memory:"},
		{"postgres://db/x", "postgres://db/x"},
		{"mysql://db/x", "mysql://db/x"},
	}
	for _, tt := range tests {
		s := Store{DSN: tt.dsn}
		s.resolve("/etc/palisade")
		if s.DSN != tt.want {
			t.Errorf("resolve(%q) = %q, want %q", tt.dsn, s.DSN, tt.want)
		}
	}
}
