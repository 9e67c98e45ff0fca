package secrets

import (
	"context"
	"fmt"
	"io"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
)

// Scanner finds secrets and sensitive files. The zero value uses the
// built-in rules, no allowlist and DefaultMaxFileSize. A Scanner is not
// modified by scanning and may be shared by concurrent scans.
type Scanner struct {
	// Rules are the detectors to run; nil means Default().
	Rules []Rule
	// Allowlist drops findings by path, rule or fingerprint.
	Allowlist Allowlist
	// MaxFileSize is the largest file read; larger files are counted in
	// Result.SkippedLarge and judged by path only. 0 means
	// DefaultMaxFileSize.
	MaxFileSize int64
}

// Result is what a scan found.
type Result struct {
	// Findings are normalized (IDs set, sorted). Each names the rule,
	// the file and line, the layer that added the file and, when a later
	// layer deleted or replaced it, that layer as "removedInLayer".
	Findings []finding.Finding
	// FilesScanned counts regular files whose text was scanned.
	FilesScanned int
	// SkippedBinary counts files skipped because their first 8 KiB are
	// not UTF-8 text.
	SkippedBinary int
	// SkippedLarge counts files over MaxFileSize.
	SkippedLarge int
	// Allowlisted counts findings the allowlist dropped.
	Allowlisted int
	// FileErrors lists files that could not be read.
	FileErrors []*image.FileError
	// LayerErrors lists layers and entries the walk could not read.
	LayerErrors []*image.FileError
	// Partial reports whether the scan may have missed secrets (a layer
	// could not be read, the scan was cancelled). A partial result must
	// never be reported as a clean one.
	Partial bool
}

// scan is the state of one scan.
type scan struct {
	eng   *engine
	allow *allow
	res   *Result
	rec   *recorder
}

// start checks the configuration and sets up one scan of img (nil for
// ScanReader).
func (s *Scanner) start(img *image.Image) (*scan, error) {
	rules := s.Rules
	if rules == nil {
		rules = Default()
	}
	if err := checkRules(rules); err != nil {
		return nil, fmt.Errorf("check secret rules: %w", err)
	}
	al, err := s.Allowlist.compile()
	if err != nil {
		return nil, err
	}
	max := s.MaxFileSize
	if max <= 0 {
		max = DefaultMaxFileSize
	}
	return &scan{eng: newEngine(rules, max), allow: al, res: &Result{}, rec: newRecorder(img)}, nil
}

// ScanImage walks every layer of img once and reports secrets in every
// version of every file, including versions that upper layers delete or
// replace. The error is non-nil only when the scan could not finish (ctx
// done, bad rules or allowlist); the partial result is then still
// returned when there is one.
func (s *Scanner) ScanImage(ctx context.Context, img *image.Image) (*Result, error) {
	w, err := s.NewImageWalk(img)
	if err != nil {
		return nil, err
	}
	view, err := img.Walk(ctx, w.Visit)
	return w.Result(view, err)
}

// ScanReader scans one file read from r, reported as path (e.g. a file
// of a dir: root filesystem, or test input). Findings carry no image or
// layer.
func (s *Scanner) ScanReader(ctx context.Context, path string, r io.Reader) (*Result, error) {
	sc, err := s.start(nil)
	if err != nil {
		return nil, err
	}
	f := &image.File{Path: path, HiddenBy: -1, Final: true}
	if err := sc.fileSized(ctx, f, -1, r); err != nil {
		sc.res.Partial = true
		return sc.res, err
	}
	sc.res.Findings = sc.rec.findings()
	return sc.res, nil
}

// fileSized reads and scans one file synchronously (ScanReader).
func (sc *scan) fileSized(ctx context.Context, f *image.File, size int64, r io.Reader) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := absPath(f.Path)
	if sc.allow.pathAllowed(p) {
		return nil
	}
	hits, why, err := sc.eng.scanFile(p, size, r)
	if err != nil {
		return fmt.Errorf("scan %s: %w", p, err)
	}
	sc.record(f, p, hits, why)
	return nil
}

// record counts a judged file and records its hits that the allowlist
// lets through.
func (sc *scan) record(f *image.File, p string, hits []hit, why skip) {
	switch why {
	case skippedBinary:
		sc.res.SkippedBinary++
	case skippedLarge:
		sc.res.SkippedLarge++
	default:
		sc.res.FilesScanned++
	}
	for _, h := range hits {
		fp := Fingerprint(h.rule.ID, h.secret)
		if sc.allow.allowed(h.rule.ID, p, fp) {
			sc.res.Allowlisted++
			continue
		}
		sc.rec.add(f, p, h, fp)
	}
}

// absPath returns p with exactly one leading slash.
func absPath(p string) string {
	for len(p) > 0 && p[0] == '/' {
		p = p[1:]
	}
	return "/" + p
}
