package finding

import (
	_ "embed"
	"html/template"
	"io"
	"slices"
)

//go:embed html.tmpl
var htmlTemplate string

// htmlPage is what the HTML template renders: the report and the views of
// it an auditor reads in order — scope and completeness, scores per
// framework and control, findings by severity with remediation, accepted
// risks with owner and expiry.
type htmlPage struct {
	R          *Report
	Open       []*Finding
	Excepted   []*Finding
	BySeverity []htmlSeverity
	Controls   map[string][]*Finding // "framework control" → open findings
	// ShowExposed is set when the report lists exposed workloads, even
	// none (a posture scan), as opposed to not saying (an image scan).
	ShowExposed bool
}

type htmlSeverity struct {
	Name  string
	Count int
}

var htmlFuncs = template.FuncMap{
	"resource": func(r Resource) string { return orDash(r.objectKey()) },
	"location": func(r Resource) string { return orDash(r.location()) },
	"message":  messageOf,
	"date":     expiryDate,
	"pct":      pctText,
	"key":      func(fw, id string) string { return fw + " " + id },
	"grade":    grade,
	"via":      func(p ExposurePath) string { return p.String() },
	"tls":      func(p ExposurePath) string { return p.tlsText() },
}

// grade is the CSS class of a score.
func grade(f float64) string {
	switch {
	case f >= 90:
		return "good"
	case f >= 70:
		return "fair"
	}
	return "poor"
}

// writeHTML renders a self-contained page (inline CSS, no scripts, no
// external resources) that prints well: what a person hands an auditor.
// html/template escapes every value taken from the report.
func writeHTML(w io.Writer, p *Report) error {
	tpl, err := template.New("report").Funcs(htmlFuncs).Parse(htmlTemplate)
	if err != nil {
		return err
	}
	p = cleanForHTML(p)
	page := htmlPage{R: p, Controls: map[string][]*Finding{}, ShowExposed: p.Exposed != nil}
	for i := range p.Findings {
		f := &p.Findings[i]
		if !f.Open() {
			page.Excepted = append(page.Excepted, f)
			continue
		}
		page.Open = append(page.Open, f)
		for _, c := range f.Controls {
			k := c.Framework + " " + c.ID
			page.Controls[k] = append(page.Controls[k], f)
		}
	}
	for _, s := range Severities() {
		if n := p.Summary.OpenBySeverity.Get(s); n > 0 {
			page.BySeverity = append(page.BySeverity, htmlSeverity{Name: s.String(), Count: n})
		}
	}
	return tpl.Execute(w, page)
}

// cleanForHTML returns a copy of p whose strings are fit to show: html/
// template escapes markup, but control characters and bidirectional
// overrides from hostile resource names would still reach the reader's
// screen and could make a finding read as something else.
func cleanForHTML(p *Report) *Report {
	c := *p
	c.Target = cleanText(p.Target)
	c.Tool = Tool{Name: cleanText(p.Tool.Name), Version: cleanText(p.Tool.Version)}
	c.Errors = make([]string, len(p.Errors))
	for i, e := range p.Errors {
		c.Errors[i] = cleanText(e)
	}
	c.Findings = make([]Finding, len(p.Findings))
	for i, f := range p.Findings {
		f.RuleID, f.Title, f.Message, f.Remediation = cleanText(f.RuleID), cleanText(f.Title), cleanText(f.Message), cleanText(f.Remediation)
		r := &f.Resource
		for _, s := range []*string{&r.Cluster, &r.Namespace, &r.Kind, &r.Name, &r.Container, &r.Image, &r.ImageDigest, &r.File} {
			*s = cleanText(*s)
		}
		f.Controls = slices.Clone(f.Controls)
		for j := range f.Controls {
			f.Controls[j] = Control{Framework: cleanText(f.Controls[j].Framework), ID: cleanText(f.Controls[j].ID)}
		}
		if x := f.Exception; x != nil {
			f.Exception = &ExceptionRef{ID: cleanText(x.ID), Owner: cleanText(x.Owner), Reason: cleanText(x.Reason), Expires: x.Expires}
		}
		c.Findings[i] = f
	}
	if p.Exposed != nil {
		c.Exposed = make([]ExposedWorkload, len(p.Exposed))
		for i, w := range p.Exposed {
			r := &w.Resource
			for _, s := range []*string{&r.Cluster, &r.Namespace, &r.Kind, &r.Name, &r.File} {
				*s = cleanText(*s)
			}
			w.Paths = slices.Clone(w.Paths)
			for j := range w.Paths {
				q := &w.Paths[j]
				for _, s := range []*string{&q.Via, &q.Ingress, &q.Host, &q.Path, &q.Service, &q.Port, &q.Container} {
					*s = cleanText(*s)
				}
			}
			c.Exposed[i] = w
		}
	}
	return &c
}
