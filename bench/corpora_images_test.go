package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/imagevulns"
)

// kubescapeImageVulns translates the Kubescape ImageVulnerabilities
// objects among files (regolibrary cases give an image's scan as
// resource.json, named by the image reference, one entry per
// vulnerability) into the image scan index posture checks read: severity
// as Kubescape rates it, the "fixed" fixedIn version, and categories.isRce
// as network-exploitable. nil when no file holds one, so every other case
// is scanned without image data, as before.
func kubescapeImageVulns(files []string) (posture.ImageVulns, error) {
	var x *imagevulns.Index
	for _, f := range files {
		if !strings.EqualFold(filepath.Ext(f), ".json") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var doc struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Data []struct {
				Name           string `json:"name"`
				PackageName    string `json:"packageName"`
				PackageVersion string `json:"packageVersion"`
				Severity       string `json:"severity"`
				FixedIn        []struct {
					Name    string `json:"name"`
					Version string `json:"version"`
				} `json:"fixedIn"`
				Categories struct {
					IsRce bool `json:"isRce"`
				} `json:"categories"`
			} `json:"data"`
		}
		if json.Unmarshal(raw, &doc) != nil || doc.Kind != "ImageVulnerabilities" {
			continue // another kind of resource.json: not image data
		}
		var vulns []posture.ImageVuln
		for _, d := range doc.Data {
			sev, err := finding.ParseSeverity(d.Severity)
			if err != nil {
				sev = finding.SeverityInfo // Kubescape's "Negligible"
			}
			v := posture.ImageVuln{ID: d.Name, Package: d.PackageName, Version: d.PackageVersion, Severity: sev, Network: d.Categories.IsRce}
			for _, fx := range d.FixedIn {
				if fx.Name == "fixed" && fx.Version != "" {
					v.FixedVersion = fx.Version
				}
			}
			vulns = append(vulns, v)
		}
		if x == nil {
			x = imagevulns.New()
		}
		if err := x.Add(posture.NewImageScan(doc.Metadata.Name, "", "", false, vulns)); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	if x == nil {
		return nil, nil // a nil *Index in the interface would not be "no image data"
	}
	return x, nil
}
