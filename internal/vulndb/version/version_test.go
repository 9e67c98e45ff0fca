package version

import (
	"errors"
	"testing"
)

// orderCase says a < b (want -1), a == b (0) or a > b (+1).
type orderCase struct {
	a, b string
	want int
}

func runOrder(t *testing.T, c Comparator, cases []orderCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.a+"_vs_"+tc.b, func(t *testing.T) {
			got, err := c.Compare(tc.a, tc.b)
			if err != nil {
				t.Fatalf("%s.Compare(%q, %q): %v", c.Name(), tc.a, tc.b, err)
			}
			if got != tc.want {
				t.Errorf("%s.Compare(%q, %q) = %d, want %d", c.Name(), tc.a, tc.b, got, tc.want)
			}
			// Antisymmetry on every case.
			if back, _ := c.Compare(tc.b, tc.a); back != -tc.want {
				t.Errorf("%s.Compare(%q, %q) = %d, want %d", c.Name(), tc.b, tc.a, back, -tc.want)
			}
		})
	}
}

func runInvalid(t *testing.T, c Comparator, bad []string) {
	t.Helper()
	for _, v := range bad {
		if _, err := c.Compare(v, "1"); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s.Compare(%q, 1) error = %v, want ErrInvalid", c.Name(), v, err)
		}
	}
}

func TestForEcosystem(t *testing.T) {
	for eco, want := range map[string]string{
		"Debian:12": "dpkg", "Debian": "dpkg", "Ubuntu:22.04:LTS": "dpkg", "Alpine:v3.11": "apk",
		"Red Hat": "rpm", "Rocky Linux:9": "rpm", "Go": "semver", "npm": "semver", "crates.io": "semver",
		"PyPI": "pep440", "Maven": "maven",
	} {
		c, ok := ForEcosystem(eco)
		if !ok || c.Name() != want {
			t.Errorf("ForEcosystem(%q) = %v, %v; want %s", eco, c, ok, want)
		}
	}
	if _, ok := ForEcosystem("Nonexistent"); ok {
		t.Error("ForEcosystem(Nonexistent) found a comparator")
	}
}
