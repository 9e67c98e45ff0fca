package finding

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"
)

// SARIF constants. The log is what GitHub code scanning and other SARIF
// viewers ingest; see https://docs.oasis-open.org/sarif/sarif/v2.1.0/.
const (
	sarifVersion        = "2.1.0"
	sarifSchemaURI      = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	sarifToolName       = "palisade"
	sarifInformationURI = "https://github.com/palisade-sec/palisade"
	// sarifFingerprintKey names the partial fingerprint that carries the
	// finding ID, so a viewer tracks a finding across runs as we do.
	sarifFingerprintKey = "palisadeFindingId/v1"
	// sarifSrcRoot is the base of relative artifact URIs of files on disk:
	// the directory the scan ran in, by convention the repository root.
	sarifSrcRoot = "%SRCROOT%"
	// sarifImageRoot is the base of paths inside a container image, which a
	// viewer must not resolve against the repository.
	sarifImageRoot = "IMAGEROOT"
)

// sarifLevel maps a severity to a SARIF result level.
func sarifLevel(s Severity) string {
	switch s {
	case SeverityCritical, SeverityHigh:
		return "error"
	case SeverityMedium:
		return "warning"
	}
	return "note"
}

// securitySeverity is the CVSS-like score GitHub code scanning reads from a
// rule's "security-severity" property to rank alerts (≥ 9.0 critical,
// 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low). Info and unknown have none:
// GitHub then falls back to the level, note.
func securitySeverity(s Severity) string {
	switch s {
	case SeverityCritical:
		return "9.5"
	case SeverityHigh:
		return "8.0"
	case SeverityMedium:
		return "5.5"
	case SeverityLow:
		return "3.0"
	}
	return ""
}

// writeSARIF writes p, already prepared, as a SARIF 2.1.0 log with one run.
// The results are streamed one by one into the log's frame, as writeJSON
// streams findings: each result is built, encoded and dropped.
func writeSARIF(w io.Writer, p *Report) error {
	rules, index := sarifRules(p.Findings)
	bases := map[string]sarifBase{}
	var lastFile, lastBase string // findings of one file mostly follow each other
	for i := range p.Findings {
		if r := &p.Findings[i].Resource; r.File != "" {
			base := sarifBaseOfFile(*r) // as sarifLocationOf places it
			if r.File == lastFile && base == lastBase {
				continue
			}
			lastFile, lastBase = r.File, base
			if sarifArtifactOf(r.File, base).URIBaseID == "" {
				continue // an absolute path: a file: URI without a base
			}
			bases[base] = sarifBaseOf(base)
		}
	}
	log := sarifLog{Schema: sarifSchemaURI, Version: sarifVersion, Runs: []sarifRun{sarifRunOf(p, rules, bases, []sarifResult{})}}
	var frame bytes.Buffer
	if err := newJSONEncoder(&frame, "").Encode(log); err != nil {
		return fmt.Errorf("encode SARIF: %w", err)
	}
	// results is a member of the run, the first element of runs: depth 3.
	err := streamJSONArray(w, frame.Bytes(), `"results": `, 3, len(p.Findings), func(dst []byte, prefix string, i int) ([]byte, error) {
		f := &p.Findings[i]
		return sarifFindingJSON(dst, prefix, f, index[f.RuleID])
	})
	if err != nil {
		return fmt.Errorf("encode SARIF: %w", err)
	}
	return nil
}

// sarifBaseOf describes a URI base of the run's artifact locations.
func sarifBaseOf(base string) sarifBase {
	if base == sarifImageRoot {
		return sarifBase{Description: sarifText{Text: "The root of the scanned container image's filesystem."}}
	}
	return sarifBase{Description: sarifText{Text: "The directory the scan ran in, normally the repository root."}}
}

// sarifRunOf is the run of report p with its rules, the URI bases its
// locations use, and results (written by the caller: writeSARIF streams
// them into an empty list).
func sarifRunOf(p *Report, rules []sarifRule, bases map[string]sarifBase, results []sarifResult) sarifRun {
	inv := sarifInvocation{ExecutionSuccessful: !p.Partial}
	if !p.GeneratedAt.IsZero() {
		inv.EndTimeUTC = p.GeneratedAt.UTC().Format(time.RFC3339Nano)
	}
	for _, e := range p.Errors {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications,
			sarifNotification{Level: "error", Message: sarifText{Text: nonEmpty(e, "error")}})
	}
	name := p.Tool.Name
	if name == "" {
		name = sarifToolName
	}
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           name,
			Version:        p.Tool.Version,
			InformationURI: sarifInformationURI,
			Rules:          rules,
		}},
		Invocations: []sarifInvocation{inv},
		ColumnKind:  "unicodeCodePoints",
		Results:     results,
		Properties:  map[string]any{"partial": p.Partial},
	}
	if len(bases) > 0 {
		run.OriginalURIBaseIDs = bases
	}
	if p.Target != "" {
		run.Properties["target"] = p.Target
	}
	if p.Exposed != nil {
		// The JSON report's list, in its schema: code-scanning UIs ignore
		// it, SARIF consumers that rank findings by exposure read it.
		run.Properties["exposedWorkloads"] = p.Exposed
	}
	return run
}

