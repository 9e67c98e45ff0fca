package checks

// NSA/CISA Kubernetes Hardening Guide, "use trusted, scanned images", and
// CIS Kubernetes Benchmark 5.5.1 (image provenance): a container runs an
// image that `palisade image scan` found open vulnerabilities in, at medium
// severity or above. The image's scan is found by digest (the image
// reference's, or the pod status's imageID in a live cluster) or else by
// its tag, which may have moved since the scan: the evidence says which
// (matchedBy). Without image scan data (Options.Images) the check reports
// nothing.

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// VulnerableImage reports containers whose image has open vulnerabilities
// at medium severity or above.
func VulnerableImage() posture.Check {
	return posture.Check{
		ID:          "vulnerable-image",
		Title:       "Container image has known vulnerabilities",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "workload",
		Rationale:   "Known vulnerabilities in a running image are the easiest way in and the first thing an attacker tries.",
		Remediation: "Rebuild the image with the fixed package versions (palisade image scan lists them) and redeploy; pin the rebuilt image by digest.",
		Scope:       posture.ScopeWorkload,
		Versions:    []posture.Versioned{{MinVersion: 6, Eval: vulnerableImage}},
	}
}

func vulnerableImage(in *posture.Input) []posture.Result {
	if in.Options.Images == nil {
		return nil
	}
	return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
		m, ok := imageScanOf(in.Options, in.Workload, c)
		if !ok {
			return nil
		}
		s := m.Scan
		n := s.Counts.AtLeast(finding.SeverityMedium)
		if n == 0 {
			return nil
		}
		fixable := s.Fixable.AtLeast(finding.SeverityMedium)
		worst := worstIDs(s.Vulns, finding.SeverityMedium, false, 5)
		msg := "Container " + c.Container.Name + " image " + c.Container.Image + " has " + plural(n, "open vulnerability", "open vulnerabilities") +
			" at medium or above (" + countsText(s.Counts) + "), " + strconv.Itoa(fixable) + " with a fix: " + strings.Join(worst, ", ") + "." + matchText(m)
		return []posture.Result{{
			Path:     cpath(in, c, "image"),
			Severity: s.Vulns[0].Severity,
			Message:  msg,
			Evidence: append(matchEvidence(m),
				ev("critical", strconv.Itoa(s.Counts.Critical)),
				ev("high", strconv.Itoa(s.Counts.High)),
				ev("medium", strconv.Itoa(s.Counts.Medium)),
				ev("fixable", strconv.Itoa(fixable)),
				ev("worst", strings.Join(worst, ", "))),
		}}
	})
}

// imageScanOf returns the scan of container c's image of w, if the scan's
// options hold one.
func imageScanOf(opts *posture.Options, w *kube.Workload, c kube.ContainerRef) (posture.ImageMatch, bool) {
	if opts == nil || opts.Images == nil || c.Container.Image == "" {
		return posture.ImageMatch{}, false
	}
	m, ok := opts.Images.Lookup(c.Container.Image, containerImageID(w, c))
	if !ok || m.Scan == nil {
		return posture.ImageMatch{}, false
	}
	return m, true
}

// containerImageID returns the imageID a live Pod's status gives for c:
// the digest the container really runs, whatever its tag says now.
func containerImageID(w *kube.Workload, c kube.ContainerRef) string {
	pod, ok := w.Object.Typed.(*corev1.Pod)
	if !ok {
		return ""
	}
	var sts []corev1.ContainerStatus
	switch c.List {
	case "containers":
		sts = pod.Status.ContainerStatuses
	case "initContainers":
		sts = pod.Status.InitContainerStatuses
	case "ephemeralContainers":
		sts = pod.Status.EphemeralContainerStatuses
	}
	for i := range sts {
		if sts[i].Name == c.Container.Name {
			return sts[i].ImageID
		}
	}
	return ""
}

// worstIDs lists up to n vulnerabilities of vs (worst first) at minimum or
// above, network-exploitable ones only when network is set, as "ID
// (severity, package)" without repeating an ID.
func worstIDs(vs []posture.ImageVuln, minimum finding.Severity, network bool, n int) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range vs {
		if len(out) == n {
			break
		}
		if v.Severity < minimum || (network && !v.Network) || seen[v.ID] {
			continue
		}
		seen[v.ID] = true
		s := v.ID + " (" + v.Severity.String() + ", " + v.Package
		if v.FixedVersion != "" {
			s += ", fixed in " + v.FixedVersion
		}
		out = append(out, s+")")
	}
	return out
}

// networkVulns counts the network-exploitable critical and high
// vulnerabilities of s.
func networkVulns(s *posture.ImageScan) int {
	n := 0
	for _, v := range s.Vulns {
		if v.Network && v.Severity >= finding.SeverityHigh {
			n++
		}
	}
	return n
}

func countsText(c finding.SeverityCounts) string {
	var parts []string
	for _, s := range []finding.Severity{finding.SeverityCritical, finding.SeverityHigh, finding.SeverityMedium} {
		if n := c.Get(s); n > 0 {
			parts = append(parts, strconv.Itoa(n)+" "+s.String())
		}
	}
	return strings.Join(parts, ", ")
}

// matchText says how the scan was matched when it is not by the digest the
// container runs, and whether the scan was partial.
func matchText(m posture.ImageMatch) string {
	var b strings.Builder
	if m.MatchedBy == posture.MatchTag {
		b.WriteString(" The scan (of " + m.Scan.Ref + ") was matched by tag")
		if m.Running != "" {
			b.WriteString(", and the tag has moved: the container runs " + m.Running + ", not the scanned " + m.Scan.Digest + ".")
		} else {
			b.WriteString(", which may have moved since.")
		}
	}
	if m.Scan.Partial {
		b.WriteString(" The scan was partial: more vulnerabilities may be missing.")
	}
	return b.String()
}

func matchEvidence(m posture.ImageMatch) []finding.Evidence {
	out := []finding.Evidence{ev("scannedImage", m.Scan.Ref), ev("digest", m.Digest), ev("matchedBy", m.MatchedBy)}
	if m.Running != "" {
		out = append(out, ev("runningDigest", m.Running))
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
