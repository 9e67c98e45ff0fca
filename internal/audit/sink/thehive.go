package sink

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
)

// TheHiveOptions configures a TheHive (v5) alert sink.
type TheHiveOptions struct {
	Name   string
	URL    string // TheHive's base URL; the sink posts to URL/api/v1/alert
	APIKey Secret
	// Organisation, when set, is sent as X-Organisation for API keys that
	// belong to several organisations.
	Organisation string
	Client       *http.Client
}

// TheHive creates one TheHive alert per Palisade alert. The alert ID is the
// sourceRef, which TheHive keeps unique per type and source, so a
// redelivered alert is refused as a duplicate rather than created twice;
// that refusal counts as delivered.
type TheHive struct{ opts TheHiveOptions }

// NewTheHive builds a TheHive sink.
func NewTheHive(opts TheHiveOptions) (*TheHive, error) {
	if opts.URL == "" {
		return nil, fmt.Errorf("thehive sink %s: a url is required", opts.Name)
	}
	if opts.APIKey == "" {
		return nil, fmt.Errorf("thehive sink %s: an API key is required (apiKeyEnv or apiKeyFile)", opts.Name)
	}
	if opts.Client == nil {
		opts.Client = ownClient()
	}
	return &TheHive{opts: opts}, nil
}

// Name returns the sink's name.
func (th *TheHive) Name() string { return th.opts.Name }

type hiveAlert struct {
	Type        string           `json:"type"`
	Source      string           `json:"source"`
	SourceRef   string           `json:"sourceRef"`
	Title       string           `json:"title"`
	Description string           `json:"description"`
	Severity    int              `json:"severity"`
	Date        int64            `json:"date"` // milliseconds since the epoch
	Tags        []string         `json:"tags"`
	TLP         int              `json:"tlp"`
	PAP         int              `json:"pap"`
	Observables []hiveObservable `json:"observables,omitempty"`
}

type hiveObservable struct {
	DataType string   `json:"dataType"`
	Data     string   `json:"data"`
	Message  string   `json:"message,omitempty"`
	Tags     []string `json:"tags,omitempty"`
}

// hiveSeverity maps to TheHive's 1 (low) … 4 (critical).
func hiveSeverity(s finding.Severity) int {
	switch s {
	case finding.SeverityCritical:
		return 4
	case finding.SeverityHigh:
		return 3
	case finding.SeverityMedium:
		return 2
	}
	return 1
}

// Send creates the alerts one by one (TheHive's create takes one alert).
func (th *TheHive) Send(ctx context.Context, alerts []Alert) error {
	hdr := http.Header{}
	hdr.Set("Authorization", "Bearer "+string(th.opts.APIKey))
	if th.opts.Organisation != "" {
		hdr.Set("X-Organisation", th.opts.Organisation)
	}
	url := strings.TrimSuffix(th.opts.URL, "/") + "/api/v1/alert"
	for i := range alerts {
		body, err := marshal(th.alert(&alerts[i]))
		if err != nil {
			return err
		}
		if err := post(ctx, th.opts.Client, th.opts.Name, url, body, hdr, alreadyExists); err != nil {
			return err
		}
	}
	return nil
}

// alreadyExists reports whether TheHive refused an alert because one with
// the same type, source and sourceRef exists: delivered before.
func alreadyExists(code int, body string) bool {
	return (code == http.StatusBadRequest || code == http.StatusConflict) && strings.Contains(strings.ToLower(body), "already exists")
}

