package vulndb

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/palisade-sec/palisade/internal/vulndb/osv"
)

// writer holds the prepared insert statements of one import.
type writer struct {
	adv, aff, skip *sql.Stmt
	buf            bytes.Buffer
}

func newWriter(ctx context.Context, tx *sql.Tx) (*writer, error) {
	w := &writer{}
	var err error
	if w.adv, err = tx.PrepareContext(ctx, `INSERT OR REPLACE INTO advisories (id, modified, doc) VALUES (?, ?, ?)`); err != nil {
		return nil, fmt.Errorf("prepare import: %w", err)
	}
	if w.aff, err = tx.PrepareContext(ctx, `INSERT OR IGNORE INTO affected (ecosystem, name, advisory, base, entries) VALUES (?, ?, ?, ?, ?)`); err != nil {
		return nil, fmt.Errorf("prepare import: %w", err)
	}
	if w.skip, err = tx.PrepareContext(ctx, `INSERT INTO skipped (bundle, entry, error) VALUES (?, ?, ?)`); err != nil {
		return nil, fmt.Errorf("prepare import: %w", err)
	}
	return w, nil
}

func (w *writer) close() {
	for _, s := range []*sql.Stmt{w.adv, w.aff, w.skip} {
		if s != nil {
			s.Close()
		}
	}
}

func (w *writer) insert(ctx context.Context, v *osv.Vulnerability, raw []byte, source string, stats map[string]*ecoStats, br *BundleResult) error {
	w.buf.Reset()
	if err := json.Compact(&w.buf, raw); err != nil {
		return err
	}
	t := v.Time()
	if _, err := w.adv.ExecContext(ctx, v.ID, t.UTC().Format(time.RFC3339Nano), w.buf.Bytes()); err != nil {
		return err
	}
	bases := map[string]bool{}
	type pkgKey struct{ ecosystem, name string }
	var order []pkgKey
	entries := map[pkgKey][]osv.Affected{}
	for _, a := range v.Affected {
		if a.Package.Name == "" {
			continue
		}
		k := pkgKey{a.Package.Ecosystem, normalizeName(a.Package.Ecosystem, a.Package.Name)}
		if _, ok := entries[k]; !ok {
			order = append(order, k)
		}
		a.EcosystemSpecific = nil // symbols and imports: not needed to match
		entries[k] = append(entries[k], a)
	}
	for _, k := range order {
		blob, err := json.Marshal(entries[k])
		if err != nil {
			return err
		}
		base := baseEcosystem(k.ecosystem)
		if _, err := w.aff.ExecContext(ctx, k.ecosystem, k.name, v.ID, base, blob); err != nil {
			return err
		}
		bases[base] = true
	}
	names := make([]string, 0, len(bases))
	for b := range bases {
		names = append(names, b)
	}
	sort.Strings(names)
	for _, b := range names {
		st := stats[b]
		if st == nil {
			st = &ecoStats{source: source}
			stats[b] = st
		} else if !strings.Contains(st.source, source) {
			st.source += ", " + source
		}
		st.advisories++
		if t.After(st.newest) {
			st.newest = t
		}
		br.Ecosystems[b]++
	}
	return nil
}

// carryOver copies, from the database being replaced (attached as "old"),
// the ecosystems this import does not contain. An old database that cannot
// be read carries nothing (it is logged): the new one is complete for what
// was imported.
func carryOver(ctx context.Context, tx *sql.Tx, oldPath string, imported map[string]*ecoStats, log *slog.Logger) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM old.ecosystems ORDER BY name`)
	if err != nil {
		log.Warn("previous database has no ecosystems table; nothing carried over", "path", oldPath, "error", err)
		return nil, nil
	}
	var carry []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read previous database %s: %w", oldPath, err)
		}
		if imported[name] == nil {
			carry = append(carry, name)
		}
	}
	rows.Close()
	for _, name := range carry {
		for _, stmt := range []string{
			`INSERT OR IGNORE INTO advisories SELECT a.* FROM old.advisories a WHERE a.id IN (SELECT advisory FROM old.affected WHERE base = ?)`,
			`INSERT OR IGNORE INTO affected SELECT * FROM old.affected WHERE base = ?`,
			`INSERT INTO ecosystems SELECT * FROM old.ecosystems WHERE name = ?`,
		} {
			if _, err := tx.ExecContext(ctx, stmt, name); err != nil {
				return nil, fmt.Errorf("carry ecosystem %s over from %s: %w", name, oldPath, err)
			}
		}
	}
	return carry, nil
}
