package sink

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/palisade-sec/palisade/internal/audit"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/store"
)

// PostureKind is Alert.Kind of a posture alert: raised by a check, where
// an audit alert is raised by a rule, threshold or sequence.
const PostureKind = "check"

// PostureDetail is what a posture alert carries besides the common fields:
// the object the check judged and how to fix it.
type PostureDetail struct {
	// FindingID is the stable ID of the finding that raised the alert (in
	// the store under the cluster's scope, and in `posture scan` reports).
	FindingID string `json:"findingId"`
	// Category is the check's area: workload, rbac, network, exposure, …
	Category string `json:"category,omitempty"`
	// Object is the resource judged; for a cluster-wide exposure (anonymous
	// access, a public endpoint) it is the cluster itself.
	Object      finding.Resource   `json:"object"`
	Evidence    []finding.Evidence `json:"evidence,omitempty"`
	Remediation string             `json:"remediation,omitempty"`
	// Controls are the CIS, NSA-CISA and MITRE ATT&CK controls the check
	// maps to.
	Controls   []finding.Control `json:"controls,omitempty"`
	References []string          `json:"references,omitempty"`
}

// mitreFramework is the Control.Framework of MITRE ATT&CK mappings.
const mitreFramework = "MITRE-ATT&CK"

// PostureAlert is the forwarded form of a stored posture alert, whose Raw
// is the finding that raised it (see internal/posture/continuous).
func PostureAlert(a store.Alert) (Alert, error) {
	var f finding.Finding
	if err := json.Unmarshal(a.Raw, &f); err != nil {
		return Alert{}, fmt.Errorf("decode finding of posture alert %s: %w", a.ID, err)
	}
	if f.RuleID == "" {
		return Alert{}, fmt.Errorf("decode finding of posture alert %s: no check ID", a.ID)
	}
	out := Alert{ID: a.ID, Source: SourcePosture, Alert: audit.Alert{
		RuleID: f.RuleID, RuleName: f.Title, Kind: PostureKind, Severity: f.Severity,
		Message: f.Message, Time: a.UpdatedAt.UTC(), Cluster: a.Cluster,
		Evidence: []string{}, // no audit events behind it; [] rather than null for receivers
	}, Posture: &PostureDetail{
		FindingID: f.ID, Category: f.Category, Object: f.Resource, Evidence: f.Evidence,
		Remediation: f.Remediation, Controls: f.Controls, References: f.References,
	}}
	if out.Time.IsZero() {
		out.Time = a.CreatedAt.UTC()
	}
	if out.Cluster == "" {
		out.Cluster = f.Resource.Cluster
	}
	for _, c := range f.Controls {
		if c.Framework != mitreFramework {
			continue
		}
		if strings.HasPrefix(c.ID, "TA") {
			out.MITRE.Tactics = append(out.MITRE.Tactics, c.ID)
		} else {
			out.MITRE.Techniques = append(out.MITRE.Techniques, c.ID)
		}
	}
	return out, nil
}

// objectString renders a posture alert's object as "Kind namespace/name",
// "Kind name" for cluster-scoped objects, or "cluster NAME" for the
// cluster itself.
func objectString(a *Alert) string {
	if a.Posture == nil {
		return ""
	}
	o := a.Posture.Object
	switch {
	case o.Kind == "" || o.Kind == "Cluster":
		return "cluster " + orDash(firstNonEmpty(o.Name, a.Cluster))
	case o.Namespace != "":
		s := o.Kind + " " + o.Namespace + "/" + o.Name
		if o.Container != "" {
			s += " (container " + o.Container + ")"
		}
		return s
	}
	return o.Kind + " " + o.Name
}

// controlsString renders controls as "CIS-K8s-1.9 5.2.2, MITRE-ATT&CK T1611".
func controlsString(cs []finding.Control) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		parts = append(parts, c.Framework+" "+c.ID)
	}
	return strings.Join(parts, ", ")
}
