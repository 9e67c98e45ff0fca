package imagescan

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/inventory"
)

// DeniedPackageRule is the rule ID of the findings DeniedPackages makes.
const DeniedPackageRule = "image/denied-package"

// PolicyCategory is the finding category of image-policy findings.
const PolicyCategory = "policy"

// DeniedPackages returns one finding per installed package that a rule in
// denied matches, on the image res names. A package whose version cannot
// be compared in its ecosystem's order is reported too (fail closed): a
// version nobody can order is no evidence that the package is allowed.
func DeniedPackages(ctx context.Context, pkgs []inventory.Package, denied []config.DeniedPackage, res finding.Resource) ([]finding.Finding, error) {
	if len(denied) == 0 {
		return nil, nil
	}
	var out []finding.Finding
	for i := range pkgs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("check denied packages: %w", err)
		}
		p := &pkgs[i]
		for j := range denied {
			d := &denied[j]
			ok, err := d.Matches(p.Ecosystem, p.Name, p.Version)
			if !ok && err == nil {
				continue
			}
			out = append(out, deniedFinding(p, d, err, res))
			break // one finding per package: the first rule that denies it
		}
	}
	return out, nil
}

func deniedFinding(p *inventory.Package, d *config.DeniedPackage, cmpErr error, res finding.Resource) finding.Finding {
	which := "any version"
	if len(d.Versions) > 0 {
		which = strings.Join(d.Versions, " || ")
	}
	msg := fmt.Sprintf("denied package %s %s (%s): %s", p.Name, p.Version, p.Ecosystem, d.Reason)
	if cmpErr != nil {
		msg += fmt.Sprintf(" (its version could not be compared with %s, so it is denied to be safe: %v)", which, cmpErr)
	}
	if len(p.Locations) > 0 {
		res.File = p.Locations[0]
	}
	f := finding.Finding{
		RuleID:   DeniedPackageRule,
		Title:    "Denied package " + p.Name,
		Severity: finding.SeverityHigh,
		Category: PolicyCategory,
		Resource: res,
		Message:  msg,
		Evidence: []finding.Evidence{
			{Name: "ecosystem", Value: p.Ecosystem, Key: true},
			{Name: "package", Value: p.Name, Key: true},
			{Name: "version", Value: p.Version, Key: true},
			{Name: "deniedVersions", Value: which},
			{Name: "reason", Value: d.Reason},
		},
		Remediation: fmt.Sprintf("remove %s from the image (or move to a version outside %s), or accept it with an exception", p.Name, which),
	}
	if p.PURL != "" {
		f.Evidence = append(f.Evidence, finding.Evidence{Name: "purl", Value: p.PURL})
	}
	if p.Layer.Digest != "" || p.Layer.Index > 0 {
		f.Evidence = append(f.Evidence, finding.Evidence{Name: "layer", Value: strconv.Itoa(p.Layer.Index) + " " + p.Layer.Digest})
	}
	if p.Layer.CreatedBy != "" {
		f.Evidence = append(f.Evidence, finding.Evidence{Name: "instruction", Value: p.Layer.CreatedBy})
	}
	return f
}
