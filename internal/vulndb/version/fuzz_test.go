package version

import "testing"

// checkOrder asserts the properties of a total order on a triple of strings
// the comparator accepts: reflexivity, antisymmetry and transitivity.
func checkOrder(t *testing.T, c Comparator, a, b, x string) {
	vs := []string{a, b, x}
	for _, v := range vs {
		if _, err := c.Compare(v, v); err != nil {
			return // only valid versions are ordered
		}
	}
	cmp := func(p, q string) int {
		r, err := c.Compare(p, q)
		if err != nil {
			t.Fatalf("%s.Compare(%q, %q) failed on valid versions: %v", c.Name(), p, q, err)
		}
		return r
	}
	for _, v := range vs {
		if r := cmp(v, v); r != 0 {
			t.Fatalf("%s.Compare(%q, %q) = %d, want 0", c.Name(), v, v, r)
		}
	}
	for i := range vs {
		for j := range vs {
			if r, back := cmp(vs[i], vs[j]), cmp(vs[j], vs[i]); r != -back {
				t.Fatalf("%s: Compare(%q, %q) = %d but Compare(%q, %q) = %d", c.Name(), vs[i], vs[j], r, vs[j], vs[i], back)
			}
		}
	}
	ab, bx, ax := cmp(a, b), cmp(b, x), cmp(a, x)
	if ab <= 0 && bx <= 0 && ax > 0 || ab >= 0 && bx >= 0 && ax < 0 {
		t.Fatalf("%s not transitive: %q ? %q = %d, %q ? %q = %d, %q ? %q = %d", c.Name(), a, b, ab, b, x, bx, a, x, ax)
	}
	if ab == 0 && bx == 0 && ax != 0 {
		t.Fatalf("%s equality not transitive on %q, %q, %q", c.Name(), a, b, x)
	}
}

func fuzzComparator(f *testing.F, c Comparator, seeds ...string) {
	for i := range seeds {
		f.Add(seeds[i], seeds[(i+1)%len(seeds)], seeds[(i+2)%len(seeds)])
	}
	f.Fuzz(func(t *testing.T, a, b, x string) { checkOrder(t, c, a, b, x) })
}

func FuzzDpkg(f *testing.F) {
	fuzzComparator(f, Dpkg(), "1:2.3-4", "1.0~rc1", "1.0", "1.0+deb12u1", "1.0a-1~bpo1", "2.36.1-8")
}

func FuzzApk(f *testing.F) {
	fuzzComparator(f, Apk(), "1.0_rc1-r2", "1.01", "1.1", "1.0a", "1.0_p1", "1.0_alpha_beta2~abc-r1")
}

func FuzzRPM(f *testing.F) {
	fuzzComparator(f, RPM(), "1:1.0-1.el9", "1.0~rc1", "1.0^git1", "1.0", "5.5p10", "xyz.4")
}

func FuzzSemVer(f *testing.F) {
	fuzzComparator(f, SemVer(), "v1.2.3", "1.0.0-alpha.1", "1.0.0-alpha.beta", "v0.0.0-20210101000000-abcdefabcdef", "2.0.0+incompatible", "1.2")
}

func FuzzPEP440(f *testing.F) {
	fuzzComparator(f, PEP440(), "1!1.0", "1.0a1.dev2", "1.0.post1", "1.0+abc.5", "1.0rc1", "1.dev0")
}

// FuzzMaven checks the order properties on versions that start with a
// digit. Maven's ComparableVersion is not a total order when a version
// starts with a qualifier: "0" > "0a0" > "c0" > "0" (testdata/fuzz), and we
// follow Maven rather than invent an order Maven does not have.
func FuzzMaven(f *testing.F) {
	seeds := []string{"1.0-alpha-1", "1.0-SNAPSHOT", "1-sp", "1.0.0.RELEASE", "2.9.10.8", "1-a1"}
	for i := range seeds {
		f.Add(seeds[i], seeds[(i+1)%len(seeds)], seeds[(i+2)%len(seeds)])
	}
	f.Fuzz(func(t *testing.T, a, b, x string) {
		for _, v := range []string{a, b, x} {
			if v == "" || !isDigit(v[0]) {
				return
			}
		}
		checkOrder(t, Maven(), a, b, x)
	})
}

// TestMavenQualifierFirstCycle pins the intransitivity the fuzzer found,
// which ComparableVersion has too.
func TestMavenQualifierFirstCycle(t *testing.T) {
	runOrder(t, Maven(), []orderCase{{"0", "0a0", 1}, {"0a0", "c0", 1}, {"0", "c0", -1}})
}
