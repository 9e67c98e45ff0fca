package checks

// Organisations require metadata on what runs in their clusters: an owner
// label to route an alert or an incident to, a contact annotation, a cost
// centre. A workload without it is one nobody answers for. The keys (and,
// optionally, a regular expression their values must match) come from
// posture.requiredLabels and posture.requiredAnnotations in palisade.yaml;
// with none configured the check reports nothing. The workload object's
// own metadata is judged, not its pod template's. kube-linter's
// required-label and required-annotation templates (required-label-owner,
// required-annotation-email).

import (
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RequiredMetadata reports workloads missing a label or annotation the
// configuration requires.
func RequiredMetadata() posture.Check {
	return posture.Check{
		ID:          "required-metadata",
		Title:       "Workload lacks a label or annotation the configuration requires",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "Labels and annotations the organisation requires (an owner, a contact) route alerts and incidents to whoever runs a workload; without them nobody answers for it.",
		Remediation: "Add the label or annotation, with a value of the required form, to the workload's metadata.",
		// The workload kinds whose pods run, judged as objects: the
		// requirement is on their metadata, whatever their template holds.
		Scope:    posture.ScopeObject,
		Kinds:    isolationKinds,
		Versions: []posture.Versioned{{MinVersion: 8, Eval: evalRequiredMetadata}}, // new in version 8
	}
}

func evalRequiredMetadata(in *posture.Input) []posture.Result {
	o := in.Object
	var out []posture.Result
	for _, m := range []struct {
		what string
		keys []config.RequiredKey
		have map[string]string
	}{{"label", in.Options.RequiredLabels, o.Meta.Labels}, {"annotation", in.Options.RequiredAnnotations, o.Meta.Annotations}} {
		for _, k := range m.keys {
			v, ok := m.have[k.Key]
			var msg string
			switch {
			case !ok:
				msg = o.Ref.Kind + " " + o.Meta.Name + " has no " + m.what + " " + k.Key + "."
			case !k.Matches(v):
				msg = o.Ref.Kind + " " + o.Meta.Name + ": " + m.what + " " + k.Key + " is " + quoteList([]string{v}) + ", which does not match " + k.Value + "."
			default:
				continue
			}
			out = append(out, posture.Result{Path: []string{"metadata", m.what + "s"}, Message: msg,
				Evidence: []finding.Evidence{key("required", m.what+":"+k.Key)}})
		}
	}
	return out
}
