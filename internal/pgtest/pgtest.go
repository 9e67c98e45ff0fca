// Package pgtest starts real PostgreSQL servers for tests: initdb into a
// temporary directory, postgres on a free loopback port, one fresh database
// per test. Nothing is mocked and nothing outside the temporary directory is
// touched; the server is stopped and the directory removed afterwards.
//
// PostgreSQL refuses to run as root. When the tests run as root (as in CI
// containers), initdb and postgres run as the unprivileged user "nobody"
// through the process credentials, in a directory that user owns.
//
// When the PostgreSQL binaries are missing, tests skip with a message saying
// to install Debian's postgresql package; with PALISADE_REQUIRE_POSTGRES=1
// (set by make test) they fail instead, so that CI cannot pass by skipping.
//
// One server per test binary is the cheap way to share it:
//
//	var pg *pgtest.Server // owned by TestMain
//
//	func TestMain(m *testing.M) {
//		pg = pgtest.NewServer()
//		code := m.Run()
//		if err := pg.Stop(); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//		}
//		os.Exit(code)
//	}
//
//	func TestX(t *testing.T) { dsn := pg.Database(t); … }
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// EnvRequire is the environment variable that, set to "1", turns a missing
// PostgreSQL into a test failure instead of a skip.
const EnvRequire = "PALISADE_REQUIRE_POSTGRES"

// ErrNoPostgres is returned when no PostgreSQL installation is found.
var ErrNoPostgres = errors.New("PostgreSQL binaries (initdb, postgres) not found in PATH or /usr/lib/postgresql/*/bin: install Debian's postgresql package (apt-get install postgresql)")

// Server is a PostgreSQL server that starts on first use and is shared by
// every test that asks it for a database. It is safe for concurrent use.
type Server struct {
	// find locates the PostgreSQL binaries; nil means the standard search.
	// Tests of the missing-binaries path replace it.
	find func() (string, error)

	once sync.Once
	inst *instance
	err  error

	mu      sync.Mutex
	n       int // databases created so far, for unique names
	stopped bool
}

// NewServer returns a server that is not started yet: the first call to
// Database starts it.
func NewServer() *Server { return &Server{} }

// Start starts a PostgreSQL server for t alone, stopped when t ends, and
// returns the DSN of a fresh database on it. Tests that share a server use
// a Server from TestMain instead; startup takes a second or two.
func Start(t testing.TB) string {
	t.Helper()
	s := NewServer()
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop PostgreSQL: %v", err)
		}
	})
	return s.Database(t)
}

// Database returns the DSN of a new, empty database, starting the server if
// this is the first call. It skips t, or fails it under
// PALISADE_REQUIRE_POSTGRES=1, when PostgreSQL is not installed, and fails t
// when the server cannot start.
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	return s.DatabaseWith(t, "")
}

// DatabaseWith is Database with options for CREATE DATABASE, for example
// "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'" to test under
// a linguistic collation.
func (s *Server) DatabaseWith(t testing.TB, options string) string {
	t.Helper()
	inst, err := s.start(t.Context())
	if errors.Is(err, ErrNoPostgres) {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%v (%s=1 requires it)", err, EnvRequire)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("start PostgreSQL: %v", err)
	}
	s.mu.Lock()
	s.n++
	name := fmt.Sprintf("t%d_%s", s.n, dbSafe(t.Name()))
	s.mu.Unlock()
	if _, err := inst.admin.Exec(t.Context(), "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" "+options); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	return inst.dsn(name)
}

func (s *Server) start(ctx context.Context) (*instance, error) {
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	if stopped {
		return nil, errors.New("server already stopped")
	}
	s.once.Do(func() {
		find := s.find
		if find == nil {
			find = func() (string, error) { return findBinaries(exec.LookPath, "/usr/lib/postgresql/*/bin") }
		}
		bin, err := find()
		if err != nil {
			s.err = err
			return
		}
		// Not ctx: the server outlives the test that happened to start it.
		s.inst, s.err = startInstance(context.WithoutCancel(ctx), bin)
	})
	return s.inst, s.err
}

// Stop stops the server, if it was started, and removes its directory.
// Calling it again does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	s.once.Do(func() { s.err = errors.New("server stopped before it started") })
	if s.inst == nil {
		return nil
	}
	return s.inst.stop()
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9_]+`)

// dbSafe turns a test name into part of a database name: lowercase, only
// [a-z0-9_], short enough for PostgreSQL's 63-byte identifiers.
func dbSafe(name string) string {
	s := unsafeChars.ReplaceAllString(strings.ToLower(name), "_")
	if len(s) > 40 {
		s = s[len(s)-40:]
	}
	return s
}
