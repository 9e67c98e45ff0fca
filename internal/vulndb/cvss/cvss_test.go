package cvss

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/finding"
)

// TestV3Examples scores vectors from FIRST's "CVSS v3.1: Examples" document
// (and v3.0 examples, which have the same base scores).
func TestV3Examples(t *testing.T) {
	tests := []struct {
		name, vector string
		want         float64
	}{
		{"CVE-2014-0160 Heartbleed", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5},
		{"CVE-2014-6271 Shellshock", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
		{"CVE-2013-1937 phpMyAdmin reflected XSS", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1},
		{"CVE-2013-0375 MySQL stored SQL injection", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4},
		{"CVE-2014-3566 SSLv3 POODLE", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1},
		{"CVE-2012-1516 VMware guest to host escape", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9},
		{"CVE-2009-0783 Apache Tomcat XML parser", "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", 4.2},
		{"CVE-2012-0384 Cisco IOS command injection", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8},
		{"CVE-2015-1098 Apple iWork DoS", "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8},
		{"CVE-2014-2005 Sophos login screen bypass", "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8},
		{"CVE-2010-0467 Joomla directory traversal", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 5.8},
		{"CVE-2012-1342 Cisco ASA ACL bypass", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:L/A:N", 5.8},
		{"all high, scope changed", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0},
		{"no impact", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0},
		{"v3.0 vector", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
		{"temporal metrics ignored", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:C", 9.8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Score(tt.vector)
			if err != nil {
				t.Fatalf("Score(%q): %v", tt.vector, err)
			}
			if got != tt.want {
				t.Errorf("Score(%q) = %.1f, want %.1f", tt.vector, got, tt.want)
			}
		})
	}
}

// TestV31RoundUp checks the v3.1 specification's Appendix A example: Roundup
// must give 4.0 for 4.000000000000001, where a naive ceiling gives 4.1.
func TestV31RoundUp(t *testing.T) {
	v := &V3{Minor: 1}
	for in, want := range map[float64]float64{4.000000000000001: 4.0, 4.02: 4.1, 4.0: 4.0, 9.91: 10.0} {
		if got := v.roundUp(in); got != want {
			t.Errorf("roundUp(%v) = %v, want %v", in, got, want)
		}
	}
}

// TestV4Examples scores vectors whose scores FIRST publishes (CVSS v4.0
// specification and "CVSS v4.0 Examples") or that the reference calculator's
// documentation shows.
func TestV4Examples(t *testing.T) {
	tests := []struct {
		name, vector string
		want         float64
	}{
		{"highest MacroVector", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0},
		{"network RCE, vulnerable system only", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3},
		{"low impacts", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", 6.9},
		{"authenticated RCE", "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 8.7},
		{"local, passive user interaction", "CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 8.5},
		{"reflected XSS", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N", 5.1},
		{"no impact", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0},
		// The vector-string example of the specification, section 7, as the
		// FIRST calculator scores it.
		{"spec vector-string example", "CVSS:4.0/AV:L/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A/MAV:A/AU:N/R:A", 7.7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Score(tt.vector)
			if err != nil {
				t.Fatalf("Score(%q): %v", tt.vector, err)
			}
			if got != tt.want {
				t.Errorf("Score(%q) = %.1f, want %.1f", tt.vector, got, tt.want)
			}
		})
	}
}

// TestV4Reference compares 400 vectors with the reference calculator's scores.
func TestV4Reference(t *testing.T) {
	f, err := os.Open("testdata/v4_reference.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		vec, s, _ := strings.Cut(line, " ")
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("bad line %q", line)
		}
		got, err := Score(vec)
		if err != nil {
			t.Errorf("Score(%q): %v", vec, err)
			continue
		}
		if got != want {
			t.Errorf("Score(%q) = %.1f, reference %.1f", vec, got, want)
		}
		n++
	}
	if n < 400 {
		t.Errorf("only %d reference vectors", n)
	}
}

func TestInvalid(t *testing.T) {
	for _, v := range []string{
		"", "CVSS:2.0/AV:N", "AV:N/AC:L/Au:N/C:P/I:P/A:P",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", // A missing
		"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H", // SA missing
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:S/SA:H",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/ZZ:1",
	} {
		if _, err := Score(v); !errors.Is(err, ErrVector) {
			t.Errorf("Score(%q) error = %v, want ErrVector", v, err)
		}
	}
}

func TestRating(t *testing.T) {
	for score, want := range map[float64]finding.Severity{
		0: finding.SeverityInfo, 0.1: finding.SeverityLow, 3.9: finding.SeverityLow, 4.0: finding.SeverityMedium,
		6.9: finding.SeverityMedium, 7.0: finding.SeverityHigh, 8.9: finding.SeverityHigh, 9.0: finding.SeverityCritical, 10: finding.SeverityCritical,
	} {
		if got := Rating(score); got != want {
			t.Errorf("Rating(%v) = %v, want %v", score, got, want)
		}
	}
}

func FuzzScore(f *testing.F) {
	f.Add("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
	f.Add("CVSS:3.0/AV:P/AC:H/PR:H/UI:R/S:C/C:L/I:N/A:N")
	f.Add("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U/MSI:S")
	f.Add("CVSS:4.0/AV:L/AC:H/AT:P/PR:H/UI:A/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N/CR:L/MVC:H")
	f.Fuzz(func(t *testing.T, v string) {
		s, err := Score(v)
		if err != nil {
			return
		}
		if s < 0 || s > 10 || s*10 != float64(int(s*10+0.5)) && s*10-float64(int(s*10)) > 1e-9 {
			t.Fatalf("Score(%q) = %v, outside 0..10 or not one decimal", v, s)
		}
	})
}