// sarifRules returns one rule per rule ID, sorted by ID, and each ID's index.
// A rule's title and severity come from its most severe finding (fs is
// normalized, so that is the first one seen), its help from the first that
// has remediation or references, its tags from all of them.
func sarifRules(fs []Finding) ([]sarifRule, map[string]int) {
	index := make(map[string]int)
	var ids []string
	first := make(map[string]*Finding)
	helpFrom := make(map[string]*Finding)
	tags := make(map[string][]string)
	// Findings of one rule mostly share its category and controls (one
	// slice from the compliance mapping): their tags are added once.
	type tagSource struct {
		category string
		controls *Control
		n        int
	}
	tagged := make(map[string]tagSource)
	for i := range fs {
		f := &fs[i]
		if _, ok := first[f.RuleID]; !ok {
			first[f.RuleID] = f
			ids = append(ids, f.RuleID)
		}
		if _, ok := helpFrom[f.RuleID]; !ok && (f.Remediation != "" || len(f.References) > 0) {
			helpFrom[f.RuleID] = f
		}
		src := tagSource{category: f.Category, n: len(f.Controls)}
		if len(f.Controls) > 0 {
			src.controls = &f.Controls[0]
		}
		if last, ok := tagged[f.RuleID]; ok && last == src {
			continue
		}
		tagged[f.RuleID] = src
		tags[f.RuleID] = append(tags[f.RuleID], ruleTags(f)...)
	}
	slices.Sort(ids)
	rules := make([]sarifRule, 0, len(ids))
	for i, id := range ids {
		f := first[id]
		index[id] = i
		props := map[string]any{}
		if score := securitySeverity(f.Severity); score != "" {
			props["security-severity"] = score
		}
		t := tags[id]
		slices.Sort(t)
		props["tags"] = slices.Compact(t)
		rule := sarifRule{
			ID:                   id,
			ShortDescription:     sarifText{Text: nonEmpty(f.Title, id)},
			DefaultConfiguration: sarifRuleConf{Level: sarifLevel(f.Severity)},
			Properties:           props,
		}
		if h := helpFrom[id]; h != nil {
			rule.Help = sarifHelpOf(h)
			rule.HelpURI = firstWebURL(h.References)
		}
		rules = append(rules, rule)
	}
	return rules, index
}

// ruleTags returns the tags f contributes to its rule: "security" (which
// GitHub needs to show security-severity), the category, and the controls.
func ruleTags(f *Finding) []string {
	t := []string{"security"}
	if f.Category != "" {
		t = append(t, f.Category)
	}
	for _, c := range f.Controls {
		t = append(t, c.Framework+"/"+c.ID)
	}
	return t
}

// sarifHelpOf renders f's remediation and references as rule help, or nil
// when it has neither.
func sarifHelpOf(f *Finding) *sarifHelp {
	if f.Remediation == "" && len(f.References) == 0 {
		return nil
	}
	var text, md strings.Builder
	if f.Remediation != "" {
		text.WriteString(f.Remediation)
		md.WriteString("**Remediation**\n\n" + f.Remediation)
	}
	if len(f.References) > 0 {
		if f.Remediation != "" {
			text.WriteString("\n\n")
			md.WriteString("\n\n")
		}
		text.WriteString("References:")
		md.WriteString("**References**\n")
		for _, ref := range f.References {
			text.WriteString("\n" + ref)
			md.WriteString("\n- " + ref)
		}
	}
	return &sarifHelp{Text: text.String(), Markdown: md.String()}
}

// sarifResultOf converts one finding.
func sarifResultOf(f *Finding, ruleIndex int) sarifResult {
	res := sarifResult{
		RuleID:              f.RuleID,
		RuleIndex:           ruleIndex,
		Level:               sarifLevel(f.Severity),
		Message:             sarifText{Text: messageOf(f)},
		PartialFingerprints: map[string]string{sarifFingerprintKey: f.ID},
		Properties:          map[string]any{"severity": f.Severity.String()},
	}
	key := f.Resource.objectKey()
	if loc, ok := sarifLocationOf(f.Resource, key); ok {
		res.Locations = []sarifLocation{loc}
	}
	if key != "" {
		res.Properties["resource"] = key
	}
	if f.Category != "" {
		res.Properties["category"] = f.Category
	}
	if len(f.Controls) > 0 {
		res.Properties["controls"] = sarifControls(f.Controls)
	}
	if !f.Open() {
		res.Suppressions = []sarifSuppression{sarifSuppressionOf(f.Exception)}
	}
	return res
}

