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
	secret := finding.Finding{RuleID: "secret/aws-access-key", Category: "secret", Severity: finding.SeverityHigh, Message: "m"}
	tests := []struct {
		name    string
		fs      []finding.Finding
		edit    func(*config.Baseline)
		dbAge   time.Duration
		partial bool
		want    []string // reasons, by substring; empty means pass
	}{
		{name: "clean", fs: []finding.Finding{vuln(finding.SeverityMedium, "")}},
		{name: "one critical", fs: []finding.Finding{vuln(finding.SeverityCritical, "2")}, want: []string{"1 critical vulnerabilities, more than the allowed 0"}},
		{name: "unrated counts", fs: []finding.Finding{vuln(finding.SeverityUnknown, "")}, want: []string{"1 unknown vulnerabilities"}},
		{name: "excepted does not count", fs: []finding.Finding{excepted}},
		{name: "fixable only ignores unfixed", fs: []finding.Finding{vuln(finding.SeverityHigh, "")}, edit: func(b *config.Baseline) { b.FailOnFixableOnly = true }},
		{name: "fixable only counts fixed", fs: []finding.Finding{vuln(finding.SeverityHigh, "1.2")}, edit: func(b *config.Baseline) { b.FailOnFixableOnly = true }, want: []string{"1 fixable high"}},
		{name: "limit raised", fs: []finding.Finding{vuln(finding.SeverityHigh, "1"), vuln(finding.SeverityHigh, "2")}, edit: func(b *config.Baseline) { b.MaxVulnerabilities.High = 2 }},
		{name: "secret", fs: []finding.Finding{secret}, want: []string{"1 secret(s)"}},
		{name: "secrets allowed", fs: []finding.Finding{secret}, edit: func(b *config.Baseline) { b.NoSecrets = false }},
		{name: "stale database", dbAge: 9 * 24 * time.Hour, want: []string{"advisory database is 216h0m0s old"}},
		{name: "partial scan never passes", partial: true, want: []string{"the scan is partial"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := config.Default().Baseline
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
		})
	}
}
