package finding

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// JUnit XML as Jenkins, GitLab, GitHub test reporters and Azure DevOps read
// it: one testsuite per rule, one failing testcase per open finding, a
// skipped testcase per excepted finding (naming who accepted the risk), and
// one passing testcase per rule for the resources it evaluated without a
// finding, when the report has coverage. A partial scan adds a testsuite
// with an errored testcase per reason, so CI never shows green for a scan
// that did not finish.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string           `xml:"name,attr"`
	Tests      int              `xml:"tests,attr"`
	Failures   int              `xml:"failures,attr"`
	Errors     int              `xml:"errors,attr"`
	Skipped    int              `xml:"skipped,attr"`
	Timestamp  string           `xml:"timestamp,attr,omitempty"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Cases      []junitCase      `xml:"testcase"`
}

type junitProperties struct {
	Property []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	ClassName string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      string        `xml:"line,attr,omitempty"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func writeJUnit(w io.Writer, p *Report) error {
	out := junitSuites{Name: "palisade " + cleanText(p.Target)}
	ts := p.GeneratedAt.Format("2006-01-02T15:04:05Z")
	byRule := map[string]*junitSuite{}
	var order []string
	suite := func(rule string) *junitSuite {
		if s := byRule[rule]; s != nil {
			return s
		}
		s := &junitSuite{Name: cleanText(rule), Timestamp: ts}
		byRule[rule] = s
		order = append(order, rule)
		return s
	}
	if p.Coverage != nil {
		for _, rc := range p.Coverage.Rules {
			s := suite(rc.RuleID)
			props := &junitProperties{Property: []junitProperty{{"title", cleanText(rc.Title)}, {"severity", rc.Severity.String()}}}
			for _, c := range rc.Controls {
				props.Property = append(props.Property, junitProperty{"control", cleanText(c.Framework + " " + c.ID)})
			}
			s.Properties = props
		}
	}
	failed := map[string]map[resKey]bool{}
	for i := range p.Findings {
		f := &p.Findings[i]
		s := suite(f.RuleID)
		c := junitCase{ClassName: cleanText(f.RuleID), Name: junitCaseName(f), File: cleanText(f.Resource.File)}
		if f.Resource.Line > 0 {
			c.Line = strconv.Itoa(f.Resource.Line)
		}
		if f.Open() {
			c.Failure = &junitProblem{Message: cleanText(truncate(messageOf(f), 300)), Type: f.Severity.String(), Text: junitDetail(f)}
			if failed[f.RuleID] == nil {
				failed[f.RuleID] = map[resKey]bool{}
			}
			failed[f.RuleID][resKey{f.Resource.Kind, f.Resource.Namespace + "/" + f.Resource.Name}] = true
		} else {
			x := f.Exception
			c.Skipped = &junitSkipped{Message: cleanText(fmt.Sprintf("excepted by %s (owner %s, expires %s): %s", x.ID, x.Owner, expiryDate(x), x.Reason))}
		}
		s.Cases = append(s.Cases, c)
	}
	if p.Coverage != nil {
		for _, rc := range p.Coverage.Rules {
			passed := rc.Evaluated() - len(failed[rc.RuleID])
			if passed > 0 {
				s := suite(rc.RuleID)
				s.Cases = append(s.Cases, junitCase{ClassName: cleanText(rc.RuleID), Name: fmt.Sprintf("%d evaluated resource(s) without a finding", passed)})
			}
		}
	}
	if p.Exposed != nil {
		s := suite(junitExposedSuite)
		s.Cases = append(s.Cases, junitExposed(p.Exposed)...)
	}
	if p.IsPartial() {
		s := suite("palisade/scan-complete")
		reasons := p.Errors
		if len(reasons) == 0 {
			reasons = []string{"the scan is partial"}
		}
		for _, e := range reasons {
			s.Cases = append(s.Cases, junitCase{ClassName: "palisade/scan-complete", Name: "scan covered everything it was asked to",
				Error: &junitProblem{Message: cleanText(truncate(e, 300)), Type: "partial", Text: cleanText(e)}})
		}
	}
	slices.Sort(order)
	for _, rule := range order {
		s := byRule[rule]
		for _, c := range s.Cases {
			s.Tests++
			switch {
			case c.Failure != nil:
				s.Failures++
			case c.Error != nil:
				s.Errors++
			case c.Skipped != nil:
				s.Skipped++
			}
		}
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
		out.Suites = append(out.Suites, *s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitExposedSuite lists the exposed workloads (posture scans): passing
// testcases, because exposure is context for the findings, which fail on
// their own; CI shows the list next to them. A report that says no
// workload is exposed gets one case saying so.
const junitExposedSuite = "palisade/exposed-workloads"

func junitExposed(ws []ExposedWorkload) []junitCase {
	if len(ws) == 0 {
		return []junitCase{{ClassName: junitExposedSuite, Name: "no workload is reachable from outside the cluster"}}
	}
	cases := make([]junitCase, 0, len(ws))
	for _, w := range ws {
		c := junitCase{ClassName: junitExposedSuite, Name: cleanText(w.Resource.objectKey()), File: cleanText(w.Resource.File)}
		if w.Resource.Line > 0 {
			c.Line = strconv.Itoa(w.Resource.Line)
		}
		lines := make([]string, 0, len(w.Paths)+1)
		worst := "none"
		if w.OpenFindings > 0 {
			worst = w.WorstSeverity.String()
		}
		lines = append(lines, fmt.Sprintf("open findings: %d (worst: %s)", w.OpenFindings, worst))
		for _, p := range w.Paths {
			lines = append(lines, cleanText("exposed via "+p.String()+" (TLS: "+p.tlsText()+")"))
		}
		c.SystemOut = strings.Join(lines, "\n") + "\n"
		cases = append(cases, c)
	}
	return cases
}

func junitCaseName(f *Finding) string {
	name := f.Resource.objectKey()
	if name == "" {
		name = f.Resource.location()
	}
	if name == "" {
		name = f.ID
	}
	return cleanText(name)
}

func junitDetail(f *Finding) string {
	lines := []string{messageOf(f)}
	if loc := f.Resource.location(); loc != "" {
		lines = append(lines, "location: "+loc)
	}
	for _, e := range f.Evidence {
		lines = append(lines, e.Name+": "+e.Value)
	}
	if f.Remediation != "" {
		lines = append(lines, "remediation: "+f.Remediation)
	}
	for _, c := range f.Controls {
		lines = append(lines, "control: "+c.Framework+" "+c.ID)
	}
	for i := range lines {
		lines[i] = cleanText(lines[i])
	}
	return strings.Join(lines, "\n") + "\n"
}

func expiryDate(x *ExceptionRef) string {
	if x.Expires.IsZero() {
		return "never"
	}
	return x.Expires.UTC().Format("2006-01-02")
}
