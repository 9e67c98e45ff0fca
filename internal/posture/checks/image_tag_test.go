package checks

import (
	"strings"
	"testing"
)

func TestValidDigest(t *testing.T) {
	hex64 := strings.Repeat("a", 64)
	for _, tc := range []struct {
		digest string
		want   bool
	}{
		{"sha256:" + hex64, true},
		{"sha256:" + strings.Repeat("0", 64), true},
		{"sha512:" + hex64 + hex64, true},
		{"blake3:" + hex64, true},
		{"custom-algorithm:aaaaaaaa", true}, // unregistered: the generic grammar only
		{"multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", true},
		{"sha256:abc", false},
		{"sha256:" + strings.ToUpper(hex64), false},
		{"sha512:" + hex64, false},
		{"blake3:" + hex64 + "a", false},
		{hex64, false},
		{"SHA256:" + hex64, false},
		{"sha256:", false},
		{":" + hex64, false},
		{"sha256:" + hex64 + "\n", false},
	} {
		t.Run(tc.digest, func(t *testing.T) {
			if got := validDigest(tc.digest); got != tc.want {
				t.Errorf("validDigest(%q) = %v, want %v", tc.digest, got, tc.want)
			}
		})
	}
}

// FuzzValidDigest checks that validDigest never panics and that what it
// accepts has the algorithm:encoded shape parseImage relies on.
func FuzzValidDigest(f *testing.F) {
	for _, s := range []string{"sha256:" + strings.Repeat("a", 64), "sha256:abc", "a:b", ":", "", "sha512:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, d string) {
		if !validDigest(d) {
			return
		}
		alg, enc, ok := strings.Cut(d, ":")
		if !ok || alg == "" || enc == "" || strings.ContainsAny(d, "@/ \n") {
			t.Errorf("validDigest(%q) = true for a malformed digest", d)
		}
	})
}
