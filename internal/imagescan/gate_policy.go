package imagescan

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/store"
)

// PolicyOptions is what ApplyPolicy needs beyond the scan result.
type PolicyOptions struct {
	Policy     config.ImagePolicy
	Exceptions []config.Exception
	// Store keeps first-seen dates for SLAs; nil means there is none, and
	// the verdict says that SLAs were not evaluated.
	Store store.FindingStore
	// Repository is the image's registry and repository without tag or
	// digest ("ghcr.io/acme/web"), under which first-seen dates are kept,
	// so that every build of the repository shares them. Empty (an image
	// from a file or directory) means SLAs cannot be evaluated.
	Repository string
	// ImageDigest is the scanned image's digest, for the findings
	// ApplyPolicy adds.
	ImageDigest string
	Now         time.Time
}

// ApplyPolicy completes res with the image-policy checks that need more
// than the report: denied packages (from the inventory) and SLAs (from
// first-seen dates in the store). It adds the denied-package findings,
// with exceptions applied, adds firstSeen and slaDue evidence to the
// vulnerability findings, and replaces res.Verdict with the whole policy's
// verdict.
func ApplyPolicy(ctx context.Context, res *Result, opts PolicyOptions) error {
	r := res.Report
	// The scan's own notices (expired exceptions) stay; the judge below
	// recomputes the rest of the verdict.
	warnings := slices.Clone(res.Notices)
	if res.Inventory != nil {
		base := finding.Resource{Image: r.Target, ImageDigest: opts.ImageDigest}
		denied, err := DeniedPackages(ctx, res.Inventory.Packages, opts.Policy.DeniedPackages, base)
		if err != nil {
			return err
		}
		if len(denied) > 0 {
			finding.Normalize(denied)
			applied := config.ApplyExceptions(opts.Now, opts.Exceptions, denied, nil)
			for _, x := range applied.Expired {
				if len(x.Findings) > 0 {
					warnings = append(warnings, fmt.Sprintf("exception %s (owner %s) expired on %s and no longer applies", x.Exception.ID, x.Exception.Owner, x.Exception.Expires.Format(time.DateOnly)))
				}
			}
			r.Findings = append(r.Findings, denied...)
			finding.Normalize(r.Findings)
			r.Summary = finding.Summarize(r.Findings)
		}
	}
	var sla *slaOutcome
	switch {
	case !hasSLA(opts.Policy.SLA):
		sla = &slaOutcome{}
	case opts.Store == nil:
		sla = &slaOutcome{warnings: []string{"SLAs were not evaluated: no store keeps first-seen dates (set store.dsn in palisade.yaml or --store); every vulnerability counts as first seen now"}}
	case opts.Repository == "":
		sla = &slaOutcome{warnings: []string{"SLAs were not evaluated: the image has no registry repository to keep first-seen dates under"}}
	default:
		var err error
		sla, err = evaluateSLA(ctx, opts.Store, opts.Repository, r.Findings, opts.Policy.SLA, opts.Now, r.IsPartial())
		if err != nil {
			return err
		}
	}
	sla.warnings = append(sla.warnings, warnings...)
	res.Verdict = judge(r, opts.Policy, res.DB.Age(opts.Now), sla)
	return nil
}

func hasSLA(s config.SLA) bool {
	return s.Critical > 0 || s.High > 0 || s.Medium > 0 || s.Low > 0 || s.Unknown > 0
}
