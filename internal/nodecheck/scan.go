package nodecheck

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
)

// Output is the result of checking one node.
type Output struct {
	Node     *Node
	Findings []finding.Finding
	Coverage *finding.Coverage
	// Nodes are every node checked (Node is the first).
	Nodes []*Node
	// Errors are inputs that exist but could not be read: the report is
	// partial.
	Errors []error
	// NotEvaluated are results a node collector did not gather the facts
	// for: neither passes nor findings, and the report is partial.
	NotEvaluated []NotEvaluated
}

// NotEvaluated is a check that could not be decided from collected facts.
type NotEvaluated struct {
	Node    string
	CheckID string
	File    string // the file judged, when the check judges files
	// Missing names the fact and who did not collect it.
	Missing string
}

func (ne NotEvaluated) Error() string {
	node := ""
	if ne.Node != "" {
		node = " on node " + ne.Node
	}
	return fmt.Sprintf("check %s not evaluated%s: %s", ne.CheckID, node, ne.Missing)
}

// Run discovers the node under opts.Root and evaluates checks on it.
// Checks of a component that is not on the node, and files that do not
// exist, are not applicable: neither passes nor findings.
//
// A node where no component is found is an error (ErrNoComponents), not
// a clean report: it is a machine that is not a node, or a --root or
// --pid that points at the wrong place, and nothing was checked.
func Run(ctx context.Context, checks []Check, opts Options) (*Output, error) {
	n, err := Discover(ctx, opts)
	if err != nil {
		return nil, err
	}
	if len(n.Components) == 0 { // only collector input marks a control plane without one
		return nil, fmt.Errorf("%w under %s (no kubelet, kube-proxy, kube-apiserver, kube-controller-manager, kube-scheduler or etcd process, static pod manifest or kubelet systemd unit): nothing was checked", ErrNoComponents, n.root)
	}
	return evaluate(ctx, checks, []*Node{n})
}

// ErrNoComponents is Run's error on a machine where no Kubernetes
// component is found.
var ErrNoComponents = errors.New("no Kubernetes component found")

// RunFacts evaluates checks on the nodes that node collector output
// describes (see FromFacts): the same checks and verdicts as Run, with
// facts the collector did not gather listed as not evaluated.
func RunFacts(ctx context.Context, checks []Check, inputs []Input, opts Options) (*Output, error) {
	nodes, err := FromFacts(ctx, inputs, opts)
	if err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		return nil, errors.New("no node collector input")
	}
	return evaluate(ctx, checks, nodes)
}

func evaluate(ctx context.Context, checks []Check, nodes []*Node) (*Output, error) {
	out := &Output{Node: nodes[0], Nodes: nodes}
	var cov finding.CoverageBuilder
	for _, n := range nodes {
		out.Errors = append(out.Errors, n.Errors...)
		if err := evaluateNode(ctx, checks, n, out, &cov); err != nil {
			return nil, err
		}
	}
	out.Coverage = cov.Build()
	finding.Normalize(out.Findings)
	return out, nil
}

func evaluateNode(ctx context.Context, checks []Check, n *Node, out *Output, cov *finding.CoverageBuilder) error {
	for _, ch := range checks {
		if err := ctx.Err(); err != nil {
			return err
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
			case r.Missing != "":
				ne := NotEvaluated{Node: n.Name, CheckID: ch.ID, File: r.File, Missing: r.Missing}
				if k := len(out.NotEvaluated); k == 0 || out.NotEvaluated[k-1] != ne {
					out.NotEvaluated = append(out.NotEvaluated, ne)
				}
				continue
			}
			cov.Rule(ch.ID, ch.Title, ch.Severity, controls)
			cov.Evaluated(ch.ID, finding.Scope{})
			if !r.Pass {
				out.Findings = append(out.Findings, ch.finding(n, c, r, controls))
			}
		}
	}
	return nil
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
