package vulndb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/vulndb/osv"
	"github.com/palisade-sec/palisade/internal/vulndb/version"
)

// Query is one installed package to match.
type Query struct {
	// Ecosystem is the OSV ecosystem, with the distribution release where
	// advisories are per release: "Debian:12", "Alpine:v3.11", "Go", "PyPI".
	// See OSEcosystem.
	Ecosystem string
	Name      string
	// SourceName is the source package of a binary package (Debian's
	// Source:, Alpine's origin). Distribution advisories name source
	// packages, so it is matched instead of Name when set.
	SourceName string
	// Version is the installed version. For Debian binary packages built
	// from a source of another version (binNMUs), pass the source version
	// when the package database records it: advisories name source
	// versions.
	Version string
	// PURL identifies the package in findings; matching does not use it.
	PURL string
}

// Match is one vulnerability affecting one queried package, after merging
// the advisories that are aliases of each other.
type Match struct {
	Query Query
	// ID is the preferred identifier (see PreferredID); IDs lists every
	// identifier of the merged advisories, ID first.
	ID  string
	IDs []string
	// Advisories are the merged OSV documents, by ID.
	Advisories []*osv.Vulnerability
	// FixedVersion is the lowest fixed version above the installed one in
	// the ranges that matched, or "" when no fix is known.
	FixedVersion string
	Severity     finding.Severity
	// Score and Vector are the CVSS base score and vector the severity came
	// from; both empty when it came from the database's own rating.
	Score  float64
	Vector string
}

// Match returns the vulnerabilities affecting each query: one Match per
// vulnerability per package, aliases merged. A query whose ecosystem has no
// comparator, or whose version the ecosystem cannot parse, is matched only
// against explicit `versions` lists and logged. Results are ordered by
// query, then ID.
func (d *DB) Match(ctx context.Context, pkgs []Query) ([]Match, error) {
	var st matchStmts
	var err error
	if st.entries, err = d.db.PrepareContext(ctx, `SELECT advisory, entries FROM affected WHERE ecosystem = ? AND name = ?`); err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	defer st.entries.Close()
	if st.doc, err = d.db.PrepareContext(ctx, `SELECT doc FROM advisories WHERE id = ?`); err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	defer st.doc.Close()
	var out []Match
	for _, q := range pkgs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("match: %w", err)
		}
		ms, err := d.matchOne(ctx, &st, q)
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	return out, nil
}

// lookupKeys are the (ecosystem, name) index keys of a query: the release
// ecosystem and, for advisories that name no release, the base ecosystem.
func lookupKeys(q Query) [][2]string {
	name := q.Name
	if q.SourceName != "" {
		name = q.SourceName
	}
	name = normalizeName(q.Ecosystem, name)
	keys := [][2]string{{q.Ecosystem, name}}
	if b := baseEcosystem(q.Ecosystem); b != q.Ecosystem {
		keys = append(keys, [2]string{b, name})
	}
	return keys
}

// hit is one advisory that affects a query, before alias merging.
type hit struct {
	v        *osv.Vulnerability
	affected *osv.Affected
	fixed    string
}

