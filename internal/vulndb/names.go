package vulndb

import (
	"regexp"
	"strings"
)

var pypiSeparators = regexp.MustCompile(`[-_.]+`)

// normalizeName returns the form a package name is indexed and looked up
// by. PyPI names are case-insensitive and treat runs of "-", "_" and "." as
// equal (PEP 503), so "Django", "django" and "dja_ngo"-style spellings meet;
// other ecosystems compare names exactly.
func normalizeName(ecosystem, name string) string {
	if baseEcosystem(ecosystem) == "PyPI" {
		return pypiSeparators.ReplaceAllString(strings.ToLower(name), "-")
	}
	return name
}
