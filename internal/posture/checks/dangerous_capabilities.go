package checks

// CIS Kubernetes Benchmark 5.2.8: "Minimize the admission of containers with
// the NET_RAW capability" and 5.2.9: "Minimize the admission of containers
// with added capabilities. Do not generally permit containers with
// capabilities assigned beyond the default set."

import (
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// dangerousCaps are capabilities that give a path to the node or to other
// containers' traffic.
var dangerousCaps = map[string]bool{
	"ALL": true, "SYS_ADMIN": true, "NET_ADMIN": true, "NET_RAW": true, "SYS_PTRACE": true,
	"SYS_MODULE": true, "DAC_READ_SEARCH": true, "SYS_RAWIO": true, "SYS_BOOT": true, "BPF": true,
	"PERFMON": true, "SYS_TIME": true, "MAC_ADMIN": true, "MAC_OVERRIDE": true,
}

// normCap returns a capability name without the CAP_ prefix, upper case.
func normCap(c string) string {
	return strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(c)), "CAP_")
}

// DangerousCapabilities reports containers adding capabilities.
func DangerousCapabilities() posture.Check {
	return posture.Check{
		ID:          "dangerous-capabilities",
		Title:       "Container adds Linux capabilities",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "workload",
		Rationale:   "Added capabilities widen what a compromised process can do; SYS_ADMIN, NET_RAW, ALL and similar lead to the node or to other pods' traffic.",
		Remediation: "Remove securityContext.capabilities.add entries; at most add NET_BIND_SERVICE.",
		Scope:       posture.ScopeWorkload,
		Versions: v1(func(in *posture.Input) []posture.Result {
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				sc := containerSC(c.Container)
				if sc.Capabilities == nil {
					return nil
				}
				var out []posture.Result
				for i, raw := range sc.Capabilities.Add {
					cp := normCap(string(raw))
					if cp == "NET_BIND_SERVICE" {
						continue
					}
					sev := finding.SeverityMedium
					if dangerousCaps[cp] {
						sev = finding.SeverityHigh
					}
					if cp == "ALL" || cp == "SYS_ADMIN" {
						sev = finding.SeverityCritical
					}
					out = append(out, posture.Result{
						Path:     cpath(in, c, "securityContext", "capabilities", "add", itoa(i)),
						Severity: sev,
						Message:  "Container " + c.Container.Name + " adds capability " + cp + ".",
						Evidence: []finding.Evidence{key("capability", cp)},
					})
				}
				return out
			})
		}),
	}
}
