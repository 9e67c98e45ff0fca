package config

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/palisade-sec/palisade/internal/finding"
)

// Audit configures audit detection in `palisade serve`: where alerts are
// forwarded, how long events are kept, and the Falco alert stream.
type Audit struct {
	// Sinks receive every alert (at or above each sink's MinSeverity).
	Sinks []AuditSink
	// Delivery bounds the retries of a sink before an alert becomes a
	// dead letter.
	Delivery AuditDelivery
	// Retention bounds what is kept.
	Retention AuditRetention
	// Falco configures the Falco alert receiver.
	Falco AuditFalco
	// Sources configures client-certificate sources and tailed log files
	// (auditsources.go).
	Sources AuditSources
	// Connectors pull audit events from managed clusters' cloud log
	// services (auditconnectors.go).
	Connectors []AuditConnector
}

// The sink types.
const (
	SinkWebhook      = "webhook"
	SinkSlack        = "slack"
	SinkAlertmanager = "alertmanager"
	SinkFile         = "file"
	SinkTheHive      = "thehive"
)

// AuditSink is one alert destination. Credentials are never written in the
// file: SecretEnv or SecretFile name where to read them (the webhook's HMAC
// key, TheHive's API key) and URLEnv a URL that is itself a credential (a
// Slack incoming webhook).
type AuditSink struct {
	Name string
	Type string // webhook, slack, alertmanager, file or thehive
	URL  string
	// URLEnv names an environment variable holding the URL instead.
	URLEnv     string
	SecretEnv  string
	SecretFile string
	// Path, MaxBytes and MaxFiles configure a file sink.
	Path     string
	MaxBytes int
	MaxFiles int
	// MinSeverity drops less severe alerts for this sink; empty sends all.
	MinSeverity string
	// Organisation is TheHive's X-Organisation.
	Organisation string
	// ExternalURL is where Palisade's API is reached, for Alertmanager's
	// generatorURL.
	ExternalURL string
}

// AuditDelivery configures retries.
type AuditDelivery struct {
	MaxAttempts    int
	InitialBackoff Duration
	MaxBackoff     Duration
}

// AuditRetention configures how long audit data is kept.
type AuditRetention struct {
	// Events is how long audit events stay searchable in the store; 0
	// keeps them forever.
	Events Duration
	// BusMaxAge and BusMaxBytes bound the event bus stream (audit
	// batches, alerts, dead letters); the oldest messages go first.
	BusMaxAge   Duration
	BusMaxBytes int
}

// AuditFalco configures the Falco receiver (POST /falco/v1/alerts).
type AuditFalco struct {
	Enabled bool
}

func defaultAudit() Audit {
	return Audit{
		Delivery:  AuditDelivery{MaxAttempts: 8, InitialBackoff: Duration(1e9), MaxBackoff: Duration(15e9)},
		Retention: AuditRetention{Events: 30 * Day, BusMaxAge: 7 * Day, BusMaxBytes: 1 << 30},
		Falco:     AuditFalco{Enabled: true},
	}
}

func (d *decoder) audit(path string, n *yaml.Node, a *Audit) {
	d.mapping(path, n, map[string]fieldFunc{
		"sinks": func(p string, v *yaml.Node) { d.auditSinks(p, v, &a.Sinks) },
		"delivery": func(p string, v *yaml.Node) {
			dl := &a.Delivery
			d.mapping(p, v, map[string]fieldFunc{
				"maxAttempts":    func(p string, v *yaml.Node) { d.integer(p, v, &dl.MaxAttempts) },
				"initialBackoff": func(p string, v *yaml.Node) { d.duration(p, v, &dl.InitialBackoff) },
				"maxBackoff":     func(p string, v *yaml.Node) { d.duration(p, v, &dl.MaxBackoff) },
			})
		},
		"retention": func(p string, v *yaml.Node) {
			r := &a.Retention
			d.mapping(p, v, map[string]fieldFunc{
				"events":      func(p string, v *yaml.Node) { d.duration(p, v, &r.Events) },
				"busMaxAge":   func(p string, v *yaml.Node) { d.duration(p, v, &r.BusMaxAge) },
				"busMaxBytes": func(p string, v *yaml.Node) { d.integer(p, v, &r.BusMaxBytes) },
			})
		},
		"sources":    func(p string, v *yaml.Node) { d.auditSources(p, v, &a.Sources) },
		"connectors": func(p string, v *yaml.Node) { d.auditConnectors(p, v, &a.Connectors) },
		"falco": func(p string, v *yaml.Node) {
			d.mapping(p, v, map[string]fieldFunc{
				"enabled": func(p string, v *yaml.Node) { d.boolean(p, v, &a.Falco.Enabled) },
			})
		},
	})
}

