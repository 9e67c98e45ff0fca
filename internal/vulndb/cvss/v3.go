package cvss

import (
	"fmt"
	"math"
	"strings"
)

// V3 is a parsed CVSS v3.0 or v3.1 vector. Only the base metrics take part
// in the score; temporal and environmental metrics are validated and kept
// in Other.
type V3 struct {
	Minor int // 0 or 1
	// Base metrics, as their one-letter values.
	AV, AC, PR, UI, S, C, I, A byte
	Other                      map[string]string
}

// v3Values lists the valid values of each v3 metric (specification v3.1,
// section 6, "Vector String"). Base metrics come first and are mandatory.
var v3Values = map[string]string{
	"AV": "NALP", "AC": "LH", "PR": "NLH", "UI": "NR", "S": "UC", "C": "HLN", "I": "HLN", "A": "HLN",
	"E": "XUPFH", "RL": "XOTWU", "RC": "XURC",
	"CR": "XLMH", "IR": "XLMH", "AR": "XLMH",
	"MAV": "XNALP", "MAC": "XLH", "MPR": "XNLH", "MUI": "XNR", "MS": "XUC",
	"MC": "XHLN", "MI": "XHLN", "MA": "XHLN",
}

var v3Base = []string{"AV", "AC", "PR", "UI", "S", "C", "I", "A"}

// ParseV3 parses a "CVSS:3.0/…" or "CVSS:3.1/…" vector string.
func ParseV3(vector string) (*V3, error) {
	prefix := "CVSS:3.1/"
	v := &V3{Minor: 1}
	if strings.HasPrefix(vector, "CVSS:3.0/") {
		prefix, v.Minor = "CVSS:3.0/", 0
	}
	ms, err := splitMetrics(vector, prefix)
	if err != nil {
		return nil, err
	}
	base := map[string]byte{}
	for _, kv := range ms {
		allowed, ok := v3Values[kv[0]]
		if !ok {
			return nil, fmt.Errorf("%w %q: unknown metric %s", ErrVector, vector, kv[0])
		}
		if len(kv[1]) != 1 || !strings.Contains(allowed, kv[1]) {
			return nil, fmt.Errorf("%w %q: %s:%s is not one of %s", ErrVector, vector, kv[0], kv[1], allowed)
		}
		if isV3Base(kv[0]) {
			base[kv[0]] = kv[1][0]
			continue
		}
		if v.Other == nil {
			v.Other = map[string]string{}
		}
		v.Other[kv[0]] = kv[1]
	}
	for _, k := range v3Base {
		if _, ok := base[k]; !ok {
			return nil, fmt.Errorf("%w %q: base metric %s missing", ErrVector, vector, k)
		}
	}
	v.AV, v.AC, v.PR, v.UI, v.S = base["AV"], base["AC"], base["PR"], base["UI"], base["S"]
	v.C, v.I, v.A = base["C"], base["I"], base["A"]
	return v, nil
}

func isV3Base(k string) bool {
	for _, b := range v3Base {
		if b == k {
			return true
		}
	}
	return false
}

// BaseScore computes the base score with the equations of the v3.1
// specification, section 7.1 (identical in v3.0 except for Roundup, see
// roundUp).
func (v *V3) BaseScore() float64 {
	changed := v.S == 'C'
	iss := 1 - (1-cia(v.C))*(1-cia(v.I))*(1-cia(v.A))
	var impact float64
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	} else {
		impact = 6.42 * iss
	}
	exploitability := 8.22 * av(v.AV) * ac(v.AC) * pr(v.PR, changed) * ui(v.UI)
	if impact <= 0 {
		return 0
	}
	if changed {
		return v.roundUp(math.Min(1.08*(impact+exploitability), 10))
	}
	return v.roundUp(math.Min(impact+exploitability, 10))
}

// roundUp is the specification's Roundup: the smallest number with one
// decimal that is >= x. v3.1 (Appendix A) defines it on integers to avoid
// floating-point artefacts such as 4.000000000000001 becoming 4.1; v3.0 used
// a plain ceiling.
func (v *V3) roundUp(x float64) float64 {
	if v.Minor == 0 {
		return math.Ceil(x*10) / 10
	}
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return float64(i/10000+1) / 10
}

// Metric weights, v3.1 specification section 7.4.
func av(b byte) float64 {
	switch b {
	case 'N':
		return 0.85
	case 'A':
		return 0.62
	case 'L':
		return 0.55
	}
	return 0.2 // P
}

func ac(b byte) float64 {
	if b == 'L' {
		return 0.77
	}
	return 0.44
}

func pr(b byte, changed bool) float64 {
	switch {
	case b == 'N':
		return 0.85
	case b == 'L' && changed:
		return 0.68
	case b == 'L':
		return 0.62
	case changed:
		return 0.5
	}
	return 0.27
}

func ui(b byte) float64 {
	if b == 'N' {
		return 0.85
	}
	return 0.62
}

func cia(b byte) float64 {
	switch b {
	case 'H':
		return 0.56
	case 'L':
		return 0.22
	}
	return 0
}
