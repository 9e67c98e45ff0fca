// Package falco loads Falco k8saudit rule files (rules, macros, lists,
// exceptions, append/override) and translates their conditions into
// predicates over Palisade's normalized audit events, so teams keep the
// rules they have. Constructs outside the supported subset — unknown
// fields, regex and binary operators, field transformers — make that one
// rule fail to load with an UnsupportedError; the others still load.
package falco

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/palisade-sec/palisade/internal/audit"
	"github.com/palisade-sec/palisade/internal/finding"
)

// item is one entry of a Falco rules file.
type item struct {
	Rule       *string           `yaml:"rule"`
	Macro      *string           `yaml:"macro"`
	List       *string           `yaml:"list"`
	Desc       string            `yaml:"desc"`
	Condition  *string           `yaml:"condition"`
	Output     string            `yaml:"output"`
	Priority   string            `yaml:"priority"`
	Source     string            `yaml:"source"`
	Tags       []string          `yaml:"tags"`
	Enabled    *bool             `yaml:"enabled"`
	Append     bool              `yaml:"append"`
	Override   map[string]string `yaml:"override"`
	Items      []any             `yaml:"items"`
	Exceptions []exception       `yaml:"exceptions"`
}

type exception struct {
	Name   string `yaml:"name"`
	Fields any    `yaml:"fields"`
	Comps  any    `yaml:"comps"`
	Values []any  `yaml:"values"`
}

type ruleDef struct {
	name, desc, cond, output, priority, source, file string
	tags                                             []string
	enabled                                          bool
	exceptions                                       []exception
}

// ruleset accumulates the definitions of one or more files, in load order,
// as Falco does: later files override and append to earlier ones.
type ruleset struct {
	lists  map[string][]string
	macros map[string]string
	rules  []*ruleDef
	byName map[string]*ruleDef
}

// Loader loads Falco rule files in order.
type Loader struct{ rs ruleset }

// NewLoader returns an empty Loader.
func NewLoader() *Loader {
	return &Loader{rs: ruleset{lists: map[string][]string{}, macros: map[string]string{}, byName: map[string]*ruleDef{}}}
}

// Add parses one rules file; definitions take effect in order.
func (l *Loader) Add(file string, data []byte) error {
	var items []item
	if err := yaml.Unmarshal(data, &items); err != nil {
		return fmt.Errorf("parse Falco rules %s: %w", file, err)
	}
	rs := &l.rs
	for _, it := range items {
		appendItems := it.Append || it.Override["items"] == "append"
		appendCond := it.Append || it.Override["condition"] == "append"
		switch {
		case it.List != nil:
			var vals []string
			for _, v := range it.Items {
				vals = append(vals, fmt.Sprint(v))
			}
			if appendItems {
				rs.lists[*it.List] = append(rs.lists[*it.List], vals...)
			} else {
				rs.lists[*it.List] = vals
			}
		case it.Macro != nil && it.Condition != nil:
			if appendCond && rs.macros[*it.Macro] != "" {
				rs.macros[*it.Macro] += " " + *it.Condition
			} else {
				rs.macros[*it.Macro] = *it.Condition
			}
		case it.Rule != nil:
			name := *it.Rule
			d := rs.byName[name]
			if d != nil && (it.Append || len(it.Override) > 0 || it.Condition == nil) {
				if it.Condition != nil {
					d.cond += " " + *it.Condition
				}
				d.exceptions = append(d.exceptions, it.Exceptions...)
				if it.Enabled != nil {
					d.enabled = *it.Enabled
				}
				continue
			}
			if it.Condition == nil {
				if d == nil && it.Enabled != nil {
					continue // enables/disables a rule of a file not loaded
				}
				return fmt.Errorf("Falco rules %s: rule %q has no condition", file, name)
			}
			nd := &ruleDef{name: name, desc: it.Desc, cond: *it.Condition, output: it.Output, priority: it.Priority, source: it.Source,
				file: file, tags: it.Tags, enabled: it.Enabled == nil || *it.Enabled, exceptions: it.Exceptions}
			if d != nil {
				*d = *nd // redefinition replaces, keeping the position
				continue
			}
			rs.byName[name] = nd
			rs.rules = append(rs.rules, nd)
		}
	}
	return nil
}

// RuleError is a Falco rule that could not be translated.
type RuleError struct {
	File, Rule string
	Err        error
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("%s: Falco rule %q: %v", e.File, e.Rule, e.Err)
}
func (e *RuleError) Unwrap() error { return e.Err }

