package imagevulns

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/vulndb/cvss"
)

// MaxReportSize bounds one report file: a scan of a large image with
// every finding is a few megabytes; anything far larger is not one.
const MaxReportSize = 256 << 20

// vulnCategory is the finding category of vulnerability findings
// (vulndb.Category; not imported, to keep the advisory database's SQLite
// driver out of posture's dependencies).
const vulnCategory = "vulnerability"

// LoadFiles reads the JSON reports `palisade image scan -o json` writes
// from files and directories (every *.json below a directory) and indexes
// them. A file that is not an image scan report is an error naming it.
// When two reports scanned the same image, the one generated last wins.
func LoadFiles(ctx context.Context, paths ...string) (*Index, error) {
	var (
		scans []dated
		errs  []error
	)
	read := func(p string) {
		s, at, err := readFile(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("read image scan report %s: %w", p, err))
			return
		}
		scans = append(scans, dated{s, at, "image scan report " + p})
	}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("load image scan reports: %w", err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("read image scan reports: %w", err))
			continue
		}
		if !fi.IsDir() {
			read(p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".json") {
				read(path)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("read image scan reports in %s: %w", p, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return index(scans)
}

// FromScanRecords indexes the reports of scans kept by `palisade serve`
// (store.ScanStore.ListScans with IncludeReport). The most recent scan of
// an image wins. A record without its report is an error: it lists no
// vulnerabilities to judge by.
func FromScanRecords(recs []store.ScanRecord) (*Index, error) {
	scans := make([]dated, 0, len(recs))
	for i := range recs {
		r := &recs[i]
		if len(r.Report) == 0 {
			return nil, fmt.Errorf("scan of %s (%s) at %s: no report (list scans with IncludeReport)", r.ImageRef, r.ImageDigest, r.ScannedAt.Format(time.RFC3339))
		}
		d, err := fromRecord(r)
		if err != nil {
			return nil, err
		}
		scans = append(scans, d)
	}
	return index(scans)
}

// fromRecord reads a stored scan's report, naming the image the record
// names where the report does not.
func fromRecord(r *store.ScanRecord) (dated, error) {
	s, _, err := parse(bytes.NewReader(r.Report))
	if err != nil {
		return dated{}, fmt.Errorf("read report of the scan of %s (%s): %w", r.ImageRef, r.ImageDigest, err)
	}
	if s.Ref == "" {
		s.Ref = r.ImageRef
	}
	if s.Digest == "" {
		s.Digest = r.ImageDigest
	}
	return dated{s, r.ScannedAt, "scan of " + r.ImageRef + " (" + r.ImageDigest + ")"}, nil
}

// ParseReport reads one image scan report (the JSON document of
// docs/output-json.md, as `palisade image scan -o json` writes it) and
// keeps what checks need.
func ParseReport(r io.Reader) (*posture.ImageScan, error) {
	s, _, err := parse(r)
	return s, err
}

type dated struct {
	scan  *posture.ImageScan
	at    time.Time
	where string // the file or record, for errors
}

// index adds scans oldest first, so that the newest scan of an image wins.
func index(scans []dated) (*Index, error) {
	sort.SliceStable(scans, func(i, j int) bool { return scans[i].at.Before(scans[j].at) })
	x := New()
	for _, d := range scans {
		if err := x.Add(d.scan); err != nil {
			return nil, fmt.Errorf("%s: %w", d.where, err)
		}
	}
	return x, nil
}

func readFile(p string) (*posture.ImageScan, time.Time, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer f.Close()
	return parse(f)
}

func parse(r io.Reader) (*posture.ImageScan, time.Time, error) {
	lr := &io.LimitedReader{R: r, N: MaxReportSize + 1}
	dec := json.NewDecoder(lr)
	var rep finding.Report
	if err := dec.Decode(&rep); err != nil {
		if lr.N <= 0 {
			return nil, time.Time{}, fmt.Errorf("larger than %d bytes: not an image scan report", MaxReportSize)
		}
		return nil, time.Time{}, fmt.Errorf("not a JSON report: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, time.Time{}, errors.New("not a JSON report: data after the document")
	}
	if err := validate(&rep); err != nil {
		return nil, time.Time{}, err
	}
	var (
		digest string
		vulns  []posture.ImageVuln
	)
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if digest == "" {
			digest = f.Resource.ImageDigest
		}
		if f.Category != vulnCategory || !f.Open() {
			continue
		}
		v := posture.ImageVuln{ID: f.RuleID, Severity: f.Severity}
		for _, e := range f.Evidence {
			switch e.Name {
			case "package":
				v.Package = e.Value
			case "version":
				v.Version = e.Value
			case "fixedVersion":
				v.FixedVersion = e.Value
			case "cvssVector":
				v.Network = NetworkVector(e.Value)
			}
		}
		vulns = append(vulns, v)
	}
	// A scan of a multi-arch index by digest records the index's digest in
	// its target and the platform image's in its findings.
	var index string
	switch _, d := refKeys(rep.Target); {
	case digest == "":
		digest = d // no findings to say which platform: the target's digest is the image's
	case d != "" && d != normDigest(digest):
		index = d
	}
	return posture.NewImageScan(rep.Target, digest, index, rep.IsPartial(), vulns), rep.GeneratedAt, nil
}

// validate rejects documents that are not image scan reports: another
// major schema version, no target or findings, a posture report.
func validate(rep *finding.Report) error {
	major, _, _ := strings.Cut(rep.SchemaVersion, ".")
	switch {
	case rep.SchemaVersion == "":
		return errors.New("no schemaVersion: not a Palisade JSON report")
	case major != "1":
		return fmt.Errorf("schemaVersion %q: want 1.x", rep.SchemaVersion)
	case rep.Target == "":
		return errors.New("no target: not an image scan report")
	case rep.Findings == nil:
		return errors.New("no findings list: not an image scan report")
	case rep.Coverage != nil || rep.Exposed != nil:
		return errors.New("a posture scan report, not an image scan report")
	}
	for i := range rep.Findings {
		if strings.HasPrefix(rep.Findings[i].RuleID, posture.RulePrefix) {
			return fmt.Errorf("finding %d is %s: a posture scan report, not an image scan report", i, rep.Findings[i].RuleID)
		}
	}
	return nil
}

// NetworkVector reports whether a CVSS v3.x or v4.0 vector says the
// vulnerability is exploitable over the network: its attack vector (the
// modified one, MAV, when the vector sets it) is N. An invalid vector
// says nothing, so it is false.
func NetworkVector(vector string) bool {
	if _, err := cvss.Score(vector); err != nil {
		return false
	}
	av, mav := "", ""
	for _, m := range strings.Split(vector, "/")[1:] {
		k, v, _ := strings.Cut(m, ":")
		switch k {
		case "AV":
			av = v
		case "MAV":
			mav = v
		}
	}
	if mav != "" && mav != "X" {
		av = mav
	}
	return av == "N"
}
