package nodecheck

import (
	"context"
	"fmt"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
)

// Output is the result of checking one node.
type Output struct {
	Node     *Node
	Findings []finding.Finding
	Coverage *finding.Coverage
	// Errors are inputs that exist but could not be read: the report is
	// partial.
	Errors []error
}

// Run discovers the node under opts.Root and evaluates checks on it.
// Checks of a component that is not on the node, and files that do not
// exist, are not applicable: neither passes nor findings.
func Run(ctx context.Context, checks []Check, opts Options) (*Output, error) {
	n, err := Discover(ctx, opts)
	if err != nil {
		return nil, err
	}
	out := &Output{Node: n, Errors: append([]error(nil), n.Errors...)}
	var cov finding.CoverageBuilder
	for _, ch := range checks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var c *Component
		switch {
		case ch.Component == ControlPlane:
			if !n.IsControlPlane() {
				continue
			}
		default:
			if c = n.Components[ch.Component]; c == nil {
				continue
			}
		}
		controls := ch.controls()
		for _, r := range ch.evaluate(ctx, n, c) {
			switch {
			case r.Err != nil:
				out.Errors = append(out.Errors, fmt.Errorf("check %s: %w", ch.ID, r.Err))
				continue
			case r.NotApplicable:
				continue
			}
			cov.Rule(ch.ID, ch.Title, ch.Severity, controls)
			cov.Evaluated(ch.ID, finding.Scope{})
			if !r.Pass {
				out.Findings = append(out.Findings, ch.finding(n, c, r, controls))
			}
		}
	}
	out.Coverage = cov.Build()
	finding.Normalize(out.Findings)
	return out, nil
}

func (ch Check) controls() []finding.Control {
	if ch.CIS == "" {
		return nil
	}
	return []finding.Control{{Framework: Framework, ID: ch.CIS}}
}

func (ch Check) finding(n *Node, c *Component, r Result, controls []finding.Control) finding.Finding {
	res := finding.Resource{Kind: "Node", Name: n.Name, File: r.File}
	ev := []finding.Evidence{}
	if c != nil && ch.Component != "" && ch.Component != ControlPlane {
		res.Container = c.Name
		ev = append(ev, finding.Evidence{Name: "source", Value: c.Source})
	}
	if r.Setting != "" {
		ev = append(ev, finding.Evidence{Name: "setting", Value: r.Setting, Key: true})
	}
	if r.Value != "" || r.From != "" {
		ev = append(ev, finding.Evidence{Name: "value", Value: strings.TrimSpace(r.From + " " + quoteIf(r.Value))})
	}
	return finding.Finding{
		RuleID: ch.ID, Title: ch.Title, Severity: ch.Severity, Category: "node",
		Resource: res, Message: r.Message, Evidence: ev, Remediation: ch.Remediation,
		Controls: controls, References: []string{"https://www.cisecurity.org/benchmark/kubernetes"},
	}
}

func quoteIf(v string) string {
	if v == "" {
		return ""
	}
	return fmt.Sprintf("%q", v)
}
