package nodecheck

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/palisade-sec/palisade/internal/finding"
)

// Framework is the compliance framework every check maps to.
const Framework = "CIS-K8s-1.9"

// Check is one benchmark recommendation.
type Check struct {
	ID       string // "node/apiserver-anonymous-auth": stable, never reused
	CIS      string // CIS Kubernetes Benchmark v1.9 control, "1.2.1"
	Title    string
	Severity finding.Severity
	// Component is what the check needs on the node: a component name, or
	// ControlPlane for the control-plane node's files.
	Component   string
	Remediation string
	// Manual is set for recommendations CIS marks Manual: what a reviewer
	// must still judge before acting on a failure. Failing results say so.
	Manual string
	Eval   func(ctx context.Context, n *Node, c *Component) []Result
}

// evaluate runs Eval and, for a Manual recommendation, appends to each
// failure what CIS leaves to the reviewer: the node scan and the posture
// check (EvalFlags) both evaluate through here, so both say it.
func (ch Check) evaluate(ctx context.Context, n *Node, c *Component) []Result {
	rs := ch.Eval(ctx, n, c)
	if ch.Manual == "" {
		return rs
	}
	for i := range rs {
		if !rs[i].Pass && rs[i].Err == nil && !rs[i].NotApplicable && rs[i].Missing == "" {
			rs[i].Message += fmt.Sprintf(". CIS marks %s Manual: %s", ch.CIS, ch.Manual)
		}
	}
	return rs
}

// Result is one evaluation of a check: over a setting, or over one file.
type Result struct {
	// NotApplicable results (a file that does not exist) are neither a pass
	// nor a finding.
	NotApplicable bool
	Pass          bool
	Message       string
	Setting       string // the flag or field judged, key evidence
	Value         string
	From          string // where the value came from
	File          string // the node path judged by file checks
	Err           error  // the input could not be read: the report is partial
	// Missing names the fact a node collector did not gather: the check is
	// not evaluated (neither a pass nor a finding) and the report says so.
	Missing string
}

// setting is one flag and the kubelet config field that sets the same thing.
type setting struct {
	flag, field string
	// def is the binary's default; cfgDef the default when the kubelet runs
	// with a configuration file, which differs for the kubelet's
	// security-relevant settings ("" when the same as def).
	def, cfgDef string
}

// resolve returns the setting's value and where it came from; missing,
// when not "", names the fact a collector did not gather to decide it.
func (s setting) resolve(c *Component) (value, from string, set bool, missing string) {
	if v, from, ok := c.Setting(s.flag, s.field); ok {
		return v, from, true, ""
	}
	if cs, ok := c.collected[s.flag]; ok && cs.set {
		return cs.value, cs.from, true, ""
	} else if !ok {
		if m := c.unknown(s.field); m != "" {
			return "", "", false, m
		}
	}
	if c.ConfigFile != "" && s.cfgDef != "" {
		return s.cfgDef, "default (with config file)", false, ""
	}
	return s.def, "default", false, ""
}

// unknown names what was not collected that could give a setting with
// configuration field field ("" for a flag only), or "" when nothing is.
func (c *Component) unknown(field string) string {
	if c.flagsUnknown != "" {
		return c.flagsUnknown
	}
	if field != "" && c.configUnknown != "" {
		return c.configUnknown
	}
	return ""
}

func (s setting) name() string {
	if s.field != "" {
		return "--" + s.flag + " / " + s.field
	}
	return "--" + s.flag
}

// judge builds an Eval from a predicate over the resolved value: ok says
// whether it passes and why not.
func judge(s setting, ok func(value string, set bool) (bool, string)) func(context.Context, *Node, *Component) []Result {
	return func(_ context.Context, _ *Node, c *Component) []Result {
		v, from, set, missing := s.resolve(c)
		if missing != "" {
			return []Result{{Setting: s.name(), Missing: missing}}
		}
		pass, why := ok(v, set)
		r := Result{Pass: pass, Setting: s.name(), Value: v, From: from}
		if !pass {
			r.Message = fmt.Sprintf("%s: %s", c.Name, why)
			if set || v != "" {
				r.Message += " (" + describe(v, from, set) + ")"
			}
		}
		return []Result{r}
	}
}

