package version

import "testing"

// Cases from PEP 440 ("Summary of permitted suffixes and relative
// ordering", "Normalization") and packaging's tests/test_version.py.
func TestPEP440Order(t *testing.T) {
	runOrder(t, PEP440(), []orderCase{
		// The ordering example of PEP 440.
		{"1.dev0", "1.0.dev456", -1},
		{"1.0.dev456", "1.0a1", -1},
		{"1.0a1", "1.0a2.dev456", -1},
		{"1.0a2.dev456", "1.0a12.dev456", -1},
		{"1.0a12.dev456", "1.0a12", -1},
		{"1.0a12", "1.0b1.dev456", -1},
		{"1.0b1.dev456", "1.0b2", -1},
		{"1.0b2", "1.0b2.post345.dev456", -1},
		{"1.0b2.post345.dev456", "1.0b2.post345", -1},
		{"1.0b2.post345", "1.0rc1.dev456", -1},
		{"1.0rc1.dev456", "1.0rc1", -1},
		{"1.0rc1", "1.0", -1},
		{"1.0", "1.0+abc.5", -1},
		{"1.0+abc.5", "1.0+abc.7", -1},
		{"1.0+abc.7", "1.0+5", -1}, // a number beats a string in a local version
		{"1.0+5", "1.0.post456.dev34", -1},
		{"1.0.post456.dev34", "1.0.post456", -1},
		{"1.0.post456", "1.1.dev1", -1},
		// Epochs and release padding.
		{"1!1.0", "2.0", 1},
		{"1.0", "1.0.0", 0},
		{"1.0.0.0.1", "1.0", 1},
		{"1.10", "1.9", 1},
		// Normalization.
		{"1.0ALPHA1", "1.0a1", 0},
		{"1.0-beta.2", "1.0b2", 0},
		{"1.0c1", "1.0rc1", 0},
		{"1.0pre1", "1.0rc1", 0},
		{"1.0preview1", "1.0rc1", 0},
		{"1.0a", "1.0a0", 0},
		{"1.0-1", "1.0.post1", 0},
		{"1.0rev1", "1.0.post1", 0},
		{"1.0r", "1.0.post0", 0},
		{"1.0.dev", "1.0.dev0", 0},
		{"v1.0", "1.0", 0},
		{" 1.0 ", "1.0", 0},
		{"1.0+ubuntu-1", "1.0+ubuntu.1", 0},
		{"2.2.1", "2.2", 1},
	})
	runInvalid(t, PEP440(), []string{"", "french toast", "1.0+", "1.0+-a", "1.0.x", "1.0 a1"})
}
