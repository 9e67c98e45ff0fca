package list

import (
	"regexp"
	"testing"
)

func TestDefaultNames(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z]+(/[a-z0-9-]+)+$`)
	seen := map[string]bool{}
	exs := Default()
	if len(exs) == 0 {
		t.Fatal("Default() is empty")
	}
	for _, ex := range exs {
		n := ex.Name()
		if !valid.MatchString(n) {
			t.Errorf("extractor name %q does not match %s", n, valid)
		}
		if seen[n] {
			t.Errorf("extractor name %q is registered twice", n)
		}
		seen[n] = true
		if ex.Version() < 1 {
			t.Errorf("%s: Version() = %d, want >= 1", n, ex.Version())
		}
	}
}
