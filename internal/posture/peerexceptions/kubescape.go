package peerexceptions

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	klabels "k8s.io/apimachinery/pkg/labels"

	"github.com/palisade-sec/palisade/internal/posture/compliance"
)

// kubescapeControls is kubescape-controls.yaml: Kubescape's controls by ID,
// with their names and the regolibrary rules that implement them.
//
//go:embed kubescape-controls.yaml
var kubescapeControls []byte

// control is one Kubescape control.
type control struct {
	Name  string   `yaml:"name"`
	Rules []string `yaml:"rules"`
}

// controls parses kubescapeControls.
func controls() (map[string]control, error) {
	var f struct {
		Controls map[string]control `yaml:"controls"`
	}
	if err := yaml.Unmarshal(kubescapeControls, &f); err != nil {
		return nil, fmt.Errorf("parse kubescape-controls.yaml: %w", err)
	}
	return f.Controls, nil
}

// kubescapeException is one entry of a Kubescape exceptions file
// (policyType postureExceptionPolicy): every resource designator with
// every posture policy.
type kubescapeException struct {
	Name       string `json:"name"`
	PolicyType string `json:"policyType"`
	Resources  []struct {
		DesignatorType string            `json:"designatorType"`
		Attributes     map[string]string `json:"attributes"`
	} `json:"resources"`
	PosturePolicies []struct {
		FrameworkName string `json:"frameworkName"`
		ControlName   string `json:"controlName"`
		ControlID     string `json:"controlID"`
		RuleName      string `json:"ruleName"`
	} `json:"posturePolicies"`
}

// Kubescape translates a Kubescape exceptions file (a JSON array of
// postureExceptionPolicy objects, `kubescape scan --exceptions FILE`).
// Each resource designator of an exception becomes one entry, whose rules
// are the Palisade checks of all its posture policies. Kubescape compares
// name, namespace and kind as anchored regular expressions: literals, ".",
// ".*" and "\." translate to globs; any other pattern, and a cluster
// other than ".*", is skipped with why (palisade.yaml's match has no
// cluster).
func Kubescape(data []byte, peers *compliance.Peers) (*Translation, error) {
	var file []kubescapeException
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("parse Kubescape exceptions: %w", err)
	}
	ctrls, err := controls()
	if err != nil {
		return nil, err
	}
	byName := map[string]string{} // control name → ID
	for id, c := range ctrls {
		byName[strings.ToLower(c.Name)] = id
	}
	t := &Translation{}
	for i, ex := range file {
		src := fmt.Sprintf("Kubescape exception %q", ex.Name)
		if ex.Name == "" {
			src = "Kubescape exception #" + strconv.Itoa(i+1)
		}
		if ex.PolicyType != "" && ex.PolicyType != "postureExceptionPolicy" {
			t.Skipped = append(t.Skipped, Skip{src, "policyType " + ex.PolicyType + " is not a posture exception"})
			continue
		}
		var rules, notes []string
		for _, p := range ex.PosturePolicies {
			r, n, why := kubescapePolicy(ctrls, byName, peers, p.ControlID, p.ControlName, p.RuleName)
			if why != "" {
				t.Skipped = append(t.Skipped, Skip{src, why})
				continue
			}
			if p.FrameworkName != "" {
				n = append(n, "Kubescape applied it in framework "+p.FrameworkName+" only; Palisade checks are not per framework")
			}
			rules = appendNew(rules, r...)
			notes = append(notes, n...)
		}
		if len(rules) == 0 {
			if len(ex.PosturePolicies) == 0 {
				t.Skipped = append(t.Skipped, Skip{src, "no posture policy: Kubescape requires one"})
			}
			continue
		}
		if len(ex.Resources) == 0 {
			t.Skipped = append(t.Skipped, Skip{src, "no resource: Kubescape requires one"})
		}
		for j, r := range ex.Resources {
			rsrc := fmt.Sprintf("%s, resource %d", src, j+1)
			e, why := kubescapeResource(r.DesignatorType, r.Attributes)
			if why != "" {
				t.Skipped = append(t.Skipped, Skip{rsrc, why})
				continue
			}
			e.Rules, e.Notes, e.Source = rules, notes, rsrc
			e.Reason = "Accepted in " + src + " (translated by palisade posture exceptions import)"
			t.add(e)
		}
	}
	return t, nil
}

