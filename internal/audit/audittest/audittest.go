// Package audittest builds the real parts an audit pipeline test needs:
// an embedded JetStream bus and a SQLite store in temporary directories,
// and an engine with the built-in rules, so that pipeline tests set them
// up one way.
package audittest

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/cel-go/cel"

	"github.com/palisade-sec/palisade/internal/audit"
	"github.com/palisade-sec/palisade/internal/bus"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// RuleSource builds more rules in the engine's CEL environment, such as
// falcoevents.Rules.
type RuleSource func(*cel.Env) (*audit.RuleSet, error)

// Engine returns an engine with the built-in rules and those of more.
func Engine(t testing.TB, more ...RuleSource) *audit.Engine {
	t.Helper()
	engine, err := NewEngine(more...)
	if err != nil {
		t.Fatal(err)
	}
	return engine
}

// NewEngine is Engine for code that has no testing.TB: a test binary's
// child process, started by a test to be killed.
func NewEngine(more ...RuleSource) (*audit.Engine, error) {
	env, err := audit.NewCELEnv()
	if err != nil {
		return nil, err
	}
	rules, err := audit.Builtin(env)
	if err != nil {
		return nil, err
	}
	for _, src := range more {
		rs, err := src(env)
		if err != nil {
			return nil, err
		}
		rules.Merge(rs)
	}
	return audit.NewEngine(rules, audit.EngineOptions{})
}

// Stack opens an embedded bus and a SQLite store in fresh temporary
// directories; both are closed when the test ends.
func Stack(t testing.TB) (*bus.Bus, *sqlite.Store) {
	t.Helper()
	b, err := bus.Open(t.Context(), bus.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "p.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return b, st
}

// LogKeys reads a JSON-lines audit log as the API server writes it
// (--audit-log-path) and returns "auditID/stage" of every event in it, the
// key the store de-duplicates by.
func LogKeys(t testing.TB, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct{ AuditID, Stage string }
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		keys[ev.AuditID+"/"+ev.Stage] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}
