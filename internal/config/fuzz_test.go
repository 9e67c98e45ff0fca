package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	klabels "k8s.io/apimachinery/pkg/labels"

	"github.com/palisade-sec/palisade/internal/finding"
)

// addSeeds adds every YAML file under testdata to the corpus.
func addSeeds(f *testing.F) {
	f.Helper()
	paths, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	more, err := filepath.Glob("testdata/*/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range append(paths, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzParse checks that Parse never panics, that every problem it reports
// names the file, and that what it accepts is valid.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.yaml"
		c, err := Parse(name, data)
		if err != nil {
			if c != nil {
				t.Fatal("Parse returned both a config and an error")
			}
			errs := []error{err}
			var joined interface{ Unwrap() []error }
			if errors.As(err, &joined) {
				errs = joined.Unwrap()
			}
			for _, e := range errs {
				if !strings.HasPrefix(e.Error(), name+":") {
					t.Fatalf("error does not name the file: %q", e.Error())
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that Validate rejects: %v", err)
		}
		fd := &finding.Finding{RuleID: "CVE-1", Resource: finding.Resource{Namespace: "n", Kind: "Pod", Name: "p", Image: "r/i:t@sha256:x"}}
		ApplyExceptions(time.Unix(0, 0), c.Exceptions, []finding.Finding{*fd}, func(finding.Resource) map[string]string { return map[string]string{"a": "b"} })
	})
}

// FuzzParseDuration checks that every duration ParseDuration accepts
// formats back to one that parses to the same value.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"0", "7d", "1d12h", "1.5w", "-36h0m0s", "250ms", "3µs", "99999999999999d", ".5d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %d; its String %q parses to %d, %v", s, int64(d), d.String(), int64(back), err)
		}
	})
}

// FuzzLabelsSelector checks that matching with any selector text never
// panics, that one that does not parse matches nothing, and that the
// canonical form StableID hashes is itself stable.
func FuzzLabelsSelector(f *testing.F) {
	for _, s := range []string{"app=web", "app=web,tier!=db,env in (prod,stage)", "!x", "x", "a notin (b)", "a = = b", "a>1", ""} {
		f.Add(s, "app", "web")
	}
	f.Fuzz(func(t *testing.T, sel, key, value string) {
		e := &Exception{Match: Match{Labels: sel}}
		fd := &finding.Finding{}
		got := e.Matches(fd, map[string]string{key: value})
		parsed, err := klabels.Parse(sel)
		if err != nil {
			if got {
				t.Fatalf("selector %q does not parse (%v) but matched", sel, err)
			}
			return
		}
		again, err := klabels.Parse(parsed.String())
		if err != nil || again.String() != parsed.String() {
			t.Fatalf("canonical form %q of %q does not round-trip: %q, %v", parsed.String(), sel, again, err)
		}
	})
}
