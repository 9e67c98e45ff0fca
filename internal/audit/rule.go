package audit

import (
	"strings"
	"time"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
)

// Predicate reports whether an event matches a rule's condition. An error
// counts as no match; the engine counts it.
type Predicate func(e *Event) (bool, error)

// Step is one step of a response playbook.
type Step struct {
	Title   string `json:"title" yaml:"title"`
	Command string `json:"command,omitempty" yaml:"command"`
}

// MITRE maps a rule to MITRE ATT&CK: tactic IDs (TA0004) and technique IDs
// (T1078.001).
type MITRE struct {
	Tactics    []string `json:"tactics,omitempty" yaml:"tactics"`
	Techniques []string `json:"techniques,omitempty" yaml:"techniques"`
}

// Threshold makes a rule fire only when Count matching events with the same
// key arrive within Window (a burst), instead of on every match.
type Threshold struct {
	Count  int
	Window time.Duration
}

// Rule is a compiled detection rule.
type Rule struct {
	ID          string
	Name        string
	Description string
	Severity    finding.Severity
	MITRE       MITRE
	Playbook    []Step
	// Stages are the audit stages the rule looks at; empty means
	// ResponseComplete only, so a request gives one alert, not one per stage.
	Stages []string
	// Verbs and Resources, when set, prefilter events cheaply before the
	// condition runs. A resource may name a subresource: "pods/exec".
	Verbs     []string
	Resources []string
	// Throttle suppresses repeats of the rule for the same ThrottleBy key
	// within the window; zero means no throttling.
	Throttle   time.Duration
	ThrottleBy []string // event field paths: "actor.username", "target.name"
	Threshold  *Threshold
	Exceptions []config.Exception
	// File is the rule file the rule came from ("builtin:…" when embedded).
	File string
	// Eval is the compiled condition.
	Eval Predicate
	// Message, when set, renders the alert text for a matching event (a
	// Falco rule's output line).
	Message func(e *Event) string

	// cond is what compiled Eval, when LoadRules did: the engine indexes
	// the rule by its guards. Nil for rules built by hand (Falco's).
	cond *condition
}

// wants reports whether r's prefilter admits e.
func (r *Rule) wants(e *Event) bool {
	stageOK := false
	if len(r.Stages) == 0 {
		stageOK = e.Stage == "ResponseComplete" || e.Stage == ""
	}
	for _, s := range r.Stages {
		if s == e.Stage {
			stageOK = true
			break
		}
	}
	if !stageOK {
		return false
	}
	if len(r.Verbs) > 0 && !contains(r.Verbs, e.Verb) {
		return false
	}
	if len(r.Resources) > 0 {
		res := e.Target.Resource
		if e.Target.Subresource != "" {
			res += "/" + e.Target.Subresource
		}
		if !contains(r.Resources, res) && !contains(r.Resources, e.Target.Resource+"/*") {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Alert is a detection: a rule, threshold or sequence that fired, with the
// auditIDs of the events behind it.
type Alert struct {
	RuleID      string           `json:"ruleId"`
	RuleName    string           `json:"ruleName"`
	Kind        string           `json:"kind"` // "rule", "threshold" or "sequence"
	Severity    finding.Severity `json:"severity"`
	MITRE       MITRE            `json:"mitre"`
	Description string           `json:"description,omitempty"`
	Message     string           `json:"message,omitempty"`
	Time        time.Time        `json:"time"`
	Cluster     string           `json:"cluster,omitempty"`
	Actor       string           `json:"actor,omitempty"`
	SourceIPs   []string         `json:"sourceIPs,omitempty"`
	Verb        string           `json:"verb,omitempty"`
	Target      Target           `json:"target"`
	Evidence    []string         `json:"evidence"` // auditIDs, oldest first
	Playbook    []Step           `json:"playbook,omitempty"`
	File        string           `json:"file,omitempty"`
}

// Finding renders the alert as a finding, for exceptions, the store and
// the shared writers.
func (a *Alert) Finding() finding.Finding {
	f := finding.Finding{
		RuleID:   a.RuleID,
		Title:    a.RuleName,
		Severity: a.Severity,
		Category: "audit",
		Resource: finding.Resource{Cluster: a.Cluster, Namespace: a.Target.Namespace,
			Kind: kindOf(a.Target.Resource), Name: a.Target.Name},
		Message: a.Description,
		Status:  finding.StatusOpen,
	}
	f.Evidence = append(f.Evidence, finding.Evidence{Name: "actor", Value: a.Actor, Key: true})
	for _, id := range a.Evidence {
		f.Evidence = append(f.Evidence, finding.Evidence{Name: "auditID", Value: id, Key: true})
	}
	for _, t := range a.MITRE.Techniques {
		f.Controls = append(f.Controls, finding.Control{Framework: "MITRE-ATT&CK", ID: t})
	}
	var rem []string
	for _, s := range a.Playbook {
		rem = append(rem, s.Title+": "+s.Command)
	}
	f.Remediation = strings.Join(rem, "\n")
	return f
}

// kindOf guesses a Kind from a resource name ("clusterrolebindings" →
// "ClusterRoleBinding") well enough for exception matching, which compares
// kinds case-insensitively.
func kindOf(resource string) string {
	switch {
	case strings.HasSuffix(resource, "ies"):
		return strings.TrimSuffix(resource, "ies") + "y"
	case strings.HasSuffix(resource, "sses"):
		return strings.TrimSuffix(resource, "es")
	case strings.HasSuffix(resource, "s"):
		return strings.TrimSuffix(resource, "s")
	}
	return resource
}
