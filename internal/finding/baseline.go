package finding

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Baseline is the open findings of an earlier report, by ID: a team that
// adopts a scanner on an existing repository gates on what is new, and
// works off what the baseline holds. Finding IDs leave line numbers out,
// so a finding keeps its place in the baseline when unrelated lines move.
type Baseline struct {
	// Name says where the baseline came from (its file).
	Name string
	// GeneratedAt is when the baseline's scan finished.
	GeneratedAt time.Time
	open        map[string]bool
}

// LoadBaseline reads, as a baseline named name, a report this tool wrote:
// JSON (-o json), or SARIF (-o sarif, whose results carry the finding ID as
// a partial fingerprint), so that the log a CI run uploaded serves too.
// Findings excepted (suppressed) in it are not part of it: when their
// exception ends they are judged again.
func LoadBaseline(name string, r io.Reader) (*Baseline, error) {
	var doc struct {
		SchemaVersion string    `json:"schemaVersion"`
		GeneratedAt   time.Time `json:"generatedAt"`
		Findings      []struct {
			ID     string `json:"id"`
			Status Status `json:"status"`
		} `json:"findings"`
		Runs []struct {
			Invocations []struct {
				EndTimeUTC string `json:"endTimeUtc"`
			} `json:"invocations"`
			Results []struct {
				PartialFingerprints map[string]string `json:"partialFingerprints"`
				Suppressions        []json.RawMessage `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("baseline %s: not a JSON report or SARIF log: %w", name, err)
	}
	b := &Baseline{Name: name, GeneratedAt: doc.GeneratedAt, open: map[string]bool{}}
	switch {
	case doc.SchemaVersion != "" && doc.Findings != nil:
		for _, f := range doc.Findings {
			if f.ID != "" && f.Status != StatusExcepted {
				b.open[f.ID] = true
			}
		}
	case len(doc.Runs) > 0:
		results, fingerprinted := 0, false
		for _, run := range doc.Runs {
			results += len(run.Results)
			for _, inv := range run.Invocations {
				if t, err := time.Parse(time.RFC3339Nano, inv.EndTimeUTC); err == nil {
					b.GeneratedAt = t
				}
			}
			for _, res := range run.Results {
				id, ok := res.PartialFingerprints[sarifFingerprintKey]
				fingerprinted = fingerprinted || ok
				if ok && id != "" && len(res.Suppressions) == 0 {
					b.open[id] = true
				}
			}
		}
		if results > 0 && !fingerprinted {
			return nil, fmt.Errorf("baseline %s: a SARIF log without %s fingerprints: not written by Palisade", name, sarifFingerprintKey)
		}
	default:
		return nil, fmt.Errorf("baseline %s: not a Palisade report (no findings, no SARIF runs); write one with -o json or -o sarif", name)
	}
	return b, nil
}

// Len is how many open findings the baseline holds.
func (b *Baseline) Len() int { return len(b.open) }

// Apply excepts the open findings of fs (normalized: IDs filled in) that
// the baseline holds, naming it as their exception, and returns how many
// it excepted and how many of the baseline's findings fs no longer has
// (fixed, or no longer scanned).
func (b *Baseline) Apply(fs []Finding) (excepted, gone int) {
	ref := &ExceptionRef{ID: "baseline", Owner: "baseline " + b.Name,
		Reason: "open in the baseline report " + b.Name + " (" + b.GeneratedAt.UTC().Format(time.RFC3339) + "): not new"}
	seen := make(map[string]bool, len(b.open))
	for i := range fs {
		f := &fs[i]
		if !b.open[f.ID] {
			continue
		}
		seen[f.ID] = true
		if f.Open() {
			f.Status, f.Exception = StatusExcepted, ref
			excepted++
		}
	}
	return excepted, len(b.open) - len(seen)
}
