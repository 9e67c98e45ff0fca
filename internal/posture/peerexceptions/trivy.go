package peerexceptions

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/posture/compliance"
)

// avdID is Trivy's long form of a check ID: AVD-KSV-0001 is KSV001,
// AVD-KSV-0109 is KSV0109.
var avdID = regexp.MustCompile(`^AVD-([A-Z]+)-([0-9]+)$`)

// vulnID matches the advisory IDs Trivy ignores by: CVE, GitHub and Go
// advisories and the distributions' own.
var vulnID = regexp.MustCompile(`^(CVE-[0-9]{4}-[0-9]{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3}|GO-[0-9]{4}-[0-9]{4,}|(DSA|DLA|RHSA|USN|ALAS[0-9A-Z]*|ALSA|RLSA|ELSA)-[0-9A-Za-z:.-]+)$`)

// trivyIDs are the short IDs id may be, as Trivy's checks are mapped:
// itself, upper and lower case (kcv0093), and for a long form its digits
// as written and as three.
func trivyIDs(id string) []string {
	out := []string{id, strings.ToUpper(id), strings.ToLower(id)}
	if m := avdID.FindStringSubmatch(strings.ToUpper(id)); m != nil {
		out = append(out, m[1]+m[2], strings.ToLower(m[1]+m[2]))
		if n, err := strconv.Atoi(m[2]); err == nil {
			out = append(out, fmt.Sprintf("%s%03d", m[1], n))
		}
	}
	return out
}

// TrivyIgnore translates a .trivyignore file: one ID per line (KSV001 or
// AVD-KSV-0001), an optional "exp:YYYY-MM-DD" after it, "#" comments. An
// ID there ignores the check everywhere, so each entry matches its rules
// alone. An advisory (CVE-…, GHSA-…) is kept as it is, for palisade image
// scan; Trivy's secret rules (aws-access-key-id) and cloud checks have no
// counterpart and are listed as skipped.
func TrivyIgnore(data []byte, peers *compliance.Peers) (*Translation, error) {
	t := &Translation{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		src := fmt.Sprintf(".trivyignore line %d (%s)", n, fields[0])
		id := fields[0]
		e := Entry{Source: src, Reason: "Ignored in .trivyignore (translated by palisade posture exceptions import)"}
		for _, f := range fields[1:] {
			v, ok := strings.CutPrefix(f, "exp:")
			if !ok {
				continue
			}
			if _, err := config.ParseDate(v); err != nil {
				return nil, fmt.Errorf(".trivyignore line %d: exp:%s: %w", n, v, err)
			}
			e.Expires = v
		}
		var rules, notes []string
		ok := false
		for _, cand := range trivyIDs(id) {
			if rules, notes, ok = checksOf(peers, "trivy-checks", cand); ok {
				id = cand
				break
			}
		}
		if !ok && vulnID.MatchString(id) {
			// An advisory: Palisade's exceptions name it the same way, and
			// palisade image scan applies them.
			rules, notes, ok = []string{id}, []string{id + " is an advisory: the exception applies to palisade image scan's findings of it"}, true
			id = ""
		}
		if !ok {
			t.Skipped = append(t.Skipped, Skip{src, "not a Trivy Kubernetes check or advisory Palisade has a counterpart of (secret rules and cloud checks are Trivy's own; COVERAGE.md lists the Kubernetes checks without one)"})
			continue
		}
		e.Rules = rules
		if id != "" {
			notes = append([]string{id + " → " + strings.Join(rules, ", ")}, notes...)
		}
		e.Notes = notes
		t.add(e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read .trivyignore: %w", err)
	}
	return t, nil
}
