package sbom

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
)

// vulnCategory is the category of vulnerability findings (vulndb.Category;
// a test keeps the two equal without making this package depend on the
// advisory database).
const vulnCategory = "vulnerability"

// osvURL is where an identifier's record can be read.
const osvURL = "https://osv.dev/vulnerability/"

// vulnerabilities turns a scan's vulnerability findings into the
// vulnerabilities array: one entry per advisory ID, affecting every
// package a finding names, sorted by ID. A finding whose package is not in
// the inventory still appears, with the package URL as its ref, so that
// nothing the scan reported is dropped.
func vulnerabilities(fs []finding.Finding, refs *refIndex) []Vulnerability {
	byID := map[string]*Vulnerability{}
	var ids []string
	for i := range fs {
		f := &fs[i]
		if f.Category != vulnCategory {
			continue
		}
		ev := evidence(f)
		v := byID[f.RuleID]
		if v == nil {
			v = &Vulnerability{
				BOMRef:      "vuln:" + f.RuleID,
				ID:          f.RuleID,
				Source:      sourceFor(f.RuleID),
				Description: f.Title,
				Affects:     []Affect{},
			}
			for _, a := range splitList(ev["aliases"]) {
				if a != f.RuleID {
					v.References = append(v.References, Reference{ID: a, Source: *sourceFor(a)})
				}
			}
			for _, u := range f.References {
				v.Advisories = append(v.Advisories, Advisory{URL: u})
			}
			byID[f.RuleID] = v
			ids = append(ids, f.RuleID)
		}
		addRating(v, f, ev)
		ref, ok := refs.lookup(ev["purl"], f.Resource.File)
		if !ok {
			ref = cmp.Or(ev["purl"], ev["ecosystem"]+"/"+ev["package"]+"@"+ev["version"])
		}
		a := Affect{Ref: ref}
		if ev["version"] != "" {
			a.Versions = append(a.Versions, AffectVersion{Version: ev["version"], Status: "affected"})
		}
		if fixed := ev["fixedVersion"]; fixed != "" {
			// The fixed version is the first unaffected one: CycloneDX
			// has no field of its own for it; recommendation says it in words.
			a.Versions = append(a.Versions, AffectVersion{Version: fixed, Status: "unaffected"})
		}
		if !slices.ContainsFunc(v.Affects, func(x Affect) bool { return x.Ref == a.Ref }) {
			v.Affects = append(v.Affects, a)
		}
		if f.Remediation != "" && !strings.Contains(v.Recommendation, f.Remediation) {
			v.Recommendation = joinSentence(v.Recommendation, f.Remediation)
		}
		if f.Status == finding.StatusExcepted && v.Analysis == nil {
			v.Analysis = exceptionAnalysis(f.Exception)
		}
	}
	slices.Sort(ids)
	out := make([]Vulnerability, 0, len(ids))
	for _, id := range ids {
		v := byID[id]
		slices.SortFunc(v.Affects, func(a, b Affect) int { return strings.Compare(a.Ref, b.Ref) })
		out = append(out, *v)
	}
	return out
}

func evidence(f *finding.Finding) map[string]string {
	m := make(map[string]string, len(f.Evidence))
	for _, e := range f.Evidence {
		if _, ok := m[e.Name]; !ok {
			m[e.Name] = e.Value
		}
	}
	return m
}

// addRating adds the finding's severity, with its CVSS score and vector
// when the advisory gave one, unless v already has that rating.
func addRating(v *Vulnerability, f *finding.Finding, ev map[string]string) {
	r := Rating{Source: v.Source, Severity: f.Severity.String()}
	if vec := ev["cvssVector"]; vec != "" {
		r.Vector, r.Method = vec, cvssMethod(vec)
		// CVSS scores run from 0 to 10; anything else (NaN would even
		// break the JSON encoding) is left out rather than passed on.
		if s, err := strconv.ParseFloat(ev["cvssScore"], 64); err == nil && s >= 0 && s <= 10 {
			r.Score = &s
		}
	}
	for _, have := range v.Ratings {
		if have.Severity == r.Severity && have.Vector == r.Vector {
			return
		}
	}
	v.Ratings = append(v.Ratings, r)
}

// cvssMethod names the CVSS version of a vector the way CycloneDX does.
// Version 2 vectors carry no prefix.
func cvssMethod(vector string) string {
	switch {
	case strings.HasPrefix(vector, "CVSS:4.0/"):
		return "CVSSv4"
	case strings.HasPrefix(vector, "CVSS:3.1/"):
		return "CVSSv31"
	case strings.HasPrefix(vector, "CVSS:3.0/"):
		return "CVSSv3"
	case strings.HasPrefix(vector, "AV:"):
		return "CVSSv2"
	}
	return "other"
}

// sourceFor names the database an identifier belongs to, by its prefix;
// the URL is its osv.dev page, which resolves every one of them.
func sourceFor(id string) *Source {
	prefix, _, _ := strings.Cut(id, "-")
	nm := map[string]string{
		"CVE": "NVD", "GHSA": "GitHub Advisory Database", "GO": "Go Vulnerability Database",
		"PYSEC": "PyPI Advisory Database", "DSA": "Debian Security Tracker", "DLA": "Debian Security Tracker",
		"DEBIAN": "Debian Security Tracker", "ALPINE": "Alpine Security Tracker", "RUSTSEC": "RustSec",
	}[prefix]
	if nm == "" {
		nm = "OSV"
	}
	return &Source{Name: nm, URL: osvURL + id}
}

func exceptionAnalysis(x *finding.ExceptionRef) *Analysis {
	// CycloneDX has no "risk accepted" state; the response and the
	// detail say it without claiming the package is or is not exploitable.
	a := &Analysis{Response: []string{"will_not_fix"}, Detail: "accepted by an exception"}
	if x != nil {
		a.Detail = fmt.Sprintf("accepted by exception %s (owner %s): %s", x.ID, x.Owner, x.Reason)
		if !x.Expires.IsZero() {
			a.Detail += "; expires " + x.Expires.Format("2006-01-02")
		}
	}
	return a
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func joinSentence(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
