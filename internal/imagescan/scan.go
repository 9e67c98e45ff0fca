// Package imagescan is `palisade image scan`: it inventories an image,
// matches the packages against the advisory database, adds the findings of
// the other detectors (secrets), applies exceptions and judges the result
// against the golden-image baseline.
package imagescan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/vulndb"
)

// Detector adds findings about an image beyond its packages' advisories:
// secrets, image-configuration checks.
type Detector interface {
	Name() string
	Detect(ctx context.Context, img *image.Image) (*Detection, error)
}

// Detection is what a detector found. Partial says part of the image could
// not be examined; Errors say which part.
type Detection struct {
	Findings []finding.Finding
	Partial  bool
	Errors   []error
}

// Options configures a scan.
type Options struct {
	Extractors []inventory.Extractor
	DB         *vulndb.DB
	Detectors  []Detector
	Baseline   config.Baseline
	Exceptions []config.Exception
	Now        func() time.Time
}

// Result is a finished scan.
type Result struct {
	Report    *finding.Report
	Inventory *inventory.Result
	Verdict   Verdict
	DB        vulndb.Status
	// PolicyDigest identifies the baseline the image was judged by, for
	// attestations and admission.
	PolicyDigest string
}

// Scan scans img. A partial inventory (an unreadable layer) makes the
// report partial and the verdict a failure: a partial scan must never
// pass an image.
func Scan(ctx context.Context, img *image.Image, target string, tool finding.Tool, opts Options) (*Result, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	inv, err := inventory.Scan(ctx, img, opts.Extractors, inventory.Options{})
	if err != nil && inv == nil {
		return nil, fmt.Errorf("inventory %s: %w", target, err)
	}
	status, err := opts.DB.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("read advisory database status: %w", err)
	}
	queries := make([]vulndb.Query, 0, len(inv.Packages))
	for _, p := range inv.Packages {
		v := p.Version
		if p.SourceVersion != "" {
			v = p.SourceVersion
		}
		queries = append(queries, vulndb.Query{Ecosystem: p.Ecosystem, Name: p.Name, SourceName: p.SourceName, Version: v, PURL: p.PURL})
	}
	matches, err := opts.DB.Match(ctx, queries)
	if err != nil {
		return nil, fmt.Errorf("match %d packages: %w", len(queries), err)
	}
	byPURL := map[string]*inventory.Package{}
	for i := range inv.Packages {
		byPURL[inv.Packages[i].PURL] = &inv.Packages[i]
	}
	var fs []finding.Finding
	for i := range matches {
		res := finding.Resource{Image: target, ImageDigest: img.Metadata.Digest}
		f := matches[i].Finding(res)
		if p := byPURL[matches[i].Query.PURL]; p != nil {
			if len(p.Locations) > 0 {
				f.Resource.File = p.Locations[0]
			}
			f.Evidence = append(f.Evidence, finding.Evidence{Name: "layer", Value: strconv.Itoa(p.Layer.Index) + " " + p.Layer.Digest})
			if p.Layer.CreatedBy != "" {
				f.Evidence = append(f.Evidence, finding.Evidence{Name: "instruction", Value: p.Layer.CreatedBy})
			}
		}
		fs = append(fs, f)
	}
	partial, partialErrs := inv.Partial, []error(nil)
	for _, e := range inv.LayerErrors {
		partialErrs = append(partialErrs, e)
	}
	for _, d := range opts.Detectors {
		det, err := d.Detect(ctx, img)
		if err != nil {
			return nil, fmt.Errorf("%s on %s: %w", d.Name(), target, err)
		}
		fs = append(fs, det.Findings...)
		if det.Partial {
			partial = true
			partialErrs = append(partialErrs, det.Errors...)
		}
	}
	finding.Normalize(fs)
	applied := config.ApplyExceptions(now(), opts.Exceptions, fs, nil)
	report := finding.NewReport(tool, target, now(), fs)
	if partial {
		report.Partial = true
		for _, e := range partialErrs {
			report.AddError(e)
		}
	}
	for _, x := range applied.Expired {
		report.Errors = append(report.Errors, fmt.Sprintf("exception %s (owner %s) expired on %s and no longer applies", x.Exception.ID, x.Exception.Owner, x.Exception.Expires.Format("2006-01-02")))
	}
	pd, err := policyDigest(opts.Baseline)
	if err != nil {
		return nil, err
	}
	return &Result{
		Report: report, Inventory: inv, DB: *status, PolicyDigest: pd,
		Verdict: Judge(report, opts.Baseline, status.Age(now())),
	}, nil
}

// policyDigest hashes the baseline's canonical JSON: two scans judged by
// the same rules carry the same digest.
func policyDigest(b config.Baseline) (string, error) {
	raw, err := json.Marshal(b)
	if err != nil {
		return "", fmt.Errorf("encode baseline: %w", err)
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}
