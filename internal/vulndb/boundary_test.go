package vulndb

import (
	"archive/zip"
	"io"
	"testing"

	"github.com/palisade-sec/palisade/internal/vulndb/osv"
	"github.com/palisade-sec/palisade/internal/vulndb/version"
)

// TestRealBoundaries checks every advisory of the real Debian and Alpine
// bundles at its fix boundary: the fixed version itself is not affected, a
// version just below it is (Debian: "~" sorts before everything; Alpine:
// version 0), each reported with that fixed version.
func TestRealBoundaries(t *testing.T) {
	if testing.Short() {
		t.Skip("matches every real Debian and Alpine advisory")
	}
	d := openRealDB(t)
	type probe struct {
		q     Query
		id    string
		want  bool
		fixed string
	}
	var probes []probe
	for _, b := range bundlePaths(t, "Debian-all.zip", "Alpine-all.zip") {
		zr, err := zip.OpenReader(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			v, err := osv.Parse(data)
			if err != nil {
				t.Fatalf("%s %s: %v", b, f.Name, err)
			}
			entries := map[string]int{}
			for _, a := range v.Affected {
				entries[a.Package.Ecosystem+"/"+a.Package.Name]++
			}
			for _, a := range v.Affected {
				// Alpine's secfixes give one "introduced 0" range per
				// branch (php 5.6.33 and 7.0.27): then 5.6.33 is affected
				// by the 7.0 entry, as OSV defines it. Probe single entries.
				if entries[a.Package.Ecosystem+"/"+a.Package.Name] != 1 {
					continue
				}
				if len(a.Ranges) != 1 || len(a.Ranges[0].Events) != 2 || a.Ranges[0].Events[1].Fixed == "" {
					continue
				}
				fixed := a.Ranges[0].Events[1].Fixed
				// Alpine's data has a few fixed versions apk cannot parse
				// ("4.10-1-r1"); those ranges match nothing, by design.
				if c, ok := version.ForEcosystem(a.Package.Ecosystem); !ok {
					continue
				} else if _, err := c.Compare(fixed, fixed); err != nil {
					continue
				}
				below := fixed + "~"
				if baseEcosystem(a.Package.Ecosystem) == "Alpine" {
					below = "0"
				}
				q := Query{Ecosystem: a.Package.Ecosystem, Name: "bin-" + a.Package.Name, SourceName: a.Package.Name}
				at, under := q, q
				at.Version, under.Version = fixed, below
				probes = append(probes, probe{at, v.ID, false, ""}, probe{under, v.ID, true, fixed})
			}
		}
		zr.Close()
	}
	// Every 35th probe pair keeps the test fast on a shared machine while
	// covering every source package with several advisories.
	var sample []probe
	for i := 0; i+1 < len(probes); i += 70 {
		sample = append(sample, probes[i], probes[i+1])
	}
	if len(sample) < 200 {
		t.Fatalf("only %d probes", len(sample))
	}
	qs := make([]Query, len(sample))
	for i, p := range sample {
		qs[i] = p.q
	}
	ms, err := d.Match(t.Context(), qs)
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ eco, name, version, id string }
	got := map[key]*Match{}
	for i := range ms {
		for _, id := range ms[i].IDs {
			q := ms[i].Query
			got[key{q.Ecosystem, q.SourceName, q.Version, id}] = &ms[i]
		}
	}
	failures := 0
	for _, p := range sample {
		m := got[key{p.q.Ecosystem, p.q.SourceName, p.q.Version, p.id}]
		switch {
		case (m != nil) != p.want:
			t.Errorf("%s %s %s %s: matched %v, want %v", p.id, p.q.Ecosystem, p.q.SourceName, p.q.Version, m != nil, p.want)
			failures++
		case m != nil && m.FixedVersion == "":
			// Several advisories of one CVE merge and the highest fix is
			// kept, so only its presence is checked.
			t.Errorf("%s %s: no fixed version, want %s", p.id, p.q.Version, p.fixed)
			failures++
		}
		if failures > 20 {
			t.Fatal("too many failures")
		}
	}
	probes = sample
	t.Logf("%d boundary probes", len(probes))
}