func describe(v, from string, set bool) string {
	if !set && v == "" {
		return "not set"
	}
	return fmt.Sprintf("%s = %q", from, v)
}

// wantBool passes when the setting is the boolean want.
func wantBool(s setting, want bool) func(context.Context, *Node, *Component) []Result {
	return judge(s, func(v string, _ bool) (bool, string) {
		b, err := ParseBool(v)
		if err != nil {
			return false, fmt.Sprintf("%s is not a boolean", s.name())
		}
		return b == want, fmt.Sprintf("%s is not %t", s.name(), want)
	})
}

// notTrue passes unless the setting is true.
func notTrue(s setting) func(context.Context, *Node, *Component) []Result {
	return judge(s, func(v string, _ bool) (bool, string) {
		b, err := ParseBool(v)
		return err == nil && !b, fmt.Sprintf("%s is true", s.name())
	})
}

// isSet passes when every flag is given.
func isSet(ss ...setting) func(context.Context, *Node, *Component) []Result {
	return func(ctx context.Context, n *Node, c *Component) []Result {
		var out []Result
		for _, s := range ss {
			out = append(out, judge(s, func(v string, set bool) (bool, string) {
				return set && strings.TrimSpace(v) != "", s.name() + " is not set"
			})(ctx, n, c)...)
		}
		return out
	}
}

// notSet passes when the flag is absent.
func notSet(s setting) func(context.Context, *Node, *Component) []Result {
	return judge(s, func(_ string, set bool) (bool, string) { return !set, s.name() + " is set" })
}

// listHas passes when the list setting contains item (want) or not (!want).
func listHas(s setting, item string, want bool) func(context.Context, *Node, *Component) []Result {
	return func(_ context.Context, _ *Node, c *Component) []Result {
		if m := c.unknown(""); m != "" {
			return []Result{{Setting: s.name(), Missing: m}}
		}
		items := c.Flags.List(s.flag)
		v, from, set := strings.Join(items, ","), "flag --"+s.flag, len(items) > 0
		if !set {
			v, from = s.def, "default"
			items = strings.Split(s.def, ",")
		}
		has := false
		for _, it := range items {
			has = has || it == item
		}
		r := Result{Pass: has == want, Setting: s.name(), Value: v, From: from}
		if !r.Pass {
			verb := "does not include"
			if !want {
				verb = "includes"
			}
			r.Message = fmt.Sprintf("%s: %s %s %s (%s)", c.Name, s.name(), verb, item, describe(v, from, set))
		}
		return []Result{r}
	}
}

// atLeast passes when the integer setting is at least min.
func atLeast(s setting, minimum int) func(context.Context, *Node, *Component) []Result {
	return judge(s, func(v string, set bool) (bool, string) {
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return false, fmt.Sprintf("%s is not set to a number ≥ %d", s.name(), minimum)
		}
		return i >= minimum, fmt.Sprintf("%s is below %d", s.name(), minimum)
	})
}

// positiveInt passes when the integer setting is set and above 0: CIS
// 1.3.1's --terminated-pod-gc-threshold, where a value ≤ 0 switches the
// terminated-pod garbage collector off instead of bounding it.
func positiveInt(s setting) func(context.Context, *Node, *Component) []Result {
	return judge(s, func(v string, set bool) (bool, string) {
		if !set {
			return false, s.name() + " is not set"
		}
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return false, s.name() + " is not a number"
		}
		return i > 0, s.name() + " is 0 or less, which switches the garbage collector off"
	})
}

// equals passes when the setting is want.
func equals(s setting, want string) func(context.Context, *Node, *Component) []Result {
	return judge(s, func(v string, _ bool) (bool, string) {
		return strings.TrimSpace(v) == want, fmt.Sprintf("%s is not %s", s.name(), want)
	})
}

// nonZeroDuration passes when the duration setting is a duration above 0.
func nonZeroDuration(s setting) func(context.Context, *Node, *Component) []Result {
	return judge(s, func(v string, _ bool) (bool, string) {
		v = strings.TrimSpace(v)
		if v == "0" {
			return false, s.name() + " is 0 (no timeout)"
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return false, s.name() + " is not a duration"
		}
		return d > 0, s.name() + " is not above 0"
	})
}