func (th *TheHive) alert(a *Alert) hiveAlert {
	if a.IsPosture() {
		return postureHiveAlert(a)
	}
	var d strings.Builder
	fmt.Fprintf(&d, "%s\n\n", firstNonEmpty(a.Message, a.Description, a.RuleName))
	fmt.Fprintf(&d, "- **Rule:** `%s` (%s)\n- **Cluster:** %s\n- **Actor:** %s\n", a.RuleID, a.Kind, orDash(a.Cluster), orDash(a.Actor))
	fmt.Fprintf(&d, "- **Target:** %s\n- **Evidence auditIDs:** %s\n", orDash(targetString(a)), strings.Join(a.Evidence, ", "))
	if len(a.Playbook) > 0 {
		d.WriteString("\n**Playbook**\n")
		for i, s := range a.Playbook {
			fmt.Fprintf(&d, "%d. %s", i+1, s.Title)
			if s.Command != "" {
				fmt.Fprintf(&d, ": `%s`", s.Command)
			}
			d.WriteByte('\n')
		}
	}
	tags := []string{"palisade", "rule:" + a.RuleID}
	if a.Cluster != "" {
		tags = append(tags, "cluster:"+a.Cluster)
	}
	for _, t := range a.MITRE.Techniques {
		tags = append(tags, "mitre:"+t)
	}
	var obs []hiveObservable
	for _, ip := range a.SourceIPs {
		obs = append(obs, hiveObservable{DataType: "ip", Data: ip, Message: "source address of the request"})
	}
	if a.Actor != "" {
		// TheHive has no user data type; "other" with a tag is its convention.
		obs = append(obs, hiveObservable{DataType: "other", Data: a.Actor, Message: "Kubernetes identity", Tags: []string{"k8s-user"}})
	}
	sort.SliceStable(obs, func(i, j int) bool { return obs[i].DataType < obs[j].DataType })
	return hiveAlert{
		Type: "kubernetes-audit", Source: "palisade", SourceRef: a.ID,
		Title: truncate("["+severityName(a.Severity)+"] "+a.RuleName, 512), Description: d.String(),
		Severity: hiveSeverity(a.Severity), Date: a.Time.UnixMilli(), Tags: tags, TLP: 2, PAP: 2, Observables: obs,
	}
}

// postureHiveAlert is a posture alert as a TheHive alert: type
// kubernetes-posture, the object, fix and controls in the description,
// controls as tags. It has no observables: nobody acted, a state was found.
func postureHiveAlert(a *Alert) hiveAlert {
	p := a.Posture
	var d strings.Builder
	fmt.Fprintf(&d, "%s\n\n", firstNonEmpty(a.Message, a.RuleName))
	fmt.Fprintf(&d, "- **Check:** `%s`\n- **Cluster:** %s\n- **Object:** %s\n- **Finding:** `%s`\n", a.RuleID, orDash(a.Cluster), objectString(a), p.FindingID)
	for _, e := range p.Evidence {
		fmt.Fprintf(&d, "- **%s:** %s\n", e.Name, e.Value)
	}
	if p.Remediation != "" {
		fmt.Fprintf(&d, "\n**Remediation**\n%s\n", p.Remediation)
	}
	if c := controlsString(p.Controls); c != "" {
		fmt.Fprintf(&d, "\n**Controls:** %s\n", c)
	}
	tags := []string{"palisade", "source:posture", "check:" + a.RuleID}
	if a.Cluster != "" {
		tags = append(tags, "cluster:"+a.Cluster)
	}
	if p.Object.Namespace != "" {
		tags = append(tags, "namespace:"+p.Object.Namespace)
	}
	for _, c := range p.Controls {
		if c.Framework == mitreFramework {
			tags = append(tags, "mitre:"+c.ID)
		} else {
			tags = append(tags, "control:"+c.Framework+":"+c.ID)
		}
	}
	return hiveAlert{
		Type: "kubernetes-posture", Source: "palisade", SourceRef: a.ID,
		Title:       truncate("["+severityName(a.Severity)+"] "+a.RuleName+": "+objectString(a), 512),
		Description: d.String(), Severity: hiveSeverity(a.Severity), Date: a.Time.UnixMilli(), Tags: tags, TLP: 2, PAP: 2,
	}
}

var _ Sink = (*TheHive)(nil)
