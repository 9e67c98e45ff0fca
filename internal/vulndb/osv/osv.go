// Package osv is the OSV schema (ossf.github.io/osv-schema), Palisade's one
// advisory format: the document types, a validating parser and the helpers
// matching needs (aliases, the database's own severity).
package osv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Vulnerability is one OSV document.
type Vulnerability struct {
	SchemaVersion    string          `json:"schema_version,omitempty"`
	ID               string          `json:"id"`
	Modified         time.Time       `json:"modified,omitzero"`
	Published        time.Time       `json:"published,omitzero"`
	Withdrawn        time.Time       `json:"withdrawn,omitzero"`
	Aliases          []string        `json:"aliases,omitempty"`
	Related          []string        `json:"related,omitempty"`
	Upstream         []string        `json:"upstream,omitempty"`
	Summary          string          `json:"summary,omitempty"`
	Details          string          `json:"details,omitempty"`
	Severity         []Severity      `json:"severity,omitempty"`
	Affected         []Affected      `json:"affected,omitempty"`
	References       []Reference     `json:"references,omitempty"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Severity is a severity score: Type CVSS_V2, CVSS_V3, CVSS_V4 or Ubuntu,
// Score the vector string or rating.
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected is one affected package and its affected versions.
type Affected struct {
	Package           Package         `json:"package"`
	Severity          []Severity      `json:"severity,omitempty"`
	Ranges            []Range         `json:"ranges,omitempty"`
	Versions          []string        `json:"versions,omitempty"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  json.RawMessage `json:"database_specific,omitempty"`
}

// Package names a package in an ecosystem ("Debian:12", "Go", "PyPI", …).
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	PURL      string `json:"purl,omitempty"`
}

// The range types of the schema.
const (
	RangeEcosystem = "ECOSYSTEM"
	RangeSemVer    = "SEMVER"
	RangeGit       = "GIT"
)

// Range is a list of events that delimit affected versions.
type Range struct {
	Type   string  `json:"type"`
	Repo   string  `json:"repo,omitempty"`
	Events []Event `json:"events"`
}

// Event is one range event; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Reference is a link about the vulnerability.
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// ErrInvalid is returned (wrapped) for a document that is not valid OSV.
var ErrInvalid = errors.New("invalid OSV document")

// Parse decodes and validates one OSV JSON document. Unknown fields are
// ignored (the schema grows); missing required fields, an event without
// exactly one of introduced/fixed/last_affected/limit, or an affected entry
// without a package (other than for GIT ranges) are errors naming the field.
func Parse(data []byte) (*Vulnerability, error) {
	var v Vulnerability
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the document", ErrInvalid)
	}
	if err := v.Validate(); err != nil {
		return nil, err
	}
	return &v, nil
}

// Validate checks the fields matching relies on.
func (v *Vulnerability) Validate() error {
	if strings.TrimSpace(v.ID) == "" {
		return fmt.Errorf("%w: id is empty", ErrInvalid)
	}
	for i, a := range v.Affected {
		gitOnly := len(a.Ranges) > 0
		for _, r := range a.Ranges {
			gitOnly = gitOnly && r.Type == RangeGit
		}
		if (a.Package.Ecosystem == "" || a.Package.Name == "") && !gitOnly {
			return fmt.Errorf("%w %s: affected[%d].package needs ecosystem and name", ErrInvalid, v.ID, i)
		}
		for j, r := range a.Ranges {
			if r.Type == "" {
				return fmt.Errorf("%w %s: affected[%d].ranges[%d].type is empty", ErrInvalid, v.ID, i, j)
			}
			if len(r.Events) == 0 {
				return fmt.Errorf("%w %s: affected[%d].ranges[%d] has no events", ErrInvalid, v.ID, i, j)
			}
			for k, e := range r.Events {
				n := 0
				for _, s := range []string{e.Introduced, e.Fixed, e.LastAffected, e.Limit} {
					if s != "" {
						n++
					}
				}
				if n != 1 {
					return fmt.Errorf("%w %s: affected[%d].ranges[%d].events[%d] must set exactly one of introduced, fixed, last_affected, limit", ErrInvalid, v.ID, i, j, k)
				}
			}
		}
	}
	return nil
}

// IDs returns the ID followed by its aliases and upstream IDs, without
// duplicates, in document order.
func (v *Vulnerability) IDs() []string {
	seen := map[string]bool{}
	var out []string
	for _, list := range [][]string{{v.ID}, v.Aliases, v.Upstream} {
		for _, id := range list {
			if id != "" && !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// Time returns the advisory's age reference: Modified, or Published when
// Modified is the zero time (the Go database leaves it zero).
func (v *Vulnerability) Time() time.Time {
	if !v.Modified.IsZero() && v.Modified.Year() > 1 {
		return v.Modified
	}
	if v.Published.Year() > 1 {
		return v.Published
	}
	return time.Time{}
}

// DatabaseSeverity returns database_specific.severity of the affected entry
// or else of the document ("HIGH", "MODERATE", "low", …), or "".
func (v *Vulnerability) DatabaseSeverity(a *Affected) string {
	for _, raw := range []json.RawMessage{affectedDB(a), v.DatabaseSpecific} {
		if len(raw) == 0 {
			continue
		}
		var ds struct {
			Severity json.RawMessage `json:"severity"`
		}
		if json.Unmarshal(raw, &ds) != nil {
			continue
		}
		var s string
		if json.Unmarshal(ds.Severity, &s) == nil && s != "" {
			return s
		}
	}
	return ""
}

func affectedDB(a *Affected) json.RawMessage {
	if a == nil {
		return nil
	}
	return a.DatabaseSpecific
}
