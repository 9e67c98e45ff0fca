package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestImagePolicySection covers the section's names: imagePolicy, its
// deprecated alias baseline (same struct, a warning), and both at once
// (an error naming both lines).
func TestImagePolicySection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		in           string
		wantErr      string // substring of the error; empty means success
		wantWarnings []string
		want         func(*Config)
	}{
		{
			name: "imagePolicy",
			in:   "imagePolicy:\n  warnDBAge: 1d\n  maxDBAge: 3d\n",
			want: func(c *Config) { c.ImagePolicy.WarnDBAge, c.ImagePolicy.MaxDBAge = Day, 3*Day },
		},
		{
			name:         "baseline alias reads the same struct",
			in:           "log: {level: warn}\nbaseline:\n  warnDBAge: 1d\n  maxDBAge: 3d\n",
			wantWarnings: []string{"palisade.yaml:2:1: baseline: deprecated section name; rename it to imagePolicy (it is read the same way)"},
			want: func(c *Config) {
				c.ImagePolicy.WarnDBAge, c.ImagePolicy.MaxDBAge = Day, 3*Day
				c.Log.Level = "warn"
			},
		},
		{
			name:    "both names",
			in:      "imagePolicy:\n  noSecrets: false\nlog: {level: warn}\nbaseline:\n  noSecrets: true\n",
			wantErr: "palisade.yaml:4:1: baseline: imagePolicy (line 1) and baseline (line 4) are the same section (baseline is the deprecated name of imagePolicy); keep only imagePolicy",
		},
		{
			name:    "both names, baseline first",
			in:      "baseline: {}\nimagePolicy: {}\n",
			wantErr: "palisade.yaml:2:1: imagePolicy: baseline (line 1) and imagePolicy (line 2) are the same section",
		},
		{
			name:    "problems under the alias name the alias",
			in:      "baseline:\n  maxDBAge: -1d\n",
			wantErr: "palisade.yaml:2:3: baseline.maxDBAge: must not be negative",
		},
		{
			name:    "negative warnDBAge",
			in:      "imagePolicy:\n  warnDBAge: -2h\n",
			wantErr: "palisade.yaml:2:3: imagePolicy.warnDBAge: must not be negative, got -2h0m0s (0 disables the warning)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse("palisade.yaml", []byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.wantWarnings, got.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			want := Default()
			tt.want(want)
			want.Warnings = tt.wantWarnings
			if diff := cmp.Diff(want, got, ignoreInternal); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeniedPackagesDecode(t *testing.T) {
	t.Parallel()
	in := `imagePolicy:
  deniedPackages:
    - name: netcat-openbsd
      reason: no network tools in production images
    - name: org.apache.logging.log4j:log4j-core
      ecosystem: Maven
      versions: ">=2.0-beta9, <2.17.1"
      reason: Log4Shell
    - name: xz-utils
      ecosystem: Debian
      versions: ["5.6.0-0.1", "5.6.1-1"]
      reason: CVE-2024-3094 backdoor
`
	got, err := Parse("palisade.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []DeniedPackage{
		{Name: "netcat-openbsd", Reason: "no network tools in production images"},
		{Name: "org.apache.logging.log4j:log4j-core", Ecosystem: "Maven", Versions: []string{">=2.0-beta9, <2.17.1"}, Reason: "Log4Shell"},
		{Name: "xz-utils", Ecosystem: "Debian", Versions: []string{"5.6.0-0.1", "5.6.1-1"}, Reason: "CVE-2024-3094 backdoor"},
	}
	if diff := cmp.Diff(want, got.ImagePolicy.DeniedPackages); diff != "" {
		t.Errorf("deniedPackages (-want +got):\n%s", diff)
	}
}

func TestDeniedPackagesInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []string
	}{
		{
			name: "missing name and reason",
			in:   "imagePolicy:\n  deniedPackages:\n    - ecosystem: npm\n",
			want: []string{
				"palisade.yaml:3:7: imagePolicy.deniedPackages[0].name: missing: name the package to deny",
				"palisade.yaml:3:7: imagePolicy.deniedPackages[0].reason: missing: say why the package is denied",
			},
		},
		{
			name: "versions without ecosystem",
			in:   "imagePolicy:\n  deniedPackages:\n    - {name: left-pad, versions: [1.0.0], reason: r}\n",
			want: []string{"palisade.yaml:3:24: imagePolicy.deniedPackages[0].versions: versions need an ecosystem"},
		},
		{
			name: "ecosystem without a version order",
			in:   "imagePolicy:\n  deniedPackages:\n    - {name: x, ecosystem: Bogus, versions: [\"1\"], reason: r}\n",
			want: []string{`imagePolicy.deniedPackages[0].ecosystem: no version order is known for ecosystem "Bogus"`},
		},
		{
			name: "bad range syntax",
			in:   "imagePolicy:\n  deniedPackages:\n    - name: x\n      ecosystem: npm\n      versions: [\">=1.0.0,\", \"< \"]\n      reason: r\n",
			want: []string{
				`palisade.yaml:5:18: imagePolicy.deniedPackages[0].versions[0]: version range ">=1.0.0,": empty comparison`,
				`palisade.yaml:5:30: imagePolicy.deniedPackages[0].versions[1]: version range "< ": "<" has no version after the operator`,
			},
		},
		{
			name: "not a version of the ecosystem",
			in:   "imagePolicy:\n  deniedPackages:\n    - {name: x, ecosystem: npm, versions: \"<banana\", reason: r}\n",
			want: []string{`imagePolicy.deniedPackages[0].versions[0]: "banana" is not a npm version`},
		},
		{
			name: "not a list",
			in:   "imagePolicy:\n  deniedPackages: {name: x}\n",
			want: []string{"palisade.yaml:2:3: imagePolicy.deniedPackages: want a list of packages, each with a name and a reason, got a mapping"},
		},
		{
			name: "unknown field",
			in:   "imagePolicy:\n  deniedPackages:\n    - {name: x, reason: r, version: 1}\n",
			want: []string{`unknown field "version" (did you mean "versions"?)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("palisade.yaml", []byte(tt.in))
			if err == nil {
				t.Fatal("Parse accepted it")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestDeniedPackageMatches(t *testing.T) {
	t.Parallel()
	log4j := DeniedPackage{Name: "org.apache.logging.log4j:log4j-core", Ecosystem: "Maven", Versions: []string{">=2.0-beta9, <2.17.1"}, Reason: "r"}
	xz := DeniedPackage{Name: "xz-utils", Ecosystem: "Debian", Versions: []string{"5.6.0-0.1 || 5.6.1-1"}, Reason: "r"}
	netcat := DeniedPackage{Name: "netcat-openbsd", Reason: "r"}
	py := DeniedPackage{Name: "PyYAML", Ecosystem: "PyPI", Versions: []string{"<5.4"}, Reason: "r"}
	tests := []struct {
		name             string
		d                DeniedPackage
		eco, pkg, ver    string
		want             bool
		wantErrSubstring string
	}{
		{"maven in range", log4j, "Maven", "org.apache.logging.log4j:log4j-core", "2.14.1", true, ""},
		{"maven beta in range", log4j, "Maven", "org.apache.logging.log4j:log4j-core", "2.0-rc1", true, ""},
		{"maven fixed", log4j, "Maven", "org.apache.logging.log4j:log4j-core", "2.17.1", false, ""},
		{"maven 1.x before range", log4j, "Maven", "org.apache.logging.log4j:log4j-core", "1.2.17", false, ""},
		// dpkg order, not string order: an epoch puts 1:5.4 after 5.6.
		{"dpkg exact", xz, "Debian:12", "xz-utils", "5.6.1-1", true, ""},
		{"dpkg other release", xz, "Debian:12", "xz-utils", "5.4.1-0.2", false, ""},
		{"dpkg epoch is not equal", xz, "Debian:12", "xz-utils", "1:5.6.1-1", false, ""},
		{"other ecosystem", xz, "Ubuntu:22.04", "xz-utils", "5.6.1-1", false, ""},
		{"ecosystem prefix is not a family", DeniedPackage{Name: "a", Ecosystem: "Deb", Reason: "r"}, "Debian:12", "a", "1", false, ""},
		{"any version any ecosystem", netcat, "Alpine:v3.19", "netcat-openbsd", "1.226-r0", true, ""},
		{"other name", netcat, "Debian:12", "netcat-traditional", "1.10-47", false, ""},
		{"pypi normalized name", py, "PyPI", "pyyaml", "5.3.1", true, ""},
		{"pypi normalized name, fixed", py, "PyPI", "py_yaml", "6.0", false, ""},
		{"installed version not comparable", log4j, "Maven", "org.apache.logging.log4j:log4j-core", "", false, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.d.Matches(tt.eco, tt.pkg, tt.ver)
			if tt.wantErrSubstring != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrSubstring) {
					t.Fatalf("Matches error = %v, want %q", err, tt.wantErrSubstring)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Matches(%s, %s, %s) = %v, want %v", tt.eco, tt.pkg, tt.ver, got, tt.want)
			}
		})
	}
}

func TestParseVersionRanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []VersionRange
		wantErr string
	}{
		{in: "1.2.3", want: []VersionRange{{{"=", "1.2.3"}}}},
		{in: "==1.2.3", want: []VersionRange{{{"=", "1.2.3"}}}},
		{in: " >= 1.0 , < 2.0 ", want: []VersionRange{{{">=", "1.0"}, {"<", "2.0"}}}},
		{in: "<1 || >=3, !=3.1", want: []VersionRange{{{"<", "1"}}, {{">=", "3"}, {"!=", "3.1"}}}},
		{in: "", wantErr: "empty version range"},
		{in: "1 ||", wantErr: "empty comparison"},
		{in: ">>1", wantErr: `">>1" is not an operator`},
		{in: "1 2", wantErr: `"1 2" is not an operator`},
		{in: "=>1", wantErr: `"=>1" is not an operator`},
		{in: strings.Repeat("1", maxRangeLen+1), wantErr: "longer than"},
	}
	for _, tt := range tests {
		got, err := ParseVersionRanges(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseVersionRanges(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseVersionRanges(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseVersionRanges(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// FuzzParseVersionRanges checks that the range parser never panics and
// that what it accepts has only known operators and non-empty versions.
func FuzzParseVersionRanges(f *testing.F) {
	for _, s := range []string{"1.2.3", ">=1.0, <2.0", "<1 || >=3, !=3.1", "", "||", ",", ">=", "=>1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ranges, err := ParseVersionRanges(s)
		if err != nil {
			return
		}
		for _, r := range ranges {
			if len(r) == 0 {
				t.Fatalf("%q: empty range accepted", s)
			}
			for _, c := range r {
				switch c.Op {
				case "=", "!=", "<", "<=", ">", ">=":
				default:
					t.Fatalf("%q: unknown operator %q", s, c.Op)
				}
				if c.Version == "" || strings.ContainsAny(c.Version, " ,|") {
					t.Fatalf("%q: bad version %q", s, c.Version)
				}
			}
		}
	})
}