// sarifControls are a result's compliance controls, written as a list of
// "framework/id" strings. They are the finding's own slice (shared by every
// finding of a rule), rendered without a string per control per result.
type sarifControls []Control

// MarshalJSON writes the controls as ["framework/id", ...].
func (cs sarifControls) MarshalJSON() ([]byte, error) {
	b := []byte{'['}
	for i, c := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, c.Framework+"/"+c.ID) // HTML characters as they are, like the rest
	}
	return append(b, ']'), nil
}

// sarifLocationOf locates a resource: in a file when the file is known (with
// the object, key, as a logical location too), else by its key alone.
func sarifLocationOf(r Resource, key string) (sarifLocation, bool) {
	var loc sarifLocation
	if key != "" {
		loc.LogicalLocations = []sarifLogical{{FullyQualifiedName: key, Kind: "resource"}}
	}
	if r.File != "" {
		base := sarifBaseOfFile(r)
		phys := &sarifPhysical{ArtifactLocation: sarifArtifactOf(r.File, base)}
		if r.Line > 0 {
			phys.Region = &sarifRegion{StartLine: r.Line}
			if r.Column > 0 {
				phys.Region.StartColumn = r.Column
			}
		}
		loc.PhysicalLocation = phys
	}
	return loc, loc.PhysicalLocation != nil || loc.LogicalLocations != nil
}

// sarifBaseOfFile is the URI base of r's file: the image's root when r is
// a file of an image (an image scan's finding), else the directory the
// scan ran in — a Kubernetes object's manifest, even when the finding
// names the container's image (posture findings do).
func sarifBaseOfFile(r Resource) string {
	if r.Kind == "" && (r.Image != "" || r.ImageDigest != "") {
		return sarifImageRoot
	}
	return sarifSrcRoot
}

// sarifArtifactOf turns a file path into an artifact location: a relative
// URI with forward slashes under base, or a file: URI for an absolute path on
// disk. Characters that are not allowed in a URI are percent-encoded.
func sarifArtifactOf(file, base string) sarifArtifact {
	p := strings.ReplaceAll(file, `\`, "/")
	if isWindowsAbs(p) {
		return sarifArtifact{URI: (&url.URL{Scheme: "file", Path: "/" + p}).String()}
	}
	if base == sarifImageRoot {
		// Paths inside an image are absolute in the image; make them
		// relative to its root.
		p = strings.TrimLeft(p, "/")
	} else if strings.HasPrefix(p, "/") {
		return sarifArtifact{URI: (&url.URL{Scheme: "file", Path: p}).String()}
	}
	for strings.HasPrefix(p, "./") {
		p = strings.TrimLeft(p[2:], "/")
	}
	// url.URL.String escapes the path and prefixes "./" when a colon in the
	// first segment would otherwise read as a scheme.
	return sarifArtifact{URI: (&url.URL{Path: p}).String(), URIBaseID: base}
}

// isWindowsAbs reports whether p (with forward slashes) starts with a drive
// letter: "C:/…".
func isWindowsAbs(p string) bool {
	return len(p) >= 3 && p[1] == ':' && p[2] == '/' &&
		(p[0] >= 'a' && p[0] <= 'z' || p[0] >= 'A' && p[0] <= 'Z')
}

// sarifSuppressionOf records the exception behind an excepted finding.
func sarifSuppressionOf(e *ExceptionRef) sarifSuppression {
	s := sarifSuppression{Kind: "external", Status: "accepted"}
	if e == nil {
		return s
	}
	var just []string
	if e.Reason != "" {
		just = append(just, e.Reason)
	}
	if e.Owner != "" {
		just = append(just, "owner: "+e.Owner)
	}
	if !e.Expires.IsZero() {
		just = append(just, "expires: "+e.Expires.UTC().Format(time.DateOnly))
	}
	s.Justification = strings.Join(just, "; ")
	props := map[string]any{}
	if e.ID != "" {
		props["exceptionId"] = e.ID
	}
	if e.Owner != "" {
		props["owner"] = e.Owner
	}
	if !e.Expires.IsZero() {
		props["expires"] = e.Expires.UTC().Format(time.RFC3339)
	}
	if len(props) > 0 {
		s.Properties = props
	}
	return s
}

// firstWebURL returns the first http(s) URL in refs, or "".
func firstWebURL(refs []string) string {
	for _, ref := range refs {
		u, err := url.Parse(ref)
		if err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			return u.String()
		}
	}
	return ""
}

func nonEmpty(s, fallback string) string {
	if strings.TrimSpace(s) == "" {
		return fallback
	}
	return s
}
