package config

import (
	"fmt"
	"net"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Validate checks c and returns every problem, joined (see Error), or nil.
// For a Config from Load or Parse each problem names the line it is on.
// Expired exceptions are valid: expiry is judged when findings are, against
// the time the caller passes (see ApplyExceptions).
func (c *Config) Validate() error {
	file := ""
	if c.src != nil {
		file = c.src.file
	}
	return joinErrors(file, c.validate())
}

// validator collects problems, placing each at the line its field is on.
type validator struct {
	src  *source
	errs []*Error
}

func (v *validator) add(path string, format string, args ...any) {
	if v.src.isBad(path) {
		return // already reported when decoding
	}
	v.errs = append(v.errs, v.src.errorAt(path, fmt.Sprintf(format, args...), nil))
}

func (c *Config) validate() []*Error {
	v := &validator{src: c.src}
	if c.APIVersion != "" && c.APIVersion != APIVersion {
		v.add("apiVersion", "unsupported version %s (want %q)", quote(c.APIVersion), APIVersion)
	}
	if c.Kind != "" && c.Kind != Kind {
		v.add("kind", "unsupported kind %s (want %q)", quote(c.Kind), Kind)
	}
	c.ImagePolicy.validate(v, c.src.policyPath())
	c.Registries.validate(v, "registries")
	validateExceptions(v, "exceptions", c.Exceptions)
	if _, err := c.Store.Backend(); err != nil {
		v.add("store.dsn", "%v", err)
	}
	c.Server.validate(v, "server")
	c.Admission.validate(v, "admission")
	c.Secrets.validate(v, "secrets")
	c.Audit.validate(v, "audit")
	c.Posture.validate(v, "posture")
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		v.add("log.level", "unknown level %s (want debug, info, warn or error)", quote(c.Log.Level))
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		v.add("log.format", "unknown format %s (want json or text)", quote(c.Log.Format))
	}
	return v.errs
}

func (b *ImagePolicy) validate(v *validator, p string) {
	l := b.MaxVulnerabilities
	for _, s := range []struct {
		name string
		n    int
	}{{"critical", l.Critical}, {"high", l.High}, {"medium", l.Medium}, {"low", l.Low}, {"unknown", l.Unknown}} {
		if s.n < Unlimited {
			v.add(p+".maxVulnerabilities."+s.name, "must be a count (0 or more) or -1 for unlimited, got %d", s.n)
		}
	}
	if b.MaxDBAge < 0 {
		v.add(p+".maxDBAge", "must not be negative, got %s (0 disables the check)", b.MaxDBAge)
	}
	if b.WarnDBAge < 0 {
		v.add(p+".warnDBAge", "must not be negative, got %s (0 disables the warning)", b.WarnDBAge)
	}
	for i := range b.DeniedPackages {
		b.DeniedPackages[i].validate(v, p+".deniedPackages["+strconv.Itoa(i)+"]")
	}
	for _, s := range []struct {
		name string
		d    Duration
	}{{"critical", b.SLA.Critical}, {"high", b.SLA.High}, {"medium", b.SLA.Medium}, {"low", b.SLA.Low}, {"unknown", b.SLA.Unknown}} {
		if s.d < 0 {
			v.add(p+".sla."+s.name, "must not be negative, got %s (0 means no SLA)", s.d)
		}
	}
}

// tagGrammar is the OCI distribution spec's tag grammar.
var tagGrammar = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

func (r *Registries) validate(v *validator, p string) {
	for i, tag := range r.FloatingTags {
		if !tagGrammar.MatchString(tag) {
			v.add(p+".floatingTags["+strconv.Itoa(i)+"]", "%s is not an image tag (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')", quote(tag))
		}
	}
	for i, pat := range r.Trusted {
		ip := p + ".trusted[" + strconv.Itoa(i) + "]"
		switch {
		case pat == "":
			v.add(ip, "empty pattern")
		case strings.Contains(pat, "://"):
			v.add(ip, "pattern %s has a scheme; write the registry host and path, such as \"ghcr.io/acme/*\"", quote(pat))
		case strings.ContainsAny(pat, "@ \t\n"):
			v.add(ip, "pattern %s names a digest or has spaces; trusted patterns match repositories, such as \"ghcr.io/acme/*\"", quote(pat))
		default:
			if _, err := path.Match(pat, ""); err != nil {
				v.add(ip, "invalid pattern %s: %v", quote(pat), err)
			}
		}
	}
}

