package imageconfig

// CIS Docker Benchmark 5.8, "Ensure privileged ports are not mapped within
// containers" (section 5, applied here to what the image asks for):
// ports below 1024 need root or CAP_NET_BIND_SERVICE to bind, so an image
// that exposes one expects to run with that privilege. Port 22 also means
// an SSH daemon in the container (CIS 5.7).

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
)

// PrivilegedPorts flags EXPOSEd ports below 1024.
func PrivilegedPorts() *Check {
	return &Check{
		ID:          "image/privileged-port",
		Title:       "Image exposes a privileged port",
		Severity:    finding.SeverityLow,
		CIS:         "5.8",
		Rationale:   "Binding a port below 1024 needs root or CAP_NET_BIND_SERVICE; a service that listens on an unprivileged port runs without either.",
		Remediation: "Listen on a port of 1024 or more inside the container (e.g. 8080) and map it in the Service; for SSH, do not run a daemon in the container.",
		Config: func(_ context.Context, in *Input) ([]Problem, error) {
			var out []Problem
			for _, p := range in.Metadata.ExposedPorts {
				num, proto, _ := strings.Cut(p, "/")
				n, err := strconv.Atoi(num)
				if err != nil || n <= 0 || n >= 1024 {
					continue // ranges and malformed entries are not ports we can judge
				}
				pr := Problem{
					Message:  fmt.Sprintf("the image exposes port %s, below 1024", p),
					Evidence: []finding.Evidence{{Name: "port", Value: num, Key: true}, {Name: "protocol", Value: proto}},
				}
				if n == 22 {
					pr.Severity = finding.SeverityMedium
					pr.Message += " (SSH: a daemon in the container)"
				}
				out = append(out, pr)
			}
			return out, nil
		},
	}
}
