// Package peerexceptions translates the exceptions of other posture tools
// (Kubescape's exceptions file, Trivy's .trivyignore) into Palisade's, so
// that a team moving to Palisade keeps the risks it has accepted. The
// translation is written as palisade.yaml entries for a person to review:
// each says where it came from and where it is broader than the original,
// and what could not be translated is listed apart, never dropped silently.
// Peer checks map to ours through compliance.Peers, the mapping the corpus
// comparison uses.
package peerexceptions

import (
	"slices"
	"strings"

	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/compliance"
)

// Entry is one translated exception: what palisade.yaml's match takes
// (Rules are finding rule IDs, "posture/host-port"), with a reason, and
// where it came from.
type Entry struct {
	Rules     []string
	Namespace string // glob
	Kind      string
	Name      string // glob
	Labels    string // label selector
	Reason    string
	// Source names the peer exception ("Kubescape exception X, resource 2").
	Source string
	// Notes say how the entry differs from the original (a check that
	// covers more than the peer's, peer checks with no counterpart).
	Notes []string
	// Expires is the peer's own expiry (.trivyignore exp:), "" for the
	// default the caller gives.
	Expires string
}

// Skip is a peer exception, or part of one, that could not be translated.
type Skip struct {
	Source string
	Why    string
}

// Translation is the result of translating one file.
type Translation struct {
	Entries []Entry
	Skipped []Skip
}

// add appends e to t, or merges it into an entry with the same match
// (palisade.yaml refuses two): sources and notes joined, and of their own
// expiries (.trivyignore exp:) the earlier kept.
func (t *Translation) add(e Entry) {
	key := func(e *Entry) string {
		rules := slices.Sorted(slices.Values(e.Rules))
		return strings.Join([]string{strings.Join(rules, ","), e.Namespace, e.Kind, e.Name, e.Labels}, "\x00")
	}
	k := key(&e)
	for i := range t.Entries {
		if x := &t.Entries[i]; key(x) == k {
			x.Source += "; " + e.Source
			x.Notes = appendNew(x.Notes, e.Notes...)
			if e.Reason != x.Reason {
				x.Reason += " " + e.Reason
			}
			if x.Expires == "" || (e.Expires != "" && e.Expires < x.Expires) {
				x.Expires = e.Expires
			}
			return
		}
	}
	t.Entries = append(t.Entries, e)
}

// appendNew appends to list the items it does not hold yet, in order.
func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}

// checksOf returns the rule IDs of the Palisade checks peer check id of
// tool maps to, and notes where they cover more than the peer's check
// (a mapping narrowed by evidence, which an exception cannot narrow).
// ok is false when id has no counterpart.
func checksOf(peers *compliance.Peers, tool, id string) (rules, notes []string, ok bool) {
	pc, ok := peers.Tools[tool][id]
	if !ok {
		return nil, nil, false
	}
	var walk func(pc compliance.PeerCheck)
	walk = func(pc compliance.PeerCheck) {
		// Node checks ("node/…", palisade node check) are their own rule IDs.
		rule := pc.Check
		if !strings.HasPrefix(rule, "node/") {
			rule = posture.RulePrefix + rule
		}
		rules = appendNew(rules, rule)
		if len(pc.Evidence) > 0 {
			notes = append(notes, id+" is the part of "+pc.Check+" with "+strings.Join(pc.Evidence, " or ")+"; the exception covers all of "+pc.Check)
		}
		for _, or := range pc.Or {
			walk(or)
		}
	}
	walk(pc)
	return rules, notes, true
}