// Result is what Compile produced.
type Result struct {
	Rules []*audit.Rule
	// Errors holds one RuleError per rule that did not translate.
	Errors []error
	// Skipped counts rules of other sources (syscall) and disabled rules.
	Skipped int
}

// Unsupported counts the errors that are unsupported constructs (as
// opposed to broken rules).
func (r *Result) Unsupported() int {
	n := 0
	for _, e := range r.Errors {
		var u *UnsupportedError
		if errors.As(e, &u) {
			n++
		}
	}
	return n
}

// Compile translates every enabled k8s_audit rule loaded so far.
func (l *Loader) Compile() *Result {
	res := &Result{}
	rs := &l.rs
	for _, d := range rs.rules {
		if !d.enabled || (d.source != "k8s_audit" && d.source != "k8saudit") {
			res.Skipped++
			continue
		}
		n, err := rs.parse(d.cond, nil)
		if err == nil {
			n, err = rs.withExceptions(n, d.exceptions)
		}
		var pred func(*evalCtx) bool
		if err == nil {
			pred, err = compileNode(n)
		}
		if err != nil {
			res.Errors = append(res.Errors, &RuleError{File: d.file, Rule: d.name, Err: err})
			continue
		}
		res.Rules = append(res.Rules, &audit.Rule{
			ID: "falco/" + slug(d.name), Name: d.name, Description: strings.TrimSpace(d.desc),
			Severity: severity(d.priority), MITRE: mitre(d.tags),
			Stages:  []string{"RequestReceived", "ResponseStarted", "ResponseComplete", "Panic", ""},
			File:    d.file,
			Eval:    func(e *audit.Event) (bool, error) { return pred(&evalCtx{e: e}), nil },
			Message: compileOutput(d.output),
		})
	}
	return res
}

// withExceptions adds Falco rule exceptions: "and not (f1 c1 v1 and …)"
// for every value tuple.
func (rs *ruleset) withExceptions(n node, excs []exception) (node, error) {
	for _, x := range excs {
		fields, comps := strs(x.Fields), strs(x.Comps)
		single := len(fields) == 1 && !isList(x.Fields)
		for _, v := range x.Values {
			vals := strs(v)
			if single && len(comps) == 0 {
				comps = []string{"="}
			}
			if len(comps) == 0 {
				comps = make([]string, len(fields))
				for i := range comps {
					comps[i] = "="
				}
			}
			if len(vals) != len(fields) || len(comps) != len(fields) {
				return nil, fmt.Errorf("exception %q: fields, comps and values differ in length", x.Name)
			}
			var conj node
			for i, f := range fields {
				if !knownField(f) {
					return nil, &UnsupportedError{Construct: "field " + f}
				}
				c := check{field: f, op: comps[i], values: []string{vals[i]}}
				if listOps[c.op] {
					c.values = rs.expandList([]string{vals[i]}, nil)
				}
				if conj == nil {
					conj = c
				} else {
					conj = andNode{conj, c}
				}
			}
			n = andNode{n, notNode{conj}}
		}
	}
	return n, nil
}

func isList(v any) bool { _, ok := v.([]any); return ok }

func strs(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = fmt.Sprint(e)
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slug(name string) string {
	return strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "-"), "-")
}

// severity maps Falco priorities to Palisade severities.
func severity(p string) finding.Severity {
	switch strings.ToUpper(p) {
	case "EMERGENCY", "ALERT", "CRITICAL":
		return finding.SeverityCritical
	case "ERROR":
		return finding.SeverityHigh
	case "WARNING":
		return finding.SeverityMedium
	case "NOTICE":
		return finding.SeverityLow
	}
	return finding.SeverityInfo
}

var tacticIDs = map[string]string{
	"mitre_initial_access": "TA0001", "mitre_execution": "TA0002", "mitre_persistence": "TA0003",
	"mitre_privilege_escalation": "TA0004", "mitre_defense_evasion": "TA0005", "mitre_credential_access": "TA0006",
	"mitre_discovery": "TA0007", "mitre_lateral_movement": "TA0008", "mitre_collection": "TA0009",
	"mitre_command_and_control": "TA0011", "mitre_exfiltration": "TA0010", "mitre_impact": "TA0040",
}

var techniqueTag = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)

func mitre(tags []string) audit.MITRE {
	var m audit.MITRE
	for _, t := range tags {
		if id, ok := tacticIDs[strings.ToLower(t)]; ok {
			m.Tactics = append(m.Tactics, id)
		} else if techniqueTag.MatchString(t) {
			m.Techniques = append(m.Techniques, t)
		}
	}
	return m
}
