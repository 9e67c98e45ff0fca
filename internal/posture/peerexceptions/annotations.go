package peerexceptions

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture/compliance"
)

// Annotations translates the exemptions other tools read from the
// annotations of the objects themselves, so that manifests annotated for
// them keep what they accepted:
//
//   - kube-linter: ignore-check.kube-linter.io/CHECK: "reason", and
//     kube-linter.io/ignore-all;
//   - Polaris: polaris.fairwinds.com/CHECK-exempt: "true", and
//     polaris.fairwinds.com/exempt: "true" for every check;
//   - Checkov: checkov.io/skipN (or bridgecrew.io/skipN): "CKV_K8S_20=reason".
//
// Each annotated object becomes one entry matching its kind, name and
// namespace as written (none: any), with the Palisade checks of all its
// annotations; an exemption from every check matches the object alone.
func Annotations(objs []*kube.Object, peers *compliance.Peers) *Translation {
	t := &Translation{}
	for _, o := range objs {
		var rules, notes, reasons []string
		all := false
		src := fmt.Sprintf("%s %s", o.Ref.Kind, kube.QualifiedName(o.Ref.Namespace, o.Ref.Name))
		if o.Source.File != "" {
			src = fmt.Sprintf("%s:%d: %s", o.Source.File, o.Source.Line, src)
		}
		for _, k := range slices.Sorted(maps.Keys(o.Meta.Annotations)) {
			tool, check, reason, isAll, ok := peerAnnotation(k, o.Meta.Annotations[k])
			if !ok {
				continue
			}
			asrc := src + ", annotation " + k
			if reason != "" && (isAll || peers.Tools[tool][check].Check != "") {
				reasons = append(reasons, tool+": "+reason)
			}
			if isAll {
				all = true
				notes = append(notes, k+": every check")
				continue
			}
			rs, ns, mapped := checksOf(peers, tool, check)
			if !mapped {
				t.Skipped = append(t.Skipped, Skip{asrc, tool + " check " + check + " has no Palisade counterpart"})
				continue
			}
			rules = appendNew(rules, rs...)
			notes = append(notes, append([]string{k + ": " + check + " → " + strings.Join(rs, ", ")}, ns...)...)
		}
		if !all && len(rules) == 0 {
			continue
		}
		if all {
			rules = nil
		}
		if o.Ref.Name == "" {
			t.Skipped = append(t.Skipped, Skip{src, "the object has no name to match"})
			continue
		}
		if !utf8.ValidString(o.Ref.Kind + o.Ref.Namespace + o.Ref.Name) {
			// Decoded manifests are UTF-8; only a hand-built object is not.
			t.Skipped = append(t.Skipped, Skip{src, "the object's kind, namespace or name is not UTF-8"})
			continue
		}
		reason := "Exempted by annotations for other tools (translated by palisade posture exceptions import)"
		if len(reasons) > 0 {
			reason = strings.ToValidUTF8(strings.Join(reasons, "; "), "\uFFFD")
		}
		t.add(Entry{Rules: rules, Namespace: globLiteral(o.Ref.Namespace), Kind: o.Ref.Kind, Name: globLiteral(o.Ref.Name),
			Reason: reason, Source: src, Notes: notes})
	}
	return t
}

// peerAnnotation reads one annotation: the tool it speaks to, the check
// it exempts (or every check: all), and the reason it gives; ok is false
// for an annotation that is no exemption.
func peerAnnotation(key, value string) (tool, check, reason string, all, ok bool) {
	switch {
	case strings.HasPrefix(key, "ignore-check.kube-linter.io/"):
		return "kube-linter", strings.TrimPrefix(key, "ignore-check.kube-linter.io/"), strings.TrimSpace(value), false, true
	case key == "kube-linter.io/ignore-all":
		return "kube-linter", "", strings.TrimSpace(value), true, true
	case key == "polaris.fairwinds.com/exempt":
		return "polaris", "", "", true, strings.EqualFold(strings.TrimSpace(value), "true")
	case strings.HasPrefix(key, "polaris.fairwinds.com/") && strings.HasSuffix(key, "-exempt"):
		check := strings.TrimSuffix(strings.TrimPrefix(key, "polaris.fairwinds.com/"), "-exempt")
		return "polaris", check, "", false, strings.EqualFold(strings.TrimSpace(value), "true")
	case strings.HasPrefix(key, "checkov.io/skip"), strings.HasPrefix(key, "bridgecrew.io/skip"):
		id, why, _ := strings.Cut(value, "=")
		return "checkov", strings.TrimSpace(id), strings.TrimSpace(why), false, strings.TrimSpace(id) != ""
	}
	return "", "", "", false, false
}

// globLiteral is a glob that matches s alone: palisade.yaml's name and
// namespace are globs, and a manifest's name may hold *, ? or [.
func globLiteral(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