// featureGateNotFalse passes unless the gate is switched off.
func featureGateNotFalse(gate, field string) func(context.Context, *Node, *Component) []Result {
	return func(_ context.Context, _ *Node, c *Component) []Result {
		v, from := "", ""
		cs, collected := c.collected[gate]
		if g, ok := featureGate(c.Flags.List("feature-gates"), gate); ok {
			v, from = g, "flag --feature-gates"
		} else if collected {
			v, from = cs.value, cs.from
		} else if m := c.unknown(field); m != "" {
			return []Result{{Setting: gate, Missing: m}}
		} else if c.Config != nil {
			if g, ok := lookup(c.Config, field+"."+gate); ok {
				v, from = g, "config "+field+"."+gate
			}
		}
		r := Result{Pass: true, Setting: gate, Value: v, From: from}
		if v != "" {
			b, err := ParseBool(v)
			r.Pass = err == nil && b
		}
		if !r.Pass {
			r.Message = fmt.Sprintf("%s: feature gate %s is %q (%s)", c.Name, gate, v, from)
		}
		return []Result{r}
	}
}

// aeadCiphers are the suites CIS 4.2.12 lists for the kubelet (ECDHE and
// RSA key exchange with AES-GCM or ChaCha20-Poly1305), and TLS 1.3's.
// Posture behaviour versions 4–10 judged the API server by them too.
var aeadCiphers = map[string]bool{
	"TLS_AES_128_GCM_SHA256": true, "TLS_AES_256_GCM_SHA384": true, "TLS_CHACHA20_POLY1305_SHA256": true,
	"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": true, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": true,
	"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": true, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": true,
	"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": true, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": true,
	"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": true, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": true,
	"TLS_RSA_WITH_AES_256_GCM_SHA384": true, "TLS_RSA_WITH_AES_128_GCM_SHA256": true,
}

// apiServerCiphers are the suites CIS v1.10 lists for the API server: TLS
// 1.3's, and ECDHE key exchange with AES-GCM, ChaCha20-Poly1305 or
// AES-CBC-SHA (CBC suites Go still counts secure). Earlier benchmark
// versions also listed 3DES (Sweet32), RSA key exchange (no forward
// secrecy) and CBC-SHA256 suites, which Go lists as insecure; v1.10 dropped
// them, and an API server offering them fails here.
var apiServerCiphers = map[string]bool{
	"TLS_AES_128_GCM_SHA256": true, "TLS_AES_256_GCM_SHA384": true, "TLS_CHACHA20_POLY1305_SHA256": true,
	"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": true, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": true,
	"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": true, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": true,
	"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": true, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": true,
	"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": true, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": true,
	"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": true, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": true,
	"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": true, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": true,
}

// goDefaultsCBC is why an unset list fails aeadCiphers.
const goDefaultsCBC = "Go's defaults include CBC suites"

// WithAEADAPIServerCiphers returns checks with node/apiserver-tls-ciphers
// judging the API server by aeadCiphers, as posture behaviour versions
// 4–10 did; checks itself is not changed.
func WithAEADAPIServerCiphers(checks []Check) []Check {
	out := slices.Clone(checks)
	for i := range out {
		if out[i].ID == "node/apiserver-tls-ciphers" {
			out[i].Eval = strongCipherSuites(apiServerCipherFlag, aeadCiphers, goDefaultsCBC)
			out[i].Remediation = "Set --tls-cipher-suites to AEAD ECDHE suites only."
		}
	}
	return out
}

// strongCipherSuites passes when the cipher suites are set and all in
// allowed. Unset fails, as CIS's audit does, saying why (unset): the
// component then offers the defaults of the Go release it was built with.
func strongCipherSuites(s setting, allowed map[string]bool, unset string) func(context.Context, *Node, *Component) []Result {
	return judge(s, func(v string, set bool) (bool, string) {
		if !set || strings.TrimSpace(v) == "" {
			return false, s.name() + " is not set: " + unset
		}
		var weak []string
		for _, c := range strings.Split(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !allowed[c] {
				weak = append(weak, c)
			}
		}
		return len(weak) == 0, "weak cipher suites " + strings.Join(weak, ",")
	})
}