func (s *Server) validate(v *validator, p string) {
	host, port, err := net.SplitHostPort(s.Listen)
	switch {
	case err != nil:
		v.add(p+".listen", "invalid address %s (want host:port, such as \"127.0.0.1:8443\" or \":8443\")", quote(s.Listen))
	case !validPort(port):
		v.add(p+".listen", "invalid port %s in %s (want 0 to 65535)", quote(port), quote(s.Listen))
	case strings.ContainsAny(host, " /"):
		v.add(p+".listen", "invalid host %s in %s", quote(host), quote(s.Listen))
	}
	switch {
	case s.TLS.CertFile != "" && s.TLS.KeyFile == "":
		v.add(p+".tls", "certFile is set but keyFile is not; set both or neither")
	case s.TLS.CertFile == "" && s.TLS.KeyFile != "":
		v.add(p+".tls", "keyFile is set but certFile is not; set both or neither")
	}
	if s.ShutdownTimeout <= 0 {
		v.add(p+".shutdownTimeout", "must be positive, got %s", s.ShutdownTimeout)
	}
}

// validateExceptions checks each exception and that IDs are unique. An
// exception's expiry date is not judged here.
func validateExceptions(v *validator, p string, excs []Exception) {
	seen := make(map[string]int, len(excs))
	for i := range excs {
		e := &excs[i]
		ep := p + "[" + strconv.Itoa(i) + "]"
		e.validate(v, ep)
		id := e.Ref().ID
		if first, dup := seen[id]; dup {
			if e.ID == "" || e.ID == e.Match.StableID() {
				v.add(ep+".match", "same match as %s[%d]; merge the two exceptions or give each an id", p, first)
			} else {
				v.add(ep+".id", "duplicate id %s (also %s[%d])", quote(id), p, first)
			}
			continue
		}
		seen[id] = i
	}
}

func (e *Exception) validate(v *validator, p string) {
	if e.ID != "" && !validID(e.ID) {
		v.add(p+".id", "invalid id %s (want at most 128 letters, digits and . _ - : /, starting with a letter or digit)", quote(e.ID))
	}
	m := &e.Match
	mp := p + ".match"
	if m.Empty() {
		v.add(mp, "set at least one of rule, namespace, kind, name, image or labels; an exception must not match every finding")
	}
	for i, r := range m.Rules {
		rp := mp + ".rule[" + strconv.Itoa(i) + "]"
		if r == "" {
			v.add(rp, "empty rule")
		} else if _, err := path.Match(r, ""); err != nil {
			v.add(rp, "invalid pattern %s: %v", quote(r), err)
		}
	}
	for _, g := range []struct{ name, pat string }{{"namespace", m.Namespace}, {"name", m.Name}, {"image", m.Image}} {
		if _, err := path.Match(g.pat, ""); err != nil {
			v.add(mp+"."+g.name, "invalid pattern %s: %v", quote(g.pat), err)
		}
	}
	if m.Kind != "" && !validKind(m.Kind) {
		v.add(mp+".kind", "invalid kind %s (want a Kubernetes kind such as \"Deployment\"; kind takes no pattern)", quote(m.Kind))
	}
	if m.Labels != "" {
		if _, err := parseSelector(m.Labels); err != nil {
			v.add(mp+".labels", "invalid label selector %s: %v", quote(m.Labels), err)
		}
	}
	if strings.TrimSpace(e.Owner) == "" {
		v.add(p+".owner", "missing: say who accepted the risk")
	}
	if strings.TrimSpace(e.Reason) == "" {
		v.add(p+".reason", "missing: say why the risk is acceptable")
	}
	if e.Expires.IsZero() {
		v.add(p+".expires", "missing: every exception expires (YYYY-MM-DD or RFC 3339)")
	}
}

func validPort(port string) bool {
	_, err := strconv.ParseUint(port, 10, 16)
	return err == nil
}

func validID(id string) bool {
	if len(id) > 128 || id == "" {
		return false
	}
	for i, r := range id {
		alnum := r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		if !alnum && (i == 0 || !strings.ContainsRune("._-:/", r)) {
			return false
		}
	}
	return true
}

func validKind(k string) bool {
	for i, r := range k {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

var podSecurityVersion = regexp.MustCompile(`^v1\.[0-9]+$`)
