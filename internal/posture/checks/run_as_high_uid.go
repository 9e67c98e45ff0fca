package checks

// Hygiene, not a benchmark control (kubesec, Trivy KSV020/KSV021, Checkov
// CKV_K8S_40): run containers as a UID and GID of 10000 or more. Without a
// user namespace a container's UID is the node's: a process that escapes
// as UID 1000 is the node's first human user, with that user's files and
// sudo rights, and a shared low GID reaches the group's files. IDs from
// 10000 up are allocated to no host account on standard distributions.
// An unset runAsUser leaves the UID to the image, and most images run as
// root or a low UID: reported. An unset runAsGroup is reported too: the
// GID then comes from the image's passwd entry for the UID, and is 0
// (root's group) when the UID has none, which is the common case for a
// runAsUser chosen in the manifest (Trivy KSV021 agrees).
// hostUsers: false gives the pod a user namespace that maps its IDs away
// from the node's, so nothing collides and the pod passes. The threshold
// is inclusive (Checkov passes 10000; Trivy's wording is "> 10000", which
// no case of its tests tells apart).

import (
	"strconv"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// minHighID is the lowest UID or GID the check accepts.
const minHighID = 10000

// RunAsHighUID reports containers whose UID or GID may collide with a
// node's accounts.
func RunAsHighUID() posture.Check {
	return posture.Check{
		ID:          "run-as-high-uid",
		Title:       "Container UID or GID below 10000",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "workload",
		Rationale:   "Without a user namespace a container's IDs are the node's: after an escape, a low UID or GID is a real host account or group with its files.",
		Remediation: "Set securityContext.runAsUser and runAsGroup to 10000 or more (build the image with such a USER), or set hostUsers: false to run the pod in a user namespace.",
		Scope:       posture.ScopeWorkload,
		Versions: []posture.Versioned{{MinVersion: 4, Eval: func(in *posture.Input) []posture.Result {
			spec := in.Workload.PodSpec
			if isWindows(spec) || (spec.HostUsers != nil && !*spec.HostUsers) {
				return nil
			}
			psc := podSC(spec)
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				csc := containerSC(c.Container)
				var out []posture.Result
				for _, f := range []struct {
					field     string
					pod, ctnr *int64
				}{
					{"runAsUser", psc.RunAsUser, csc.RunAsUser},
					{"runAsGroup", psc.RunAsGroup, csc.RunAsGroup},
				} {
					id, at := f.pod, spath(in, "securityContext", f.field)
					if f.ctnr != nil {
						id, at = f.ctnr, cpath(in, c, "securityContext", f.field)
					}
					r := posture.Result{Path: at}
					switch {
					case id == nil && f.field == "runAsGroup":
						r.Path = cpath(in, c)
						r.Message = "Container " + c.Container.Name + " sets no runAsGroup: the GID comes from the image, and is 0 (root's group) when its UID has no passwd entry there."
						r.Evidence = []finding.Evidence{key("field", f.field), ev(f.field, "unset")}
					case id == nil:
						r.Path = cpath(in, c)
						r.Message = "Container " + c.Container.Name + " sets no runAsUser: the image decides, usually root or a low UID."
						r.Evidence = []finding.Evidence{key("field", f.field), ev(f.field, "unset")}
					case *id < minHighID:
						v := strconv.FormatInt(*id, 10)
						r.Message = "Container " + c.Container.Name + " runs with " + f.field + " " + v + ", below " + strconv.Itoa(minHighID) + "."
						r.Evidence = []finding.Evidence{key("field", f.field), ev(f.field, v)}
					default:
						continue
					}
					out = append(out, r)
				}
				return out
			})
		}}},
	}
}
