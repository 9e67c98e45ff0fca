package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/palisade-sec/palisade/internal/paths"
)

// dbStatus is what `palisade version` says about the advisory database.
type dbStatus struct {
	Path       string    `json:"path"`
	Present    bool      `json:"present"`
	ImportedAt time.Time `json:"importedAt,omitzero"`
	Age        string    `json:"age,omitempty"`
}

func (s dbStatus) String() string {
	if !s.Present {
		return "none (import one with 'palisade db import')"
	}
	return fmt.Sprintf("%s, imported %s ago (%s)", s.Path, s.Age, s.ImportedAt.UTC().Format(time.RFC3339))
}

// advisoryDBStatus reports the database's presence and age. Imports replace
// the file atomically, so its modification time is the import time.
func advisoryDBStatus(now time.Time) dbStatus {
	s := dbStatus{Path: paths.VulnDB()}
	fi, err := os.Stat(s.Path)
	if err != nil || !fi.Mode().IsRegular() {
		return s
	}
	s.Present, s.ImportedAt = true, fi.ModTime()
	s.Age = humanAge(now.Sub(fi.ModTime()))
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