func (d *DB) matchOne(ctx context.Context, st *matchStmts, q Query) ([]Match, error) {
	cmp, ok := version.ForEcosystem(q.Ecosystem)
	if ok {
		cmp = version.Cached(cmp)
		if _, err := cmp.Compare(q.Version, q.Version); err != nil {
			d.log.Warn("version not valid in its ecosystem; only explicit version lists are checked", "ecosystem", q.Ecosystem, "package", q.Name, "version", q.Version, "error", err)
			cmp = nil
		}
	} else {
		d.log.Warn("no version order for ecosystem; only explicit version lists are checked", "ecosystem", q.Ecosystem, "package", q.Name)
	}
	type candidate struct {
		id       string
		affected *osv.Affected
		fixed    string
	}
	var cands []candidate
	seen := map[string]bool{}
	for _, key := range lookupKeys(q) {
		rows, err := st.entries.QueryContext(ctx, key[0], key[1])
		if err != nil {
			return nil, fmt.Errorf("match %s %s: %w", q.Ecosystem, q.Name, err)
		}
		for rows.Next() {
			var id string
			var blob []byte
			if err := rows.Scan(&id, &blob); err != nil {
				rows.Close()
				return nil, fmt.Errorf("match %s %s: %w", q.Ecosystem, q.Name, err)
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			var entries []osv.Affected
			if err := json.Unmarshal(blob, &entries); err != nil {
				rows.Close()
				return nil, fmt.Errorf("match %s %s: decode stored entries of %s: %w", q.Ecosystem, q.Name, id, err)
			}
			for i := range entries {
				if affected, fixed := affects(&entries[i], q.Version, cmp); affected {
					cands = append(cands, candidate{id, &entries[i], fixed})
					break
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("match %s %s: %w", q.Ecosystem, q.Name, err)
		}
	}
	hits := make([]hit, 0, len(cands))
	for _, c := range cands {
		var doc []byte
		if err := st.doc.QueryRowContext(ctx, c.id).Scan(&doc); err != nil {
			return nil, fmt.Errorf("match %s %s: load %s: %w", q.Ecosystem, q.Name, c.id, err)
		}
		v := new(osv.Vulnerability)
		if err := json.Unmarshal(doc, v); err != nil {
			return nil, fmt.Errorf("match %s %s: decode stored advisory %s: %w", q.Ecosystem, q.Name, c.id, err)
		}
		hits = append(hits, hit{v: v, affected: c.affected, fixed: c.fixed})
	}
	return merge(q, hits), nil
}

// matchStmts are the prepared lookups of one Match call.
type matchStmts struct {
	entries, doc *sql.Stmt
}

// affects reports whether the installed version v is affected by a, and
// the lowest fixed version above v in the ranges that matched. cmp is nil
// when v cannot be ordered in the ecosystem; then only the explicit
// versions list counts.
func affects(a *osv.Affected, v string, cmp version.Comparator) (bool, string) {
	semverCmp := version.SemVer()
	affected := false
	for _, listed := range a.Versions {
		if listed == v {
			affected = true
			break
		}
		if cmp != nil {
			if c, err := cmp.Compare(listed, v); err == nil && c == 0 {
				affected = true
				break
			}
		}
	}
	var fixed []string
	var fixedCmp version.Comparator
	for _, r := range a.Ranges {
		var c version.Comparator
		switch r.Type {
		case osv.RangeEcosystem:
			c = cmp
		case osv.RangeSemVer:
			c = semverCmp
		}
		if c == nil {
			continue // GIT ranges, unknown types, unorderable version
		}
		in, f := inRange(c, v, r.Events)
		if in || (affected && f != "") {
			affected = affected || in
			if f != "" {
				fixed, fixedCmp = append(fixed, f), c
			}
		}
	}
	if !affected {
		return false, ""
	}
	return true, lowest(fixedCmp, fixed)
}

// inRange evaluates one range's events for version v as the OSV schema
// describes ("Evaluation"): events sorted by version, "introduced" turns
// affected on at or above it, "fixed" and "limit" turn it off at or above
// them, "last_affected" above it. It also returns the lowest fixed version
// above v. Events whose version does not parse are ignored.
func inRange(c version.Comparator, v string, events []osv.Event) (bool, string) {
	type ev struct {
		kind, ver string
	}
	var evs []ev
	for _, e := range events {
		var x ev
		switch {
		case e.Introduced != "":
			x = ev{"introduced", e.Introduced}
		case e.Fixed != "":
			x = ev{"fixed", e.Fixed}
		case e.LastAffected != "":
			x = ev{"last_affected", e.LastAffected}
		case e.Limit != "":
			x = ev{"limit", e.Limit}
		default:
			continue
		}
		if x.ver == "0" && x.kind == "introduced" {
			evs = append(evs, x)
			continue
		}
		if x.ver == "*" && x.kind == "limit" {
			continue // "*" means no limit
		}
		if _, err := c.Compare(x.ver, x.ver); err != nil {
			continue
		}
		evs = append(evs, x)
	}
	order := func(a, b string) int {
		switch {
		case a == "0" && b == "0":
			return 0
		case a == "0":
			return -1
		case b == "0":
			return 1
		}
		r, _ := c.Compare(a, b)
		return r
	}
	sort.SliceStable(evs, func(i, j int) bool { return order(evs[i].ver, evs[j].ver) < 0 })
	affected := false
	var fixed []string
	for _, e := range evs {
		rel := order(v, e.ver)
		if e.ver == "0" {
			rel = 1
		}
		switch e.kind {
		case "introduced":
			if rel >= 0 {
				affected = true
			}
		case "fixed":
			if rel >= 0 {
				affected = false
			} else {
				fixed = append(fixed, e.ver)
			}
		case "limit":
			if rel >= 0 {
				affected = false
			}
		case "last_affected":
			if rel > 0 {
				affected = false
			}
		}
	}
	return affected, lowest(c, fixed)
}

// lowest returns the smallest of vs in c's order, or "".
func lowest(c version.Comparator, vs []string) string {
	best := ""
	for _, v := range vs {
		if best == "" {
			best = v
			continue
		}
		if r, err := c.Compare(v, best); err == nil && r < 0 {
			best = v
		}
	}
	return best
}

// highest returns the largest of vs in c's order, or "".
func highest(c version.Comparator, vs []string) string {
	best := ""
	for _, v := range vs {
		if v == "" {
			continue
		}
		if best == "" {
			best = v
			continue
		}
		if c == nil {
			if v > best {
				best = v
			}
			continue
		}
		if r, err := c.Compare(v, best); err == nil && r > 0 {
			best = v
		}
	}
	return best
}
