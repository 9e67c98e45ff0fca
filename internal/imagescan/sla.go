package imagescan

import (
	"context"
	"fmt"
	"time"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/vulndb"
)

// SLAScopePrefix starts the store scope that holds a repository's
// vulnerability findings for SLAs: "image-repo:ghcr.io/acme/web".
const SLAScopePrefix = "image-repo:"

// Evidence names SLA evaluation adds to vulnerability findings.
const (
	EvidenceFirstSeen = "firstSeen"
	EvidenceSLADue    = "slaDue"
)

// slaOutcome is what evaluating SLAs adds to the verdict.
type slaOutcome struct {
	overdue  []string // one failure reason per overdue open finding
	warnings []string
}

// repoFinding is f as kept under the repository's scope. Its identity is
// the advisory and the package on the repository, so that it survives
// what changes from one build to the next: the image digest, the file the
// package was found in, the package version (an upgrade that is still
// affected does not restart the clock) and the layer.
func repoFinding(f *finding.Finding, repo string) finding.Finding {
	c := *f
	c.ID = ""
	c.Resource = finding.Resource{Image: repo}
	c.Evidence = make([]finding.Evidence, 0, len(f.Evidence))
	for _, e := range f.Evidence {
		switch e.Name {
		case "ecosystem", "package":
			e.Key = true
		case EvidenceFirstSeen, EvidenceSLADue:
			continue
		default:
			e.Key = false
		}
		c.Evidence = append(c.Evidence, e)
	}
	c.ID = finding.ComputeID(&c)
	return c
}

// evaluateSLA records the vulnerability findings of fs under the
// repository's scope, reads back when each was first seen there, adds
// firstSeen and slaDue evidence to them, and lists the open ones past
// their SLA. On a partial scan it only reads: replacing the scope with an
// incomplete set would forget first-seen dates of findings that are still
// there.
func evaluateSLA(ctx context.Context, st store.FindingStore, repo string, fs []finding.Finding, sla config.SLA, now time.Time, partial bool) (*slaOutcome, error) {
	scope := SLAScopePrefix + repo
	ids := make([]string, len(fs))
	var keep []finding.Finding
	for i := range fs {
		if fs[i].Category != vulndb.Category {
			continue
		}
		rf := repoFinding(&fs[i], repo)
		ids[i] = rf.ID
		keep = append(keep, rf)
	}
	out := &slaOutcome{}
	if partial {
		out.warnings = append(out.warnings, fmt.Sprintf("first-seen dates on %s were not updated: the scan is partial", repo))
	} else if _, err := st.ReplaceFindings(ctx, scope, now, keep); err != nil {
		return nil, fmt.Errorf("record findings of %s for SLAs: %w", repo, err)
	}
	recs, err := st.ListFindings(ctx, store.FindingFilter{Scope: scope})
	if err != nil {
		return nil, fmt.Errorf("read first-seen dates of %s: %w", repo, err)
	}
	firstSeen := make(map[string]time.Time, len(recs))
	for _, r := range recs {
		firstSeen[r.Finding.ID] = r.FirstSeen
	}
	for i := range fs {
		if ids[i] == "" {
			continue
		}
		f := &fs[i]
		seen, ok := firstSeen[ids[i]]
		if !ok {
			seen = now // partial scan and new finding: first seen now
		}
		f.Evidence = append(f.Evidence, finding.Evidence{Name: EvidenceFirstSeen, Value: seen.UTC().Format(time.RFC3339)})
		due, hasSLA := sla.Deadline(f.Severity, seen)
		if !hasSLA {
			continue
		}
		f.Evidence = append(f.Evidence, finding.Evidence{Name: EvidenceSLADue, Value: due.UTC().Format(time.RFC3339)})
		if f.Open() && now.After(due) {
			out.overdue = append(out.overdue, fmt.Sprintf("%s (%s) first seen %s on %s, %d days ago, over the %s SLA",
				f.RuleID, f.Severity, seen.UTC().Format(time.DateOnly), repo, int(now.Sub(seen)/(24*time.Hour)), slaText(sla.For(f.Severity))))
		}
	}
	return out, nil
}

// slaText writes an SLA as "30-day" when it is whole days, else as the
// duration ("36h").
func slaText(d config.Duration) string {
	if d%config.Day == 0 {
		return fmt.Sprintf("%d-day", d/config.Day)
	}
	return d.String()
}
