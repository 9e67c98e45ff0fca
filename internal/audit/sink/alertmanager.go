package sink

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// AlertmanagerOptions configures a Prometheus Alertmanager sink.
type AlertmanagerOptions struct {
	Name string
	// URL is Alertmanager's base URL ("http://alertmanager:9093"); the sink
	// posts to URL/api/v2/alerts.
	URL    string
	Client *http.Client
	// ExternalURL is where Palisade's API is reached; generatorURL links
	// to ExternalURL/api/v1/alerts/<id>. Empty leaves generatorURL out.
	ExternalURL string
	// Hold is how long Alertmanager keeps an alert firing after Palisade
	// sends it (endsAt = send time + Hold; default 1h). An audit alert is
	// a one-off event with no "resolved" signal, so it must end by itself;
	// a posture alert is sent once when raised, so it ends the same way
	// (its state stays in Palisade's API until the check passes).
	Hold time.Duration
	Now  func() time.Time
}

// Alertmanager posts alerts to Alertmanager's v2 API, labelled so that
// routes can select on alertname, severity, cluster, namespace, rule and
// alert_source (audit or posture).
type Alertmanager struct{ opts AlertmanagerOptions }

// NewAlertmanager builds an Alertmanager sink.
func NewAlertmanager(opts AlertmanagerOptions) (*Alertmanager, error) {
	if opts.URL == "" {
		return nil, fmt.Errorf("alertmanager sink %s: a url is required", opts.Name)
	}
	if _, err := url.Parse(opts.URL); err != nil {
		return nil, fmt.Errorf("alertmanager sink %s: url: %w", opts.Name, err)
	}
	if opts.Hold <= 0 {
		opts.Hold = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Client == nil {
		opts.Client = ownClient()
	}
	return &Alertmanager{opts: opts}, nil
}

// Name returns the sink's name.
func (am *Alertmanager) Name() string { return am.opts.Name }

// postableAlert is Alertmanager's v2 PostableAlert.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     string            `json:"startsAt,omitempty"`
	EndsAt       string            `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Send posts all alerts in one request; Alertmanager merges repeats of an
// alert with the same labels, so a redelivery is harmless (alert_id is a
// label for that reason).
func (am *Alertmanager) Send(ctx context.Context, alerts []Alert) error {
	ends := am.opts.Now().Add(am.opts.Hold).UTC().Format(time.RFC3339)
	out := make([]postableAlert, 0, len(alerts))
	for i := range alerts {
		a := &alerts[i]
		labels := map[string]string{
			"alertname": a.RuleName, "severity": severityName(a.Severity), "rule": a.RuleID,
			"alert_id": a.ID, "source": "palisade", "alert_source": firstNonEmpty(a.Source, SourceAudit),
		}
		if a.Cluster != "" {
			labels["cluster"] = a.Cluster
		}
		if a.Target.Namespace != "" {
			labels["namespace"] = a.Target.Namespace
		}
		ann := map[string]string{"summary": firstNonEmpty(a.Message, a.RuleName)}
		if a.IsPosture() {
			postureAnnotations(a, labels, ann)
		}
		if a.Description != "" {
			ann["description"] = a.Description
		}
		if a.Actor != "" {
			ann["actor"] = a.Actor
		}
		if len(a.Evidence) > 0 {
			ann["evidence"] = strings.Join(a.Evidence, ",")
		}
		if len(a.Playbook) > 0 {
			var steps []string
			for _, s := range a.Playbook {
				steps = append(steps, strings.TrimSuffix(s.Title+": "+s.Command, ": "))
			}
			ann["playbook"] = strings.Join(steps, "\n")
		}
		p := postableAlert{Labels: labels, Annotations: ann, StartsAt: a.Time.UTC().Format(time.RFC3339), EndsAt: ends}
		if am.opts.ExternalURL != "" {
			p.GeneratorURL = strings.TrimSuffix(am.opts.ExternalURL, "/") + "/api/v1/alerts/" + url.PathEscape(a.ID)
		}
		out = append(out, p)
	}
	body, err := marshal(out)
	if err != nil {
		return err
	}
	return post(ctx, am.opts.Client, am.opts.Name, strings.TrimSuffix(am.opts.URL, "/")+"/api/v2/alerts", body, nil, nil)
}

// postureAnnotations adds what routes and receivers need of a posture
// alert: its namespace and object kind as labels (routes select on them,
// like on an audit alert's namespace), the object, fix and controls as
// annotations.
func postureAnnotations(a *Alert, labels, ann map[string]string) {
	o := a.Posture.Object
	if o.Namespace != "" {
		labels["namespace"] = o.Namespace
	}
	if o.Kind != "" {
		labels["object_kind"] = o.Kind
	}
	ann["object"] = objectString(a)
	if a.Posture.Remediation != "" {
		ann["remediation"] = a.Posture.Remediation
	}
	if c := controlsString(a.Posture.Controls); c != "" {
		ann["controls"] = c
	}
	ann["finding_id"] = a.Posture.FindingID
}

var _ Sink = (*Alertmanager)(nil)