func (d *decoder) auditSinks(path string, n *yaml.Node, dst *[]AuditSink) {
	if n = d.value(path, n); n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(path, nil, "want a list of sinks, got %s", describe(n))
		return
	}
	out := make([]AuditSink, len(n.Content))
	for i, item := range n.Content {
		p := path + "[" + strconv.Itoa(i) + "]"
		d.src.record(p, item)
		s := &out[i]
		d.mapping(p, item, map[string]fieldFunc{
			"name":         func(p string, v *yaml.Node) { d.str(p, v, &s.Name) },
			"type":         func(p string, v *yaml.Node) { d.str(p, v, &s.Type) },
			"url":          func(p string, v *yaml.Node) { d.str(p, v, &s.URL) },
			"urlEnv":       func(p string, v *yaml.Node) { d.str(p, v, &s.URLEnv) },
			"secretEnv":    func(p string, v *yaml.Node) { d.str(p, v, &s.SecretEnv) },
			"secretFile":   func(p string, v *yaml.Node) { d.str(p, v, &s.SecretFile) },
			"path":         func(p string, v *yaml.Node) { d.str(p, v, &s.Path) },
			"maxBytes":     func(p string, v *yaml.Node) { d.integer(p, v, &s.MaxBytes) },
			"maxFiles":     func(p string, v *yaml.Node) { d.integer(p, v, &s.MaxFiles) },
			"minSeverity":  func(p string, v *yaml.Node) { d.str(p, v, &s.MinSeverity) },
			"organisation": func(p string, v *yaml.Node) { d.str(p, v, &s.Organisation) },
			"externalURL":  func(p string, v *yaml.Node) { d.str(p, v, &s.ExternalURL) },
		})
	}
	*dst = out
}

func (a *Audit) validate(v *validator, p string) {
	seen := map[string]int{}
	for i := range a.Sinks {
		s := &a.Sinks[i]
		sp := p + ".sinks[" + strconv.Itoa(i) + "]"
		if s.Name == "" {
			v.add(sp, "a sink needs a name (it labels metrics and dead letters)")
		} else if first, dup := seen[s.Name]; dup {
			v.add(sp+".name", "duplicate sink name %s (also %s.sinks[%d])", quote(s.Name), p, first)
		} else {
			seen[s.Name] = i
		}
		switch s.Type {
		case SinkWebhook, SinkSlack, SinkAlertmanager, SinkTheHive:
			if (s.URL == "") == (s.URLEnv == "") {
				v.add(sp, "a %s sink needs url or urlEnv (one of them)", s.Type)
			} else if s.URL != "" && !strings.HasPrefix(s.URL, "https://") && !strings.HasPrefix(s.URL, "http://") {
				v.add(sp+".url", "want an http:// or https:// URL, got %s", quote(s.URL))
			}
			if s.Type == SinkTheHive && s.SecretEnv == "" && s.SecretFile == "" {
				v.add(sp, "a thehive sink needs its API key in secretEnv or secretFile")
			}
		case SinkFile:
			if s.Path == "" {
				v.add(sp, "a file sink needs a path")
			}
		default:
			v.add(sp+".type", "unknown sink type %s (want webhook, slack, alertmanager, file or thehive)", quote(s.Type))
		}
		if s.SecretEnv != "" && s.SecretFile != "" {
			v.add(sp, "secretEnv and secretFile exclude each other")
		}
		if s.MinSeverity != "" {
			if _, err := finding.ParseSeverity(s.MinSeverity); err != nil {
				v.add(sp+".minSeverity", "%v", err)
			}
		}
		if s.MaxBytes < 0 || s.MaxFiles < 0 {
			v.add(sp, "maxBytes and maxFiles must not be negative")
		}
	}
	if a.Delivery.MaxAttempts < 1 {
		v.add(p+".delivery.maxAttempts", "must be at least 1, got %d", a.Delivery.MaxAttempts)
	}
	if a.Delivery.InitialBackoff <= 0 || a.Delivery.MaxBackoff < a.Delivery.InitialBackoff {
		v.add(p+".delivery", "want 0 < initialBackoff <= maxBackoff, got %s and %s", a.Delivery.InitialBackoff, a.Delivery.MaxBackoff)
	} else if a.Delivery.MaxBackoff > 15*Duration(1e9) {
		// The wait plus a send must stay under the bus's 30 s ack wait.
		v.add(p+".delivery.maxBackoff", "at most 15s, got %s (longer outages are covered by maxAttempts)", a.Delivery.MaxBackoff)
	}
	if a.Retention.Events < 0 {
		v.add(p+".retention.events", "must not be negative (0 keeps events forever)")
	}
	if a.Retention.BusMaxAge <= 0 || a.Retention.BusMaxBytes <= 0 {
		v.add(p+".retention", "busMaxAge and busMaxBytes must be positive")
	}
}