// kubescapePolicy returns the Palisade rules of a posture policy (a
// control by ID or name, narrowed to one of its rules), with notes, or why
// it has none.
func kubescapePolicy(ctrls map[string]control, byName map[string]string, peers *compliance.Peers, id, name, rule string) (rules, notes []string, why string) {
	what := strings.TrimSpace(id + " " + name)
	if id == "" && name != "" {
		id = byName[strings.ToLower(name)]
	}
	c, ok := ctrls[id]
	switch {
	case what == "" && rule == "":
		return nil, nil, "a posture policy names no control or rule"
	case what == "":
		c = control{Name: rule, Rules: []string{rule}} // a rule alone
	case !ok:
		return nil, nil, "control " + what + " is not a Kubescape control Palisade knows"
	case rule != "":
		if !slices.Contains(c.Rules, rule) {
			return nil, nil, "rule " + rule + " is not one of control " + what + "'s"
		}
		c.Rules = []string{rule}
	}
	var unmapped []string
	for _, r := range c.Rules {
		rs, ns, ok := checksOf(peers, "regolibrary", r)
		if !ok {
			unmapped = append(unmapped, r)
			continue
		}
		rules = appendNew(rules, rs...)
		notes = append(notes, ns...)
	}
	label := strings.TrimSpace(id + " " + c.Name)
	if len(rules) == 0 {
		return nil, nil, label + ": no Palisade check has its meaning (internal/posture/compliance/COVERAGE.md says why)"
	}
	notes = append([]string{label + " → " + strings.Join(rules, ", ")}, notes...)
	if len(unmapped) > 0 {
		notes = append(notes, label+": rules "+strings.Join(unmapped, ", ")+" have no Palisade counterpart")
	}
	return rules, notes, ""
}

// kubescapeResource translates a resource designator's attributes into
// an entry's match, or says why it cannot.
func kubescapeResource(designator string, attrs map[string]string) (Entry, string) {
	var e Entry
	if designator != "" && designator != "Attributes" {
		return e, "designatorType " + designator + " is not Attributes"
	}
	var labels []string
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		v := attrs[k]
		switch k {
		case "name", "namespace", "kind":
			g, ok := regexGlob(v)
			if !ok {
				return e, fmt.Sprintf("%s %q is a regular expression a glob cannot say", k, v)
			}
			switch k {
			case "name":
				e.Name = g
			case "namespace":
				e.Namespace = g
			case "kind":
				if strings.ContainsAny(g, "*?") && g != "*" {
					return e, fmt.Sprintf("kind %q matches several kinds; palisade.yaml names one", v)
				}
				if g != "*" {
					e.Kind = g
				}
			}
		case "cluster":
			if v != ".*" {
				return e, fmt.Sprintf("cluster %q: palisade.yaml exceptions apply to every cluster", v)
			}
		default:
			labels = append(labels, k+"="+v)
		}
	}
	if e.Name == "*" {
		e.Name = ""
	}
	if e.Namespace == "*" {
		e.Namespace = ""
	}
	for _, g := range []string{e.Name, e.Namespace} {
		if _, err := path.Match(g, ""); err != nil {
			return e, fmt.Sprintf("%q is not a glob palisade.yaml accepts: %v", g, err)
		}
	}
	e.Labels = strings.Join(labels, ",")
	if _, err := klabels.Parse(e.Labels); err != nil {
		return e, fmt.Sprintf("labels %q: %v", e.Labels, err)
	}
	return e, ""
}

// regexGlob turns an anchored regular expression made of literal
// characters, "." (any one), ".*" (any run) and escaped dots into a glob;
// ok is false for anything else.
func regexGlob(re string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(re); i++ {
		switch c := re[i]; {
		case c == '.' && i+1 < len(re) && re[i+1] == '*':
			b.WriteByte('*')
			i++
		case c == '.':
			b.WriteByte('?')
		case c == '\\' && i+1 < len(re) && strings.IndexByte(`.-_/`, re[i+1]) >= 0:
			b.WriteByte(re[i+1])
			i++
		case strings.IndexByte(`\[](){}|+?^$*`, c) >= 0:
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}
