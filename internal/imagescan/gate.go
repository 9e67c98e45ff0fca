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
	// Warnings are things to act on that do not fail the image: an ageing
	// advisory database, SLAs that could not be evaluated, expired
	// exceptions. They are not report errors because a report with errors
	// counts as partial, and a partial scan fails.
	Warnings []string `json:"warnings,omitempty"`
}

// String is the one-line verdict the table output ends with.
func (v Verdict) String() string {
	if v.Pass {
		return "PASS: the image meets the image policy"
	}
	return fmt.Sprintf("FAIL: %d reason(s)", len(v.Reasons))
}

// Judge applies the image policy to a report: vulnerability counts per
// severity (optionally only those with a fix), secrets, denied packages
// (the findings DeniedPackages made), the advisory database's age, and
// completeness (a partial scan fails). SLAs need first-seen dates, which
// the report does not hold; ApplyPolicy judges them.
func Judge(r *finding.Report, p config.ImagePolicy, dbAge time.Duration) Verdict {
	return judge(r, p, dbAge, nil)
}

// judge is Judge plus the SLA outcome, when there is one.
func judge(r *finding.Report, p config.ImagePolicy, dbAge time.Duration, sla *slaOutcome) Verdict {
	var reasons, warnings []string
	if r.IsPartial() {
		reasons = append(reasons, "the scan is partial: part of the image could not be read")
	}
	switch maxAge, warnAge := time.Duration(p.MaxDBAge), time.Duration(p.WarnDBAge); {
	case maxAge > 0 && dbAge > maxAge:
		reasons = append(reasons, fmt.Sprintf("the advisory database is %s old, more than the allowed %s; run palisade db update", ageText(dbAge), p.MaxDBAge))
	case warnAge > 0 && dbAge > warnAge:
		warnings = append(warnings, dbAgeWarning(dbAge, p))
	}
	counts := map[finding.Severity]int{}
	secrets := 0
	var denied []string
	for i := range r.Findings {
		f := &r.Findings[i]
		if !f.Open() {
			continue
		}
		switch {
		case f.Category == vulndb.Category:
			if p.FailOnFixableOnly && !hasFix(f) {
				continue
			}
			counts[f.Severity]++
		case f.Category == "secret":
			secrets++
		case f.RuleID == DeniedPackageRule:
			denied = append(denied, f.Message)
		}
	}
	for _, sev := range p.MaxVulnerabilities.Exceeded(counts) {
		qual := ""
		if p.FailOnFixableOnly {
			qual = " fixable"
		}
		reasons = append(reasons, fmt.Sprintf("%d%s %s vulnerabilities, more than the allowed %d", counts[sev], qual, sev, p.MaxVulnerabilities.Limit(sev)))
	}
	if p.NoSecrets && secrets > 0 {
		reasons = append(reasons, fmt.Sprintf("%d secret(s) in the image (in any layer)", secrets))
	}
	reasons = append(reasons, denied...)
	if sla != nil {
		reasons = append(reasons, sla.overdue...)
		warnings = append(warnings, sla.warnings...)
	}
	return Verdict{Pass: len(reasons) == 0, Reasons: reasons, Warnings: warnings}
}

// dbAgeWarning is the warning for a database past WarnDBAge but within
// MaxDBAge.
func dbAgeWarning(dbAge time.Duration, p config.ImagePolicy) string {
	s := fmt.Sprintf("the advisory database is %s old, more than %s; run palisade db update", ageText(dbAge), p.WarnDBAge)
	if p.MaxDBAge > 0 {
		s += fmt.Sprintf(" (scans fail past %s)", p.MaxDBAge)
	}
	return s
}

// ageText writes a database age for people: whole days from two days
// on, hours below.
func ageText(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	return fmt.Sprintf("%dh", int(d.Round(time.Hour)/time.Hour))
}

func hasFix(f *finding.Finding) bool {
	for _, e := range f.Evidence {
		if e.Name == "fixedVersion" && e.Value != "" {
			return true
		}
	}
	return false
}
