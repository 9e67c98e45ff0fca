package vulndb

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
)

// Category is the finding category of vulnerability findings.
const Category = "vulnerability"

// Findings turns matches into findings about res (the scanned image): one
// per vulnerability per package. The rule ID is the preferred ID
// (PreferredID); the key evidence is the package's ecosystem, name and
// version, so the finding ID is stable across scans of the same image.
func Findings(ms []Match, res finding.Resource) []finding.Finding {
	out := make([]finding.Finding, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Finding(res))
	}
	return out
}

// Finding is the finding of one match.
func (m *Match) Finding(res finding.Resource) finding.Finding {
	q := m.Query
	f := finding.Finding{
		RuleID:   m.ID,
		Title:    m.title(),
		Severity: m.Severity,
		Category: Category,
		Resource: res,
		Evidence: []finding.Evidence{
			{Name: "ecosystem", Value: q.Ecosystem, Key: true},
			{Name: "package", Value: q.Name, Key: true},
			{Name: "version", Value: q.Version, Key: true},
		},
	}
	if q.SourceName != "" && q.SourceName != q.Name {
		f.Evidence = append(f.Evidence, finding.Evidence{Name: "sourcePackage", Value: q.SourceName})
	}
	if q.PURL != "" {
		f.Evidence = append(f.Evidence, finding.Evidence{Name: "purl", Value: q.PURL})
	}
	if len(m.IDs) > 1 {
		f.Evidence = append(f.Evidence, finding.Evidence{Name: "aliases", Value: strings.Join(m.IDs[1:], ", ")})
	}
	if m.Vector != "" {
		f.Evidence = append(f.Evidence,
			finding.Evidence{Name: "cvssScore", Value: strconv.FormatFloat(m.Score, 'f', 1, 64)},
			finding.Evidence{Name: "cvssVector", Value: m.Vector})
	}
	if m.FixedVersion != "" {
		f.Evidence = append(f.Evidence, finding.Evidence{Name: "fixedVersion", Value: m.FixedVersion})
		f.Remediation = fmt.Sprintf("upgrade %s to %s", m.upgradeName(), m.FixedVersion)
		f.Message = fmt.Sprintf("%s %s is affected by %s; fixed in %s", q.Name, q.Version, m.ID, m.FixedVersion)
	} else {
		f.Remediation = fmt.Sprintf("no fixed version of %s is known; remove the package or accept the risk with an exception", m.upgradeName())
		f.Message = fmt.Sprintf("%s %s is affected by %s; no fix is known", q.Name, q.Version, m.ID)
	}
	f.References = m.references()
	return f
}

// upgradeName is what the user upgrades: the source package's binary, or
// the package itself.
func (m *Match) upgradeName() string {
	if m.Query.SourceName != "" && m.Query.SourceName != m.Query.Name {
		return fmt.Sprintf("%s (source package %s)", m.Query.Name, m.Query.SourceName)
	}
	return m.Query.Name
}

func (m *Match) title() string {
	for _, v := range m.Advisories {
		if s := strings.TrimSpace(v.Summary); s != "" {
			return s
		}
	}
	for _, v := range m.Advisories {
		if d := strings.TrimSpace(v.Details); d != "" {
			line, _, _ := strings.Cut(d, "\n")
			if len(line) > 120 {
				line = line[:117] + "..."
			}
			return line
		}
	}
	return fmt.Sprintf("%s in %s", m.ID, m.Query.Name)
}

// references lists an osv.dev page per identifier, then the advisories'
// own links, without duplicates.
func (m *Match) references() []string {
	seen := map[string]bool{}
	var out []string
	add := func(u string) {
		if u != "" && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	for _, id := range m.IDs {
		add("https://osv.dev/vulnerability/" + id)
	}
	var links []string
	for _, v := range m.Advisories {
		for _, r := range v.References {
			links = append(links, r.URL)
		}
	}
	for _, l := range links {
		add(l)
	}
	return out
}
