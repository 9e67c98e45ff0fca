package config

import (
	"fmt"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// config decodes the document root over the defaults already in c.
func (d *decoder) config(n *yaml.Node, c *Config) {
	d.src.record("", n)
	d.mapping("", n, map[string]fieldFunc{
		"apiVersion":  func(p string, v *yaml.Node) { d.str(p, v, &c.APIVersion) },
		"kind":        func(p string, v *yaml.Node) { d.str(p, v, &c.Kind) },
		"imagePolicy": func(p string, v *yaml.Node) { d.imagePolicy(p, v, &c.ImagePolicy) },
		// baseline is the section's first name; it still reads the same
		// struct so that existing files keep working, with a warning.
		"baseline":   func(p string, v *yaml.Node) { d.imagePolicy(p, v, &c.ImagePolicy) },
		"registries": func(p string, v *yaml.Node) { d.registries(p, v, &c.Registries) },
		"exceptions": func(p string, v *yaml.Node) { d.exceptions(p, v, &c.Exceptions) },
		"store": func(p string, v *yaml.Node) {
			d.mapping(p, v, map[string]fieldFunc{
				"dsn": func(p string, v *yaml.Node) { d.str(p, v, &c.Store.DSN) },
			})
		},
		"server":    func(p string, v *yaml.Node) { d.server(p, v, &c.Server) },
		"admission": func(p string, v *yaml.Node) { d.admission(p, v, &c.Admission) },
		"audit":     func(p string, v *yaml.Node) { d.audit(p, v, &c.Audit) },
		"posture":   func(p string, v *yaml.Node) { d.posture(p, v, &c.Posture) },
		"secrets":   func(p string, v *yaml.Node) { d.secrets(p, v, &c.Secrets) },
		"log": func(p string, v *yaml.Node) {
			d.mapping(p, v, map[string]fieldFunc{
				"level":  func(p string, v *yaml.Node) { d.str(p, v, &c.Log.Level) },
				"format": func(p string, v *yaml.Node) { d.str(p, v, &c.Log.Format) },
			})
		},
	})
}

// policyAlias checks the use of baseline, the deprecated name of
// imagePolicy, after the root has been decoded: both names at once is an
// error (which one wins would be a guess), the old name alone a warning.
func (d *decoder) policyAlias(c *Config) {
	old, hasOld := d.src.pos["baseline"]
	cur, hasCur := d.src.pos["imagePolicy"]
	switch {
	case hasOld && hasCur:
		d.src.bad["imagePolicy"], d.src.bad["baseline"] = true, true
		first, second := "baseline", "imagePolicy"
		at, other := old, cur
		if cur.line < old.line || (cur.line == old.line && cur.col < old.col) {
			first, second, at, other = second, first, cur, old
		}
		d.errs = append(d.errs, &Error{File: d.src.file, Line: other.line, Column: other.col, Path: second,
			Msg: fmt.Sprintf("%s (line %d) and %s (line %d) are the same section (baseline is the deprecated name of imagePolicy); keep only imagePolicy", first, at.line, second, other.line)})
	case hasOld:
		d.src.policySection = "baseline"
		w := &Error{File: d.src.file, Line: old.line, Column: old.col, Path: "baseline",
			Msg: "deprecated section name; rename it to imagePolicy (it is read the same way)"}
		c.Warnings = append(c.Warnings, w.Error())
	}
}

func (d *decoder) imagePolicy(path string, n *yaml.Node, b *ImagePolicy) {
	d.mapping(path, n, map[string]fieldFunc{
		"maxVulnerabilities": func(p string, v *yaml.Node) {
			l := &b.MaxVulnerabilities
			d.mapping(p, v, map[string]fieldFunc{
				"critical": func(p string, v *yaml.Node) { d.integer(p, v, &l.Critical) },
				"high":     func(p string, v *yaml.Node) { d.integer(p, v, &l.High) },
				"medium":   func(p string, v *yaml.Node) { d.integer(p, v, &l.Medium) },
				"low":      func(p string, v *yaml.Node) { d.integer(p, v, &l.Low) },
				"unknown":  func(p string, v *yaml.Node) { d.integer(p, v, &l.Unknown) },
			})
		},
		"failOnFixableOnly": func(p string, v *yaml.Node) { d.boolean(p, v, &b.FailOnFixableOnly) },
		"noSecrets":         func(p string, v *yaml.Node) { d.boolean(p, v, &b.NoSecrets) },
		"maxDBAge":          func(p string, v *yaml.Node) { d.duration(p, v, &b.MaxDBAge) },
		"warnDBAge":         func(p string, v *yaml.Node) { d.duration(p, v, &b.WarnDBAge) },
		"deniedPackages":    func(p string, v *yaml.Node) { d.deniedPackages(p, v, &b.DeniedPackages) },
		"sla": func(p string, v *yaml.Node) {
			s := &b.SLA
			d.mapping(p, v, map[string]fieldFunc{
				"critical": func(p string, v *yaml.Node) { d.duration(p, v, &s.Critical) },
				"high":     func(p string, v *yaml.Node) { d.duration(p, v, &s.High) },
				"medium":   func(p string, v *yaml.Node) { d.duration(p, v, &s.Medium) },
				"low":      func(p string, v *yaml.Node) { d.duration(p, v, &s.Low) },
				"unknown":  func(p string, v *yaml.Node) { d.duration(p, v, &s.Unknown) },
			})
		},
	})
}

func (d *decoder) deniedPackages(path string, n *yaml.Node, dst *[]DeniedPackage) {
	if n = d.value(path, n); n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(path, nil, "want a list of packages, each with a name and a reason, got %s", describe(n))
		return
	}
	out := make([]DeniedPackage, len(n.Content))
	for i, item := range n.Content {
		p := path + "[" + strconv.Itoa(i) + "]"
		dp := &out[i]
		d.src.record(p, item)
		d.mapping(p, item, map[string]fieldFunc{
			"name":      func(p string, v *yaml.Node) { d.str(p, v, &dp.Name) },
			"ecosystem": func(p string, v *yaml.Node) { d.str(p, v, &dp.Ecosystem) },
			"versions":  func(p string, v *yaml.Node) { d.strings(p, v, &dp.Versions, true) },
			"reason":    func(p string, v *yaml.Node) { d.str(p, v, &dp.Reason) },
		})
	}
	*dst = out
}

