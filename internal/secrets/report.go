package secrets

import (
	"fmt"
	"strconv"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
)

// Evidence names on secret findings. "rule", "path" and "fingerprint" are
// key evidence: they make the finding ID, which stays stable when a layer
// is added below or lines move.
const (
	EvRule           = "rule"
	EvPath           = "path"
	EvFingerprint    = "fingerprint"
	EvMatch          = "match" // the redacted secret
	EvLayer          = "layer"
	EvLayerDigest    = "layerDigest"
	EvCreatedBy      = "createdBy"
	EvRemovedInLayer = "removedInLayer"
	EvRemovedBy      = "removedBy"
	EvRemoval        = "removal" // "deleted" or "replaced"
	EvExample        = "example" // "true" for documented example values
)

// Category is the finding category of every secret finding.
const Category = "secret"

// occurrence is where one secret was seen.
type occurrence struct {
	layer   image.Layer
	line    int
	final   bool
	hidden  int
	deleted bool
}

// entry is one finding in the making: the first (topmost) occurrence
// decides whether the secret is still visible; the lowest one is the layer
// that added it.
type entry struct {
	rule    *Rule
	path    string
	fp      string
	match   string
	example bool
	top     occurrence
	added   occurrence
}

// recorder merges occurrences of the same rule, path and fingerprint.
type recorder struct {
	img     *image.Image
	order   []string
	entries map[string]*entry
}

func newRecorder(img *image.Image) *recorder {
	return &recorder{img: img, entries: make(map[string]*entry)}
}

// add records hit h in file f. The walk reads layers top first, so the
// first occurrence of a key is the topmost one.
func (r *recorder) add(f *image.File, p string, h hit, fp string) {
	key := h.rule.ID + "\x00" + p + "\x00" + fp
	oc := occurrence{layer: f.Layer, line: h.line, final: f.Final, hidden: f.HiddenBy, deleted: f.Deleted}
	if e, ok := r.entries[key]; ok {
		if oc.layer.Index < e.added.layer.Index || oc.layer.Index == e.added.layer.Index && oc.line < e.added.line {
			e.added = oc
		}
		return
	}
	r.entries[key] = &entry{rule: h.rule, path: p, fp: fp, match: Redact(h.secret), example: h.example, top: oc, added: oc}
	r.order = append(r.order, key)
}

// findings builds the normalized findings.
func (r *recorder) findings() []finding.Finding {
	out := make([]finding.Finding, 0, len(r.order))
	for _, k := range r.order {
		out = append(out, r.finding(r.entries[k]))
	}
	finding.Normalize(out)
	return out
}

func (r *recorder) finding(e *entry) finding.Finding {
	f := finding.Finding{
		RuleID:      e.rule.ID,
		Title:       e.rule.Title,
		Severity:    e.rule.Severity,
		Category:    Category,
		Resource:    finding.Resource{File: e.path, Line: e.added.line},
		Remediation: e.rule.Remediation,
		Evidence: []finding.Evidence{
			{Name: EvRule, Value: e.rule.ID, Key: true},
			{Name: EvPath, Value: e.path, Key: true},
			{Name: EvFingerprint, Value: e.fp, Key: true},
		},
	}
	if e.rule.Regexp != nil {
		f.Evidence = append(f.Evidence, finding.Evidence{Name: EvMatch, Value: e.match})
	}
	if e.example {
		f.Severity = finding.SeverityLow
		f.Evidence = append(f.Evidence, finding.Evidence{Name: EvExample, Value: "true"})
	}
	where := e.path
	if e.added.line > 0 {
		where += " line " + strconv.Itoa(e.added.line)
	}
	f.Message = fmt.Sprintf("%s in %s", e.rule.Title, where)
	if e.example {
		f.Message += " (a value vendor documentation publishes as an example)"
	}
	if r.img == nil {
		return f
	}
	f.Resource.Image = r.img.Source.String()
	f.Resource.ImageDigest = r.img.Metadata.Digest
	l := e.added.layer
	f.Evidence = append(f.Evidence, finding.Evidence{Name: EvLayer, Value: strconv.Itoa(l.Index)})
	if l.Digest != "" {
		f.Evidence = append(f.Evidence, finding.Evidence{Name: EvLayerDigest, Value: l.Digest})
	}
	if l.CreatedBy != "" {
		f.Evidence = append(f.Evidence, finding.Evidence{Name: EvCreatedBy, Value: l.CreatedBy})
	}
	f.Message += fmt.Sprintf(", added in layer %d", l.Index)
	if !e.top.final && e.top.hidden >= 0 {
		how := "replaced"
		if e.top.deleted {
			how = "deleted"
		}
		f.Evidence = append(f.Evidence,
			finding.Evidence{Name: EvRemovedInLayer, Value: strconv.Itoa(e.top.hidden)},
			finding.Evidence{Name: EvRemoval, Value: how})
		if e.top.hidden < len(r.img.Layers) && r.img.Layers[e.top.hidden].CreatedBy != "" {
			f.Evidence = append(f.Evidence, finding.Evidence{Name: EvRemovedBy, Value: r.img.Layers[e.top.hidden].CreatedBy})
		}
		f.Message += fmt.Sprintf(" and %s in layer %d; the secret is still in layer %d for anyone who pulls the image", how, e.top.hidden, l.Index)
	}
	return f
}
