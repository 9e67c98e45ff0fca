package imageconfig

// CIS Docker Benchmark 4.1, "Ensure that a user for the container has been
// created": containers should run as a non-root user; an image without a
// USER instruction, or with USER root or UID 0, runs its process as root
// unless every deployment overrides it.

import (
	"context"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
)

// RootUser flags images whose configured user is root.
func RootUser() *Check {
	return &Check{
		ID:          "image/root-user",
		Title:       "Image runs as root",
		Severity:    finding.SeverityHigh,
		CIS:         "4.1",
		Rationale:   "A process running as root in a container is root on the host if it escapes, and can change anything in the container's filesystem.",
		Remediation: "Create an unprivileged user in the Dockerfile and switch to it with USER (a numeric UID, e.g. USER 10001, lets runAsNonRoot verify it).",
		Config: func(_ context.Context, in *Input) ([]Problem, error) {
			u := in.Metadata.User
			if !isRoot(u) {
				return nil, nil
			}
			msg := "the image sets no USER, so its process runs as root"
			if strings.TrimSpace(u) != "" {
				msg = "the image's USER " + u + " is root"
			}
			return []Problem{{Message: msg, Evidence: []finding.Evidence{{Name: "user", Value: u}}}}, nil
		},
	}
}

// isRoot reports whether a USER value ("name", "uid", "name:group",
// "uid:gid") selects root: empty, "root" or UID 0.
func isRoot(u string) bool {
	user, _, _ := strings.Cut(strings.TrimSpace(u), ":")
	if user == "" || user == "root" {
		return true
	}
	return strings.Trim(user, "0") == "" // "0", "00"
}
