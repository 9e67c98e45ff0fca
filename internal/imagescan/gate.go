package imagescan

import (
	"fmt"
	"time"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/vulndb"
)

// Verdict is the golden-image gate's decision.
type Verdict struct {
	Pass bool `json:"pass"`
	// Reasons says, one line each, why the image failed.
	Reasons []string `json:"reasons,omitempty"`
}

// String is the one-line verdict the table output ends with.
func (v Verdict) String() string {
	if v.Pass {
		return "PASS: the image meets the baseline"
	}
	return fmt.Sprintf("FAIL: %d reason(s)", len(v.Reasons))
}

// Judge applies the baseline to a report: vulnerability counts per severity
// (optionally only those with a fix), secrets, the advisory database's age,
// and completeness (a partial scan fails).
func Judge(r *finding.Report, b config.Baseline, dbAge time.Duration) Verdict {
	var reasons []string
	if r.IsPartial() {
		reasons = append(reasons, "the scan is partial: part of the image could not be read")
	}
	if max := time.Duration(b.MaxDBAge); max > 0 && dbAge > max {
		reasons = append(reasons, fmt.Sprintf("the advisory database is %s old, more than the allowed %s; run palisade db update", dbAge.Round(time.Hour), b.MaxDBAge))
	}
	counts := map[finding.Severity]int{}
	secrets := 0
	for i := range r.Findings {
		f := &r.Findings[i]
		if !f.Open() {
			continue
		}
		switch f.Category {
		case vulndb.Category:
			if b.FailOnFixableOnly && !hasFix(f) {
				continue
			}
			counts[f.Severity]++
		case "secret":
			secrets++
		}
	}
	for _, sev := range b.MaxVulnerabilities.Exceeded(counts) {
		qual := ""
		if b.FailOnFixableOnly {
			qual = " fixable"
		}
		reasons = append(reasons, fmt.Sprintf("%d%s %s vulnerabilities, more than the allowed %d", counts[sev], qual, sev, b.MaxVulnerabilities.Limit(sev)))
	}
	if b.NoSecrets && secrets > 0 {
		reasons = append(reasons, fmt.Sprintf("%d secret(s) in the image (in any layer)", secrets))
	}
	return Verdict{Pass: len(reasons) == 0, Reasons: reasons}
}

func hasFix(f *finding.Finding) bool {
	for _, e := range f.Evidence {
		if e.Name == "fixedVersion" && e.Value != "" {
			return true
		}
	}
	return false
}
