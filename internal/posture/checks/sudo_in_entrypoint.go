package checks

// A container whose command line runs sudo (or doas, its OpenBSD
// counterpart packaged by Alpine) tells two things: the image ships a
// setuid-root binary with a policy that lets the container's user become
// root, and the workload expects to do so. Whatever runs as that user —
// the application, or code an attacker gets into it — can take the same
// path, so runAsNonRoot buys nothing unless allowPrivilegeEscalation is
// false too (then no_new_privs makes the setuid bit inert and the command
// fails). Kubescape C-0062 "Sudo in container entrypoint" asks the same;
// MITRE ATT&CK T1548.003.
//
// A word, not a substring: only programs the command line runs count —
// argv[0], the program behind env/exec/nohup/… and the first word of each
// simple command in shell code (sh -c "…"), parsed by a real shell parser.
// `pseudo-app`, `echo sudo` or `--sudoers-file` are not sudo. su, runuser,
// gosu and su-exec are left out on purpose: without a password they work
// only for root, so in an entrypoint they lower privileges (`su app -c
// …`), which is the opposite problem and run-as-root's to report.

import (
	"path"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// SudoInEntrypoint reports containers whose command line runs sudo or doas.
func SudoInEntrypoint() posture.Check {
	return posture.Check{
		ID:          "sudo-in-entrypoint",
		Title:       "Container command runs sudo",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityMedium,
		Category:    "workload",
		Rationale:   "sudo in the command line means the image ships a setuid path to root that the container's user may take, and so may any code running as that user.",
		Remediation: "Run the command as the user it needs (securityContext.runAsUser), grant only the capabilities it needs, remove sudo from the image and set allowPrivilegeEscalation: false.",
		Scope:       posture.ScopeWorkload,
		Versions: []posture.Versioned{{MinVersion: 5, Eval: func(in *posture.Input) []posture.Result {
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				var out []posture.Result
				seen := map[string]bool{}
				for _, p := range containerPrograms(c.Container) {
					name := path.Base(p.Name)
					if (name != "sudo" && name != "doas") || seen[name] {
						continue
					}
					seen[name] = true
					where := p.Field + "[" + itoa(p.Index) + "]"
					msg := "Container " + c.Container.Name + " runs " + name + " from " + where + "."
					if p.Shell {
						msg = "Container " + c.Container.Name + " runs " + name + " in the shell code of " + where + "."
					}
					out = append(out, posture.Result{
						Path:     cpath(in, c, p.Field, itoa(p.Index)),
						Message:  msg,
						Evidence: []finding.Evidence{key("program", name), ev("field", where)},
					})
				}
				return out
			})
		}}},
	}
}
