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
	"io"
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

// LayerDetector is a Detector that examines layer content. Scan does not
// call its Detect: it feeds every such detector, and the inventory, from
// one walk over the layers, so each layer is decompressed and each tar
// entry read once (DESIGN.md, Performance). Detect stays for callers that
// run the detector alone.
type LayerDetector interface {
	Detector
	// Begin prepares one detection over img's layers.
	Begin(ctx context.Context, img *image.Image) (LayerScan, error)
}

// LayerScan is one detection fed by a shared walk.
type LayerScan interface {
	// Visit is the detection's image.Visitor. It sees every entry of
	// every layer; reading r is optional.
	Visit(ctx context.Context, f *image.File, r io.Reader) error
	// End is called exactly once after the walk (also when it failed),
	// with what image.Image.Walk returned. Layer errors of the view are
	// reported by Scan; End reports only its own.
	End(ctx context.Context, view *image.View, walkErr error) (*Detection, error)
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
	// Notices are the scan's own warnings (expired exceptions), kept apart
	// so that ApplyPolicy's re-judging carries them into its verdict.
	Notices []string
}

// Scan scans img. A partial inventory (an unreadable layer) makes the
// report partial and the verdict a failure: a partial scan must never
// pass an image.
func Scan(ctx context.Context, img *image.Image, target string, tool finding.Tool, opts Options) (*Result, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	inv, scans, err := walk(ctx, img, opts)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", target, err)
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
	add := func(det *Detection) {
		fs = append(fs, det.Findings...)
		if det.Partial {
			partial = true
			partialErrs = append(partialErrs, det.Errors...)
		}
	}
	for _, d := range scans {
		add(d)
	}
	for _, d := range opts.Detectors {
		if _, ok := d.(LayerDetector); ok {
			continue // fed by the shared walk above
		}
		det, err := d.Detect(ctx, img)
		if err != nil {
			return nil, fmt.Errorf("%s on %s: %w", d.Name(), target, err)
		}
		add(det)
	}
	finding.Normalize(fs)
	applied := config.ApplyExceptions(now(), opts.Exceptions, fs, nil)
	report := finding.NewReport(tool, target, now(), fs)
	if partial {
		report.Partial = true
		seen := map[string]bool{}
		for _, e := range partialErrs {
			// Detectors fed by the same walk see the same broken layer.
			if !seen[e.Error()] {
				seen[e.Error()] = true
				report.AddError(e)
			}
		}
	}
	pd, err := policyDigest(opts.Baseline)
	if err != nil {
		return nil, err
	}
	// An expired exception is worth a warning, not a report error: errors
	// mark the scan partial, and a partial scan fails for the wrong reason.
	// The findings it covered are open again and judged as such.
	var notices []string
	for _, x := range applied.Expired {
		notices = append(notices, fmt.Sprintf("exception %s (owner %s) expired on %s and no longer applies", x.Exception.ID, x.Exception.Owner, x.Exception.Expires.Format("2006-01-02")))
	}
	verdict := Judge(report, opts.Baseline, status.Age(now()))
	verdict.Warnings = append(verdict.Warnings, notices...)
	return &Result{
		Report: report, Inventory: inv, DB: *status, PolicyDigest: pd,
		Verdict: verdict, Notices: notices,
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

// walk runs the one walk of a scan: the layer detectors' visitors first,
// the inventory last (image.Fanout keeps what earlier visitors read for
// later ones; the inventory reads whole binaries, the detectors read
// little or with a cap). It returns the inventory and each layer
// detector's detection, in the order of opts.Detectors.
func walk(ctx context.Context, img *image.Image, opts Options) (*inventory.Result, []*Detection, error) {
	type begun struct {
		name string
		scan LayerScan
	}
	var scans []begun
	var visitors []image.Visitor
	for _, d := range opts.Detectors {
		ld, ok := d.(LayerDetector)
		if !ok {
			continue
		}
		s, err := ld.Begin(ctx, img)
		if err != nil {
			for _, b := range scans {
				_, _ = b.scan.End(ctx, nil, err) // stop what was started
			}
			return nil, nil, fmt.Errorf("start %s: %w", d.Name(), err)
		}
		scans = append(scans, begun{d.Name(), s})
		visitors = append(visitors, s.Visit)
	}
	iw := inventory.NewWalk(img, opts.Extractors, inventory.Options{})
	visitors = append(visitors, iw.Visit)
	view, walkErr := img.Walk(ctx, image.Fanout(visitors...))
	inv := iw.Result(view, walkErr)
	var dets []*Detection
	var firstErr error
	for _, b := range scans {
		det, err := b.scan.End(ctx, view, walkErr)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", b.name, err)
			}
			continue
		}
		dets = append(dets, det)
	}
	if firstErr != nil {
		return nil, nil, firstErr
	}
	return inv, dets, nil
}