func (d *decoder) registries(path string, n *yaml.Node, r *Registries) {
	d.mapping(path, n, map[string]fieldFunc{
		"trusted":      func(p string, v *yaml.Node) { d.strings(p, v, &r.Trusted, false) },
		"allowLatest":  func(p string, v *yaml.Node) { d.boolean(p, v, &r.AllowLatest) },
		"floatingTags": func(p string, v *yaml.Node) { d.optionalStrings(p, v, &r.FloatingTags) },
	})
}

func (d *decoder) server(path string, n *yaml.Node, s *Server) {
	d.mapping(path, n, map[string]fieldFunc{
		"listen": func(p string, v *yaml.Node) { d.str(p, v, &s.Listen) },
		"tls": func(p string, v *yaml.Node) {
			d.mapping(p, v, map[string]fieldFunc{
				"certFile": func(p string, v *yaml.Node) { d.str(p, v, &s.TLS.CertFile) },
				"keyFile":  func(p string, v *yaml.Node) { d.str(p, v, &s.TLS.KeyFile) },
			})
		},
		"tokensFile":      func(p string, v *yaml.Node) { d.str(p, v, &s.TokensFile) },
		"shutdownTimeout": func(p string, v *yaml.Node) { d.duration(p, v, &s.ShutdownTimeout) },
	})
}

func (d *decoder) exceptions(path string, n *yaml.Node, dst *[]Exception) {
	if n = d.value(path, n); n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(path, nil, "want a list of exceptions, got %s", describe(n))
		return
	}
	out := make([]Exception, len(n.Content))
	for i, item := range n.Content {
		p := path + "[" + strconv.Itoa(i) + "]"
		d.src.record(p, item)
		d.exception(p, item, &out[i])
	}
	*dst = out
}

func (d *decoder) exception(path string, n *yaml.Node, e *Exception) {
	m := &e.Match
	d.mapping(path, n, map[string]fieldFunc{
		"id": func(p string, v *yaml.Node) { d.str(p, v, &e.ID) },
		"match": func(p string, v *yaml.Node) {
			d.mapping(p, v, map[string]fieldFunc{
				"rule":      func(p string, v *yaml.Node) { d.strings(p, v, &m.Rules, true) },
				"namespace": func(p string, v *yaml.Node) { d.str(p, v, &m.Namespace) },
				"kind":      func(p string, v *yaml.Node) { d.str(p, v, &m.Kind) },
				"name":      func(p string, v *yaml.Node) { d.str(p, v, &m.Name) },
				"image":     func(p string, v *yaml.Node) { d.str(p, v, &m.Image) },
				"labels": func(p string, v *yaml.Node) {
					if v.Kind == yaml.MappingNode {
						d.fail(p, nil, `want a label selector string such as "app=web,env in (prod,stage)", got a mapping`)
						return
					}
					d.str(p, v, &m.Labels)
				},
			})
		},
		"owner":   func(p string, v *yaml.Node) { d.str(p, v, &e.Owner) },
		"reason":  func(p string, v *yaml.Node) { d.str(p, v, &e.Reason) },
		"expires": func(p string, v *yaml.Node) { d.date(p, v, &e.Expires) },
	})
	// Parse the selector once, here, rather than at every match.
	m.compile()
	if e.ID == "" && !m.Empty() {
		e.ID = m.StableID()
	}
}

func (d *decoder) date(path string, v *yaml.Node, dst *time.Time) {
	if v = d.value(path, v); v == nil {
		return
	}
	if t := v.ShortTag(); v.Kind != yaml.ScalarNode || (t != "!!str" && t != "!!timestamp") {
		d.fail(path, nil, "want a date (YYYY-MM-DD or RFC 3339), got %s", describe(v))
		return
	}
	t, err := ParseDate(v.Value)
	if err != nil {
		d.fail(path, err, "%v", err)
		return
	}
	*dst = t
}
