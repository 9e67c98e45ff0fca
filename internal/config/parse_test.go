package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestParseInvalid parses each testdata/invalid/*.yaml and compares the
// error text with the .golden file beside it.
func TestParseInvalid(t *testing.T) {
	inputs, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no test inputs")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse("palisade.yaml", data)
			if err == nil {
				t.Fatalf("Parse succeeded, want an error; got %+v", c)
			}
			if c != nil {
				t.Errorf("Parse returned a config with an error")
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("error is not a *config.Error: %T", err)
			}
			checkGolden(t, strings.TrimSuffix(in, ".yaml")+".golden", err.Error()+"\n")
		})
	}
	if o := orphans(t, "testdata/invalid", ".yaml"); len(o) > 0 {
		t.Errorf("golden files without input: %v", o)
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want func(c *Config)
	}{
		{name: "empty", in: ""},
		{name: "comments only", in: "# nothing here\n"},
		{name: "null document", in: "---\n"},
		{name: "explicit null", in: "~\n"},
		{name: "empty sections keep defaults", in: "imagePolicy:\nregistries:\nexceptions:\nserver:\n  tls:\nlog: ~\n"},
		{
			name: "override field by field",
			in:   "imagePolicy:\n  maxVulnerabilities:\n    medium: 10\n  sla:\n    critical: 1d12h\nlog:\n  level: debug\n",
			want: func(c *Config) {
				c.ImagePolicy.MaxVulnerabilities.Medium = 10
				c.ImagePolicy.SLA.Critical = Duration(36 * time.Hour)
				c.Log.Level = "debug"
			},
		},
		{
			name: "single rule and quoted date",
			in:   "exceptions:\n  - match: {rule: CVE-1}\n    owner: a\n    reason: r\n    expires: \"2026-01-31\"\n",
			want: func(c *Config) {
				m := Match{Rules: []string{"CVE-1"}}
				c.Exceptions = []Exception{{ID: m.StableID(), Match: m, Owner: "a", Reason: "r", Expires: date("2026-01-31")}}
			},
		},
		{
			name: "expired exception is valid",
			in:   "exceptions:\n  - id: old\n    match: {kind: Pod}\n    owner: a\n    reason: r\n    expires: 2001-01-01T00:00:00+02:00\n",
			want: func(c *Config) {
				c.Exceptions = []Exception{{ID: "old", Match: Match{Kind: "Pod"}, Owner: "a", Reason: "r",
					Expires: time.Date(2000, 12, 31, 22, 0, 0, 0, time.UTC)}}
			},
		},
		{
			name: "zero durations and limits",
			in:   "imagePolicy:\n  maxDBAge: 0\n  sla: {low: 0s}\n  maxVulnerabilities: {low: 0x10}\n",
			want: func(c *Config) {
				c.ImagePolicy.MaxDBAge = 0
				c.ImagePolicy.SLA.Low = 0
				c.ImagePolicy.MaxVulnerabilities.Low = 16
			},
		},
		{
			name: "postgres store and tls",
			in:   "store:\n  dsn: postgresql://palisade@db:5432/palisade\nserver:\n  listen: \":0\"\n  tls: {certFile: c.pem, keyFile: k.pem}\n",
			want: func(c *Config) {
				c.Store.DSN = "postgresql://palisade@db:5432/palisade"
				c.Server.Listen = ":0"
				c.Server.TLS = TLS{CertFile: "c.pem", KeyFile: "k.pem"}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse("palisade.yaml", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := Default()
			if tt.want != nil {
				tt.want(want)
			}
			if diff := cmp.Diff(want, got, ignoreInternal); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate after Parse: %v", err)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	t.Parallel()
	data := []byte("# " + strings.Repeat("x", MaxSize) + "\n")
	_, err := Parse("big.yaml", data)
	if want := "big.yaml: file is larger than the 4 MiB limit"; err == nil || err.Error() != want {
		t.Errorf("Parse error = %v, want %q", err, want)
	}
	// At the limit exactly is fine.
	if _, err := Parse("max.yaml", data[:MaxSize]); err != nil {
		t.Errorf("Parse at the limit: %v", err)
	}
}

func TestParseTooManyErrors(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("registries:\n  trusted:\n")
	for range maxErrors + 7 {
		b.WriteString("    - \"[\"\n")
	}
	_, err := Parse("palisade.yaml", []byte(b.String()))
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Fatalf("error %v does not unwrap to a list", err)
	}
	errs := joined.Unwrap()
	if len(errs) != maxErrors+1 {
		t.Errorf("got %d errors, want %d", len(errs), maxErrors+1)
	}
	if got, want := errs[len(errs)-1].Error(), "palisade.yaml: too many errors; 7 more not shown"; got != want {
		t.Errorf("last error = %q, want %q", got, want)
	}
}

// TestSyntaxErrorLines pins the line numbers reported for malformed YAML,
// which depend on how go.yaml.in/yaml/v3 numbers them (see syntaxError).
func TestSyntaxErrorLines(t *testing.T) {
	tests := []struct {
		in       string
		wantLine int
	}{
		{"a: b: c\n", 1},
		{"a: 1\nb: 2\nc: d: e\n", 3},
		{"a: 1\nb: [1, 2\nc: 3\n", 2},
		{"a: 1\n- b\n", 2},
		{"a: 1\nb: 2\n\tc: 3\n", 2}, // the parser blames the line before the tab
		{"a: 1\nb: \"x\n", 2},
		{"a: 1\nb: 2\nc: 3\nd: [\n", 5}, // end of input, where content was expected
	}
	for _, tt := range tests {
		_, err := Parse("p.yaml", []byte(tt.in))
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("Parse(%q) = %v, want a *config.Error", tt.in, err)
			continue
		}
		if ce.Line != tt.wantLine || !strings.Contains(ce.Msg, "invalid YAML") {
			t.Errorf("Parse(%q) = %v, want line %d", tt.in, err, tt.wantLine)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "palisade.yaml")
	in := "store:\n  dsn: sqlite:data/palisade.db\nserver:\n  tls: {certFile: tls.crt, keyFile: /abs/tls.key}\n  tokensFile: tokens\n"
	if err := os.WriteFile(path, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Default()
	want.Store.DSN = "sqlite:" + filepath.Join(dir, "data/palisade.db")
	want.Server.TLS = TLS{CertFile: filepath.Join(dir, "tls.crt"), KeyFile: "/abs/tls.key"}
	want.Server.TokensFile = filepath.Join(dir, "tokens")
	if diff := cmp.Diff(want, got, ignoreInternal); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}

	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want os.ErrNotExist", err)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("log:\n  level: loud\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	if want := bad + `:2:3: log.level: unknown level "loud" (want debug, info, warn or error)`; err == nil || err.Error() != want {
		t.Errorf("Load(bad) = %v, want %q", err, want)
	}

	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxSize+10), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "4 MiB limit") {
		t.Errorf("Load(big) = %v, want the size limit error", err)
	}
}

func BenchmarkParseExample(b *testing.B) {
	data, err := os.ReadFile("testdata/palisade.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("palisade.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
