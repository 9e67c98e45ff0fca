package imagescan

import (
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
)

func vuln(sev finding.Severity, fixed string) finding.Finding {
	f := finding.Finding{RuleID: "CVE-1", Category: "vulnerability", Severity: sev, Message: "m",
		Evidence: []finding.Evidence{{Name: "package", Value: "p" + sev.String() + fixed, Key: true}}}
	if fixed != "" {
		f.Evidence = append(f.Evidence, finding.Evidence{Name: "fixedVersion", Value: fixed})
	}
	return f
}

func TestJudge(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	excepted := vuln(finding.SeverityCritical, "2")
	excepted.Status, excepted.Exception = finding.StatusExcepted, &finding.ExceptionRef{ID: "x", Owner: "o", Reason: "r"}
	denied := finding.Finding{RuleID: DeniedPackageRule, Category: PolicyCategory, Severity: finding.SeverityHigh,
		Message: "denied package netcat-openbsd 1.226-1 (Debian:12): no network tools"}
	deniedExcepted := denied
	deniedExcepted.Status, deniedExcepted.Exception = finding.StatusExcepted, &finding.ExceptionRef{ID: "x", Owner: "o", Reason: "r"}
	secret := finding.Finding{RuleID: "secret/aws-access-key", Category: "secret", Severity: finding.SeverityHigh, Message: "m"}
	tests := []struct {
		name    string
		fs      []finding.Finding
		edit    func(*config.ImagePolicy)
		dbAge   time.Duration
		partial bool
		want    []string // reasons, by substring; empty means pass
		warn    []string // warnings, by substring
	}{
		{name: "clean", fs: []finding.Finding{vuln(finding.SeverityMedium, "")}},
		{name: "one critical", fs: []finding.Finding{vuln(finding.SeverityCritical, "2")}, want: []string{"1 critical vulnerabilities, more than the allowed 0"}},
		{name: "unrated counts", fs: []finding.Finding{vuln(finding.SeverityUnknown, "")}, want: []string{"1 unknown vulnerabilities"}},
		{name: "excepted does not count", fs: []finding.Finding{excepted}},
		{name: "fixable only ignores unfixed", fs: []finding.Finding{vuln(finding.SeverityHigh, "")}, edit: func(b *config.ImagePolicy) { b.FailOnFixableOnly = true }},
		{name: "fixable only counts fixed", fs: []finding.Finding{vuln(finding.SeverityHigh, "1.2")}, edit: func(b *config.ImagePolicy) { b.FailOnFixableOnly = true }, want: []string{"1 fixable high"}},
		{name: "limit raised", fs: []finding.Finding{vuln(finding.SeverityHigh, "1"), vuln(finding.SeverityHigh, "2")}, edit: func(b *config.ImagePolicy) { b.MaxVulnerabilities.High = 2 }},
		{name: "secret", fs: []finding.Finding{secret}, want: []string{"1 secret(s)"}},
		{name: "secrets allowed", fs: []finding.Finding{secret}, edit: func(b *config.ImagePolicy) { b.NoSecrets = false }},
		{name: "stale database", dbAge: 9 * 24 * time.Hour, want: []string{"advisory database is 9 days old, more than the allowed 5d"}},
		{name: "partial scan never passes", partial: true, want: []string{"the scan is partial"}},
		{name: "ageing database warns", dbAge: 3 * 24 * time.Hour, warn: []string{"the advisory database is 3 days old, more than 2d; run palisade db update (scans fail past 5d)"}},
		{name: "fresh database", dbAge: 47 * time.Hour},
		{name: "age in hours", dbAge: 30 * time.Hour, edit: func(b *config.ImagePolicy) { b.WarnDBAge = config.Day }, warn: []string{"the advisory database is 30h old, more than 1d"}},
		{name: "warning off", dbAge: 3 * 24 * time.Hour, edit: func(b *config.ImagePolicy) { b.WarnDBAge = 0 }},
		{name: "stale database fails, no warning too", dbAge: 6 * 24 * time.Hour, want: []string{"more than the allowed 5d"}},
		{name: "denied package", fs: []finding.Finding{denied}, want: []string{"denied package netcat-openbsd 1.226-1 (Debian:12): no network tools"}},
		{name: "excepted denied package", fs: []finding.Finding{deniedExcepted}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := config.Default().ImagePolicy
			if tt.edit != nil {
				tt.edit(&b)
			}
			r := finding.NewReport(finding.Tool{Name: "t"}, "img", now, tt.fs)
			r.Partial = tt.partial
			v := Judge(r, b, tt.dbAge)
			if v.Pass != (len(tt.want) == 0) {
				t.Fatalf("pass = %v, reasons %q", v.Pass, v.Reasons)
			}
			joined := strings.Join(v.Reasons, "\n")
			for _, w := range tt.want {
				if !strings.Contains(joined, w) {
					t.Errorf("reasons %q lack %q", v.Reasons, w)
				}
			}
			if len(v.Warnings) != len(tt.warn) {
				t.Errorf("warnings = %q, want %d", v.Warnings, len(tt.warn))
			}
			joined = strings.Join(v.Warnings, "\n")
			for _, w := range tt.warn {
				if !strings.Contains(joined, w) {
					t.Errorf("warnings %q lack %q", v.Warnings, w)
				}
			}
		})
	}
}
