package imageconfig

// CIS Docker Benchmark 4.6, "Ensure that HEALTHCHECK instructions have
// been added to container images": without one, the engine cannot tell a
// hung process from a working one.

import (
	"context"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
)

// NoHealthcheck flags images without a HEALTHCHECK, or with HEALTHCHECK
// NONE.
func NoHealthcheck() *Check {
	return &Check{
		ID:          "image/no-healthcheck",
		Title:       "Image has no HEALTHCHECK",
		Severity:    finding.SeverityLow,
		CIS:         "4.6",
		Rationale:   "A health check lets the container engine notice a process that is running but no longer serving, and restart it.",
		Remediation: "Add a HEALTHCHECK instruction to the Dockerfile (Kubernetes uses liveness and readiness probes instead; set them in the pod spec).",
		Config: func(_ context.Context, in *Input) ([]Problem, error) {
			h := in.Metadata.Healthcheck
			switch {
			case h == nil || len(h.Test) == 0:
				return []Problem{{Message: "the image defines no HEALTHCHECK"}}, nil
			case strings.EqualFold(h.Test[0], "NONE"):
				return []Problem{{Message: "the image disables the health check inherited from its base (HEALTHCHECK NONE)"}}, nil
			}
			return nil, nil
		},
	}
}
