package vulndb

import (
	"sort"
	"strings"

	"github.com/palisade-sec/palisade/internal/vulndb/version"
)

// PreferredID picks the identifier a finding is reported under: the CVE ID
// when there is one (the name every scanner, advisory and ticket shares; the
// lowest if several), else the GHSA ID, else the first ID.
func PreferredID(ids []string) string {
	for _, prefix := range []string{"CVE-", "GHSA-"} {
		var cands []string
		for _, id := range ids {
			if strings.HasPrefix(id, prefix) {
				cands = append(cands, id)
			}
		}
		if len(cands) > 0 {
			sort.Strings(cands)
			return cands[0]
		}
	}
	if len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// merge groups the hits of one query whose advisories share an identifier
// (an ID or alias) into one Match each.
func merge(q Query, hits []hit) []Match {
	parent := make([]int, len(hits))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, h := range hits {
		for _, id := range h.v.IDs() {
			if j, ok := owner[id]; ok {
				parent[find(i)] = find(j)
			} else {
				owner[id] = i
			}
		}
	}
	groups := map[int][]hit{}
	var roots []int
	for i, h := range hits {
		r := find(i)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], h)
	}
	cmp, _ := version.ForEcosystem(q.Ecosystem)
	out := make([]Match, 0, len(roots))
	for _, r := range roots {
		g := groups[r]
		sort.Slice(g, func(i, j int) bool { return g[i].v.ID < g[j].v.ID })
		m := Match{Query: q}
		seen := map[string]bool{}
		var all, fixes []string
		for _, h := range g {
			m.Advisories = append(m.Advisories, h.v)
			for _, id := range h.v.IDs() {
				if !seen[id] {
					seen[id] = true
					all = append(all, id)
				}
			}
			fixes = append(fixes, h.fixed)
		}
		m.ID = PreferredID(all)
		m.IDs = append([]string{m.ID}, without(all, m.ID)...)
		// Sources may disagree on the fix; the highest one fixes it for all.
		m.FixedVersion = highest(cmp, fixes)
		m.Severity, m.Score, m.Vector = severity(g)
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func without(ids []string, drop string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != drop {
			out = append(out, id)
		}
	}
	return out
}
