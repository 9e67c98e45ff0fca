package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/palisade-sec/palisade/internal/paths"
	"github.com/palisade-sec/palisade/internal/vulndb"
)

// dbStatus is what `palisade version` says about the advisory database.
type dbStatus struct {
	Path       string    `json:"path"`
	Present    bool      `json:"present"`
	ImportedAt time.Time `json:"importedAt,omitzero"`
	Age        string    `json:"age,omitempty"`
	Advisories int       `json:"advisories,omitempty"`
	Error      string    `json:"error,omitempty"`
}

func (s dbStatus) String() string {
	switch {
	case s.Error != "":
		return fmt.Sprintf("%s: unreadable (%s)", s.Path, s.Error)
	case !s.Present:
		return "none (import one with 'palisade db import' or 'palisade db update')"
	}
	return fmt.Sprintf("%s, %d advisories, imported %s ago (%s)", s.Path, s.Advisories, s.Age, s.ImportedAt.UTC().Format(time.RFC3339))
}

// advisoryDBStatus reads the database's own import time and counts.
func advisoryDBStatus(ctx context.Context, now time.Time) dbStatus {
	s := dbStatus{Path: paths.VulnDB()}
	db, err := vulndb.Open(ctx, s.Path, nil)
	if err != nil {
		return s // absent (or unreadable: db status says why)
	}
	defer db.Close()
	st, err := db.Status(ctx)
	if err != nil {
		s.Error = err.Error()
		return s
	}
	s.Present, s.ImportedAt = true, st.ImportedAt
	s.Age = humanAge(st.Age(now))
	for _, e := range st.Ecosystems {
		s.Advisories += e.Advisories
	}
	return s
}

func humanAge(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Hour:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}
