package cvss

import (
	"fmt"
	"math"
	"strings"
)

// V4 is a parsed CVSS v4.0 vector: every metric the vector gives, by its
// abbreviation. Metrics left out are "X" (not defined).
type V4 struct {
	metrics map[string]string
}

// v4Values lists the valid values of each v4.0 metric (specification v4.0,
// section 7, "Vector String"); the first twelve are the mandatory base
// metrics.
var v4Values = map[string][]string{
	"AV": {"N", "A", "L", "P"}, "AC": {"L", "H"}, "AT": {"N", "P"}, "PR": {"N", "L", "H"}, "UI": {"N", "P", "A"},
	"VC": {"H", "L", "N"}, "VI": {"H", "L", "N"}, "VA": {"H", "L", "N"},
	"SC": {"H", "L", "N"}, "SI": {"H", "L", "N"}, "SA": {"H", "L", "N"},
	"E":  {"X", "A", "P", "U"},
	"CR": {"X", "H", "M", "L"}, "IR": {"X", "H", "M", "L"}, "AR": {"X", "H", "M", "L"},
	"MAV": {"X", "N", "A", "L", "P"}, "MAC": {"X", "L", "H"}, "MAT": {"X", "N", "P"}, "MPR": {"X", "N", "L", "H"},
	"MUI": {"X", "N", "P", "A"}, "MVC": {"X", "H", "L", "N"}, "MVI": {"X", "H", "L", "N"}, "MVA": {"X", "H", "L", "N"},
	"MSC": {"X", "H", "L", "N"}, "MSI": {"X", "S", "H", "L", "N"}, "MSA": {"X", "S", "H", "L", "N"},
	"S": {"X", "N", "P"}, "AU": {"X", "N", "Y"}, "R": {"X", "A", "U", "I"}, "V": {"X", "D", "C"},
	"RE": {"X", "L", "M", "H"}, "U": {"X", "Clear", "Green", "Amber", "Red"},
}

var v4Base = []string{"AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"}

// ParseV4 parses a "CVSS:4.0/…" vector string.
func ParseV4(vector string) (*V4, error) {
	ms, err := splitMetrics(vector, "CVSS:4.0/")
	if err != nil {
		return nil, err
	}
	v := &V4{metrics: make(map[string]string, len(ms))}
	for _, kv := range ms {
		allowed, ok := v4Values[kv[0]]
		if !ok {
			return nil, fmt.Errorf("%w %q: unknown metric %s", ErrVector, vector, kv[0])
		}
		valid := false
		for _, a := range allowed {
			valid = valid || a == kv[1]
		}
		if !valid {
			return nil, fmt.Errorf("%w %q: %s:%s is not one of %s", ErrVector, vector, kv[0], kv[1], strings.Join(allowed, ","))
		}
		v.metrics[kv[0]] = kv[1]
	}
	for _, k := range v4Base {
		if _, ok := v.metrics[k]; !ok {
			return nil, fmt.Errorf("%w %q: base metric %s missing", ErrVector, vector, k)
		}
	}
	return v, nil
}

// effective returns the value a metric takes in the score: a modified
// (environmental) metric overrides its base metric, and the threat and
// security-requirement metrics default to their worst case when not defined
// (specification v4.0, section 8.1).
func (v *V4) effective(m string) string {
	val := v.metrics[m]
	if val == "" {
		val = "X"
	}
	if val == "X" {
		switch m {
		case "E":
			return "A"
		case "CR", "IR", "AR":
			return "H"
		}
	}
	if mod := v.metrics["M"+m]; mod != "" && mod != "X" {
		return mod
	}
	return val
}

// macroVector returns the six equivalence-class levels eq1..eq6
// (specification v4.0, section 8.2, Table 24).
func (v *V4) macroVector() [6]int {
	e := v.effective
	var eq [6]int
	av, pr, ui := e("AV"), e("PR"), e("UI")
	switch {
	case av == "N" && pr == "N" && ui == "N":
		eq[0] = 0
	case (av == "N" || pr == "N" || ui == "N") && av != "P":
		eq[0] = 1
	default:
		eq[0] = 2
	}
	if !(e("AC") == "L" && e("AT") == "N") {
		eq[1] = 1
	}
	vc, vi, va := e("VC"), e("VI"), e("VA")
	switch {
	case vc == "H" && vi == "H":
		eq[2] = 0
	case vc == "H" || vi == "H" || va == "H":
		eq[2] = 1
	default:
		eq[2] = 2
	}
	msi, msa := v.metrics["MSI"], v.metrics["MSA"]
	switch {
	case msi == "S" || msa == "S":
		eq[3] = 0
	case e("SC") == "H" || e("SI") == "H" || e("SA") == "H":
		eq[3] = 1
	default:
		eq[3] = 2
	}
	switch e("E") {
	case "P":
		eq[4] = 1
	case "U":
		eq[4] = 2
	}
	if !((e("CR") == "H" && vc == "H") || (e("IR") == "H" && vi == "H") || (e("AR") == "H" && va == "H")) {
		eq[5] = 1
	}
	return eq
}

