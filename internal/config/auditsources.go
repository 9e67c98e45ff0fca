package config

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// AuditSources configures where `palisade serve` takes audit events from
// besides API servers with a token: API servers with a client certificate,
// and audit log files on the server's own disk.
type AuditSources struct {
	// ClientCA is a PEM CA bundle: an API server presenting a client
	// certificate it signed is an audit source, and the certificate's CN is
	// the cluster's name (its O, if any, must include
	// palisade:audit-sources). Empty: tokens only.
	ClientCA string
	// LogFiles are API server audit logs (--audit-log-path, JSON lines) to
	// tail, following rotation and resuming from a checkpoint.
	LogFiles []AuditLogFile
}

// AuditLogFile is one tailed audit log.
type AuditLogFile struct {
	Path    string
	Cluster string
}

func (d *decoder) auditSources(path string, n *yaml.Node, s *AuditSources) {
	d.mapping(path, n, map[string]fieldFunc{
		"clientCA": func(p string, v *yaml.Node) { d.str(p, v, &s.ClientCA) },
		"logFiles": func(p string, v *yaml.Node) { d.auditLogFiles(p, v, &s.LogFiles) },
	})
}

func (d *decoder) auditLogFiles(path string, n *yaml.Node, dst *[]AuditLogFile) {
	if n = d.value(path, n); n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(path, nil, "want a list of {path, cluster}, got %s", describe(n))
		return
	}
	out := make([]AuditLogFile, len(n.Content))
	seen := map[string]int{}
	for i, item := range n.Content {
		p := path + "[" + strconv.Itoa(i) + "]"
		d.src.record(p, item)
		f := &out[i]
		before := len(d.errs)
		d.mapping(p, item, map[string]fieldFunc{
			"path":    func(p string, v *yaml.Node) { d.str(p, v, &f.Path) },
			"cluster": func(p string, v *yaml.Node) { d.str(p, v, &f.Cluster) },
		})
		if len(d.errs) > before {
			continue
		}
		switch first, dup := seen[f.Path]; {
		case f.Path == "" || f.Cluster == "":
			d.fail(p, nil, "a log file needs a path and the cluster whose API server writes it")
		case dup:
			d.fail(p+".path", nil, "%s is tailed twice (also %s[%d])", quote(f.Path), path, first)
		default:
			seen[f.Path] = i
		}
	}
	*dst = out
}
