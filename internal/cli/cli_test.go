package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/vulndb"
)

// run executes the CLI in-process and returns exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runEnv(t, nil, args...)
}

// runEnv is run with environment variables vars.
func runEnv(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := Env{
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return vars[k] },
		Now:    func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) },
	}
	code := Execute(context.Background(), args, env)
	return code, stdout.String(), stderr.String()
}

func TestVersion(t *testing.T) {
	t.Setenv("PALISADE_CACHE_DIR", t.TempDir())
	code, out, errOut := run(t, "version")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	for _, want := range []string{"palisade dev", "commit:", runtime.Version(), "advisory db: none"} {
		if !strings.Contains(out, want) {
			t.Errorf("version output lacks %q:\n%s", want, out)
		}
	}

	// With a database present, its age is shown.
	db := filepath.Join(os.Getenv("PALISADE_CACHE_DIR"), "vulndb", "osv.db")
	bundle := filepath.Join(t.TempDir(), "Go-all.zip")
	writeZip(t, bundle, map[string]string{"GO-2099-0001.json": `{"id":"GO-2099-0001","modified":"2026-01-01T00:00:00Z","published":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Go","name":"example.com/m"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.1"}]}]}]}`})
	imported := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	if _, err := vulndb.Import(t.Context(), db, []string{bundle}, vulndb.ImportOptions{Now: func() time.Time { return imported }}); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(t, "version", "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	var v struct {
		Version    string
		GoVersion  string
		AdvisoryDB struct {
			Present    bool
			Age        string
			Advisories int
		}
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("version -o json is not JSON: %v\n%s", err, out)
	}
	if v.Version != "dev" || v.GoVersion != runtime.Version() || !v.AdvisoryDB.Present || v.AdvisoryDB.Age != "3d" || v.AdvisoryDB.Advisories != 1 {
		t.Errorf("version -o json = %+v", v)
	}
}

func writeZip(t *testing.T, path string, files map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("baseline:\n  maxVulnerabilities:\n    critical: 0\n  noSecret: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	malformed := filepath.Join(dir, "malformed.yaml")
	if err := os.WriteFile(malformed, []byte("server:\n  listen: [unclosed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		want       int
		wantStderr string
	}{
		{"help", []string{"--help"}, ExitOK, ""},
		{"unknown command", []string{"frobnicate"}, ExitUsage, "unknown command"},
		{"unknown flag", []string{"version", "--frob"}, ExitUsage, "unknown flag"},
		{"extra argument", []string{"version", "x"}, ExitUsage, "unknown command"},
		{"bad output format", []string{"version", "-o", "xml"}, ExitUsage, `unknown output format "xml"`},
		{"bad log level", []string{"version", "--log-level", "loud"}, ExitUsage, "--log-level"},
		{"missing config", []string{"version", "--config", filepath.Join(dir, "nope.yaml")}, ExitUsage, "nope.yaml"},
		{"unknown config field names file and line", []string{"version", "--config", bad}, ExitUsage, "bad.yaml:4:3"},
		{"malformed config names file", []string{"version", "--config", malformed}, ExitUsage, "malformed.yaml:"},
		{"plain http off loopback", []string{"serve", "--plain-http", "--listen", "0.0.0.0:0"}, ExitUsage, "only allowed on a loopback"},
		{"tls cert without key", []string{"serve", "--tls-cert", "x.pem"}, ExitUsage, "together"},
		{"unknown subcommand", []string{"posture", "scann", "."}, ExitUsage, `unknown command "scann" for "palisade posture"; did you mean can or scan?`},
		{"unknown subcommand two deep", []string{"image", "attestation", "x"}, ExitUsage, `unknown command "attestation" for "palisade image"`},
		{"group alone prints its help", []string{"posture"}, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.args...)
			if code != tt.want {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.want, out, errOut)
			}
			if !strings.Contains(errOut, tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, errOut)
			}
		})
	}
}

// TestUsageHint checks that the pointer to --help follows mistakes of the
// command line only, not input or configuration errors the message names.
func TestUsageHint(t *testing.T) {
	const hint = "Run 'palisade --help' for usage."
	tests := []struct {
		args     []string
		wantHint bool
	}{
		{[]string{"frobnicate"}, true},
		{[]string{"posture", "scann"}, true},
		{[]string{"version", "x"}, true},
		{[]string{"posture", "scan", filepath.Join(t.TempDir(), "nope.yaml")}, false},
		{[]string{"version", "--config", filepath.Join(t.TempDir(), "nope.yaml")}, false},
	}
	for _, tt := range tests {
		_, _, errOut := run(t, tt.args...)
		if got := strings.Contains(errOut, hint); got != tt.wantHint {
			t.Errorf("%q: usage hint %v, want %v; stderr:\n%s", tt.args, got, tt.wantHint, errOut)
		}
	}
}

func TestHelpDocumentsExitCodes(t *testing.T) {
	_, out, _ := run(t, "--help")
	for _, want := range []string{"Exit codes:", "policy violation", "usage or input error", "internal error", "--output", "--config", "--no-color", "--log-level"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

func TestExitCode(t *testing.T) {
	if got := ExitCode(nil); got != ExitOK {
		t.Errorf("ExitCode(nil) = %d", got)
	}
	if got := ExitCode(errViolation); got != ExitViolation {
		t.Errorf("ExitCode(violation) = %d", got)
	}
	if got := ExitCode(os.ErrPermission); got != ExitInternal {
		t.Errorf("ExitCode(plain error) = %d", got)
	}
}

// TestStdLogWriter: lines libraries write with the standard log package
// (Helm's value-merging warnings) become warnings of the command's logger.
func TestStdLogWriter(t *testing.T) {
	var buf strings.Builder
	w := stdLogWriter{slog.New(slog.NewJSONHandler(&buf, nil))}
	msg := "warning: destination for a.b is a table. Ignoring non-table value ([])\nsecond line\n\n"
	if n, err := w.Write([]byte(msg)); n != len(msg) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"level":"WARN","msg":"destination for a.b is a table. Ignoring non-table value ([])","from":"library"`) || !strings.Contains(lines[1], `"msg":"second line"`) {
		t.Errorf("logged:\n%s", buf.String())
	}
}
