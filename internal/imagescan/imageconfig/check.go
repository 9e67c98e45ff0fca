// Package imageconfig holds the image-configuration checks of the CIS
// Docker Benchmark, section 4 (and 5.8 for exposed privileged ports): what
// an image's config and history say (user, HEALTHCHECK, secrets in ENV,
// labels and build arguments, ADD of remote URLs, ports) and what its
// squashed filesystem holds (setuid/setgid files, package-manager caches).
//
// One check per file, as in internal/posture: each opens with the
// benchmark text it implements. All is the explicit list; Validate checks
// it. Config checks are pure functions of image.Metadata; filesystem checks
// see the metadata (never the content) of every final file of one walk.
package imageconfig

import (
	"context"
	"fmt"
	"regexp"
	"strconv"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/secrets"
)

// Category is the finding category of image-configuration findings.
// Secrets found in the configuration are category "secret" (see
// ConfigSecrets): they are secrets in the image, and the gate's noSecrets
// must count them.
const Category = "image-config"

// Framework names the benchmark in finding.Control values.
const Framework = "CIS-Docker-1.6"

// Evidence names shared by the checks.
const (
	EvCheck       = "check"
	EvPath        = "path"
	EvLayer       = "layer"
	EvLayerDigest = "layerDigest"
	EvCreatedBy   = "createdBy"
)

// Check is one image-configuration check. Exactly one of Config and Files
// is set.
type Check struct {
	// ID is stable and unique, "image/root-user"; never reused or renamed.
	ID       string
	Title    string
	Severity finding.Severity
	// Category overrides the finding category; "" means Category.
	Category string
	// CIS is the CIS Docker Benchmark control, "4.1".
	CIS         string
	Rationale   string
	Remediation string

	// Config evaluates the image configuration.
	Config func(ctx context.Context, in *Input) ([]Problem, error)
	// Files returns the per-scan state of a filesystem check.
	Files func() FileCheck
}

// Input is what config checks read.
type Input struct {
	Metadata *image.Metadata
	// Layers are the image's layers, for attributing history entries.
	Layers []image.Layer
	// Secrets matches secret values; nil means the built-in rules.
	Secrets *secrets.Scanner
}

// FileCheck collects one filesystem check's problems during a walk.
type FileCheck interface {
	// File sees each entry of the squashed filesystem (f.Final), in walk
	// order (top layer first). It never reads content.
	File(f *image.File)
	// Problems returns what was found once the walk is over.
	Problems() []Problem
}

// Problem is one failure of a check.
type Problem struct {
	// Severity overrides the check's severity when set.
	Severity finding.Severity
	// Message says what is wrong, naming the field, path or instruction.
	Message string
	// File is the path in the image, for filesystem problems ("/usr/bin/x").
	File string
	// Layer is the layer the problem comes from; nil when it is the
	// image configuration as a whole.
	Layer *image.Layer
	// Evidence; Key evidence makes the finding ID.
	Evidence []finding.Evidence
}

// idPattern is the form of a check ID.
var idPattern = regexp.MustCompile(`^[a-z]+(/[a-z0-9-]+)+$`)

// Validate checks a list of checks: unique well-formed IDs, a title,
// severity and control each, exactly one of Config and Files.
func Validate(checks []*Check) error {
	seen := map[string]bool{}
	for i, c := range checks {
		switch {
		case !idPattern.MatchString(c.ID):
			return fmt.Errorf("check %d: id %q does not match %s", i, c.ID, idPattern)
		case seen[c.ID]:
			return fmt.Errorf("check %s: duplicate id", c.ID)
		case c.Title == "" || c.Remediation == "" || c.Rationale == "":
			return fmt.Errorf("check %s: needs a title, rationale and remediation", c.ID)
		case c.Severity == finding.SeverityUnknown:
			return fmt.Errorf("check %s: needs a severity", c.ID)
		case c.CIS == "":
			return fmt.Errorf("check %s: needs a CIS control", c.ID)
		case (c.Config == nil) == (c.Files == nil):
			return fmt.Errorf("check %s: set exactly one of Config and Files", c.ID)
		}
		seen[c.ID] = true
	}
	return nil
}

// Finding turns a problem of c into a finding about image (reference)
// with digest.
func (c *Check) Finding(p Problem, img, digest string) finding.Finding {
	sev := c.Severity
	if p.Severity != finding.SeverityUnknown {
		sev = p.Severity
	}
	cat := c.Category
	if cat == "" {
		cat = Category
	}
	f := finding.Finding{
		RuleID:      c.ID,
		Title:       c.Title,
		Severity:    sev,
		Category:    cat,
		Resource:    finding.Resource{Image: img, ImageDigest: digest, File: p.File},
		Message:     p.Message,
		Remediation: c.Remediation,
		Controls:    []finding.Control{{Framework: Framework, ID: c.CIS}},
		Evidence:    append([]finding.Evidence{{Name: EvCheck, Value: c.ID}}, p.Evidence...),
	}
	if l := p.Layer; l != nil {
		f.Evidence = append(f.Evidence, finding.Evidence{Name: EvLayer, Value: strconv.Itoa(l.Index)})
		if l.Digest != "" {
			f.Evidence = append(f.Evidence, finding.Evidence{Name: EvLayerDigest, Value: l.Digest})
		}
		if l.CreatedBy != "" && c.Category != secrets.Category {
			// A secret check's layer instruction may hold the secret
			// itself; its problems say where instead.
			f.Evidence = append(f.Evidence, finding.Evidence{Name: EvCreatedBy, Value: l.CreatedBy})
		}
	}
	return f
}