func macroKey(eq [6]int) string {
	var b [6]byte
	for i, x := range eq {
		b[i] = byte('0' + x)
	}
	return string(b[:])
}

// Score computes the CVSS v4.0 score (CVSS-B for a base-only vector, BT/BE/BTE
// when threat or environmental metrics are given) with the MacroVector
// interpolation of the specification, section 8.2 "CVSS v4.0 Scoring":
// the score of the vector's MacroVector, minus the mean over the EQs of the
// proportional severity distance to the next lower MacroVector.
func (v *V4) Score() float64 {
	noImpact := true
	for _, m := range []string{"VC", "VI", "VA", "SC", "SI", "SA"} {
		noImpact = noImpact && v.effective(m) == "N"
	}
	if noImpact {
		return 0
	}
	eq := v.macroVector()
	value, ok := macroScores[macroKey(eq)]
	if !ok {
		return 0 // unreachable: every reachable MacroVector is in the table
	}
	lower := func(i int) (float64, bool) {
		n := eq
		n[i]++
		s, ok := macroScores[macroKey(n)]
		return s, ok
	}
	// EQ3 and EQ6 are scored jointly; from 00 there are two next lower
	// MacroVectors (01 and 10) and the higher scoring one counts.
	var eq36Lower float64
	var eq36OK bool
	switch {
	case eq[2] == 0 && eq[5] == 0:
		// Like the reference calculator, count this EQ only when both exist.
		l, lok := lower(5)
		r, rok := lower(2)
		eq36Lower, eq36OK = math.Max(l, r), lok && rok
	case eq[2] == 1 && eq[5] == 0:
		eq36Lower, eq36OK = lower(5)
	case eq[2] == 2 && eq[5] == 1:
		eq36OK = false // 21 is the lowest
	default: // 01 → 11, 11 → 21
		eq36Lower, eq36OK = lower(2)
	}

	dist, ok := v.severityDistances(eq)
	if !ok {
		return 0 // unreachable: some highest vector always dominates
	}
	type part struct {
		lowerScore float64
		ok         bool
		distance   int // in tenths, as the specification's 0.1 steps
		depth      int // the MacroVector's depth (max severity distance + 1)
	}
	l1, ok1 := lower(0)
	l2, ok2 := lower(1)
	l4, ok4 := lower(3)
	l5, ok5 := lower(4)
	parts := []part{
		{l1, ok1, dist["AV"] + dist["PR"] + dist["UI"], maxSeverity.eq1[eq[0]]},
		{l2, ok2, dist["AC"] + dist["AT"], maxSeverity.eq2[eq[1]]},
		{eq36Lower, eq36OK, dist["VC"] + dist["VI"] + dist["VA"] + dist["CR"] + dist["IR"] + dist["AR"], maxSeverity.eq3eq6[eq[2]][eq[5]]},
		{l4, ok4, dist["SC"] + dist["SI"] + dist["SA"], maxSeverity.eq4[eq[3]]},
		{l5, ok5, 0, 1}, // EQ5's proportional distance is always 0
	}
	n, sum := 0, 0.0
	for _, p := range parts {
		if !p.ok {
			continue
		}
		n++
		sum += (value - p.lowerScore) * float64(p.distance) / float64(p.depth)
	}
	mean := 0.0
	if n > 0 {
		mean = sum / float64(n)
	}
	return roundV4(math.Max(0, math.Min(10, value-mean)))
}

// roundV4 rounds half up to one decimal, with the reference calculator's
// 1e-6 allowance for floating-point error (8.6-7.15 must give 1.5).
func roundV4(x float64) float64 { return math.Round((x+1e-6)*10) / 10 }

// severityDistances finds, among the highest-severity vectors of the
// MacroVector, the first one that every metric of v is at or below, and
// returns v's distance from it per metric, in 0.1 steps.
func (v *V4) severityDistances(eq [6]int) (map[string]int, bool) {
	for _, e1 := range maxComposed.eq1[eq[0]] {
		for _, e2 := range maxComposed.eq2[eq[1]] {
			for _, e36 := range maxComposed.eq3eq6[eq[2]][eq[5]] {
				for _, e4 := range maxComposed.eq4[eq[3]] {
					max := parseMaxVector(e1 + e2 + e36 + e4 + maxComposed.eq5[eq[4]])
					d := make(map[string]int, len(metricLevels))
					all := true
					for m, levels := range metricLevels {
						d[m] = levels[v.effective(m)] - levels[max[m]]
						if d[m] < 0 {
							all = false
							break
						}
					}
					if all {
						return d, true
					}
				}
			}
		}
	}
	return nil, false
}

func parseMaxVector(s string) map[string]string {
	out := map[string]string{}
	for _, p := range strings.Split(strings.TrimSuffix(s, "/"), "/") {
		if k, val, ok := strings.Cut(p, ":"); ok {
			out[k] = val
		}
	}
	return out
}
