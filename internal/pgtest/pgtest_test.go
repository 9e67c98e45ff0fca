package pgtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestStart(t *testing.T) {
	s := NewServer()
	dsn1 := s.Database(t)
	dsn2 := s.Database(t)
	if dsn1 == dsn2 {
		t.Fatalf("two databases share the DSN %s", dsn1)
	}
	for _, dsn := range []string{dsn1, dsn2} {
		conn, err := pgx.Connect(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		var user string
		if err := conn.QueryRow(t.Context(), "SELECT current_user").Scan(&user); err != nil {
			t.Fatal(err)
		}
		if user != "postgres" {
			t.Errorf("current_user = %q, want postgres", user)
		}
		if _, err := conn.Exec(t.Context(), "CREATE TABLE t (x int)"); err != nil {
			t.Errorf("%s: %v", dsn, err)
		}
		conn.Close(t.Context())
	}

	pid, base := s.inst.cmd.Process.Pid, s.inst.base
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	// The process group is gone: postmaster and every backend.
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(-pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still alive after Stop", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(base); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory %s left behind (stat: %v)", base, err)
	}
}

func TestStartHelper(t *testing.T) {
	dsn := Start(t)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if err := conn.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestFindBinaries(t *testing.T) {
	dir := t.TempDir()
	mk := func(d string, names ...string) {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(d, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk(filepath.Join(dir, "9", "bin"), "initdb", "postgres")
	mk(filepath.Join(dir, "16", "bin"), "initdb", "postgres")
	mk(filepath.Join(dir, "17", "bin"), "initdb") // incomplete: skipped
	mk(filepath.Join(dir, "path"), "initdb", "postgres")
	glob := filepath.Join(dir, "*", "bin")
	notFound := func(string) (string, error) { return "", errors.New("not in PATH") }
	inPath := func(string) (string, error) { return filepath.Join(dir, "path", "initdb"), nil }

	for _, tc := range []struct {
		name     string
		lookPath func(string) (string, error)
		glob     string
		want     string
	}{
		{"PATH first", inPath, glob, filepath.Join(dir, "path")},
		{"highest complete version", notFound, glob, filepath.Join(dir, "16", "bin")},
	} {
		got, err := findBinaries(tc.lookPath, tc.glob)
		if err != nil || got != tc.want {
			t.Errorf("%s: findBinaries = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	_, err := findBinaries(notFound, filepath.Join(dir, "none", "*"))
	if !errors.Is(err, ErrNoPostgres) {
		t.Errorf("findBinaries with nothing installed: error = %v, want ErrNoPostgres", err)
	}
}

func TestDBSafe(t *testing.T) {
	for in, want := range map[string]string{
		"TestX/Sub_test#01":     "testx_sub_test_01",
		"Test/ünï code/'quote'": "test_n_code_quote_",
	} {
		if got := dbSafe(in); got != want {
			t.Errorf("dbSafe(%q) = %q, want %q", in, got, want)
		}
	}
	if got := dbSafe(string(make([]byte, 200))); len(got) > 40 {
		t.Errorf("dbSafe of a long name has %d bytes", len(got))
	}
}

// recordingTB records Skip and Fatal instead of acting on them; both end
// the calling goroutine, as the real ones do.
type recordingTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Skip(args ...any) {
	r.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestMissingBinaries(t *testing.T) {
	for _, tc := range []struct {
		require  string
		wantSkip bool
	}{
		{"", true},
		{"0", true},
		{"1", false},
	} {
		t.Run("require="+tc.require, func(t *testing.T) {
			t.Setenv(EnvRequire, tc.require)
			s := &Server{find: func() (string, error) { return "", fmt.Errorf("%w (searched nowhere)", ErrNoPostgres) }}
			rec := &recordingTB{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				s.Database(rec)
			}()
			<-done
			msg := rec.skipped + rec.failed
			if tc.wantSkip && rec.skipped == "" || !tc.wantSkip && rec.failed == "" {
				t.Errorf("skipped %q, failed %q; want a skip: %v", rec.skipped, rec.failed, tc.wantSkip)
			}
			if !strings.Contains(msg, "install Debian's postgresql package") {
				t.Errorf("message %q does not say what to install", msg)
			}
			if err := s.Stop(); err != nil {
				t.Errorf("Stop of a server that never started: %v", err)
			}
		})
	}
}
