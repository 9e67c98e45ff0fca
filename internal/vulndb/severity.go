package vulndb

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/vulndb/cvss"
	"github.com/palisade-sec/palisade/internal/vulndb/osv"
)

// severity rates merged advisories. A CVSS vector wins over a database's
// own rating because its base score is computed here, the same way for
// every source: the package's severity entries first, then the document's;
// within one source CVSS v4.0 before v3.1/v3.0; across merged advisories the
// highest score. Without any vector the highest database_specific severity
// counts, else the severity is unknown.
func severity(hits []hit) (finding.Severity, float64, string) {
	bestScore, bestVector := -1.0, ""
	dbSev := finding.SeverityUnknown
	for _, h := range hits {
		if score, vector, ok := cvssOf(h.affected.Severity); ok {
			if score > bestScore {
				bestScore, bestVector = score, vector
			}
		} else if score, vector, ok := cvssOf(h.v.Severity); ok {
			if score > bestScore {
				bestScore, bestVector = score, vector
			}
		}
		if s, err := finding.ParseSeverity(h.v.DatabaseSeverity(h.affected)); err == nil && s > dbSev {
			dbSev = s
		}
	}
	if bestScore >= 0 {
		return cvss.Rating(bestScore), bestScore, bestVector
	}
	return dbSev, 0, ""
}

// cvssOf scores the first valid CVSS v4.0 vector, else v3.x vector.
func cvssOf(sevs []osv.Severity) (float64, string, bool) {
	for _, typ := range []string{"CVSS_V4", "CVSS_V3"} {
		for _, s := range sevs {
			if s.Type != typ {
				continue
			}
			if score, err := cvss.Score(s.Score); err == nil {
				return score, s.Score, true
			}
		}
	}
	return 0, "", false
}
