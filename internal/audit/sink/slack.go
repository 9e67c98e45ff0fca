package sink

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// SlackOptions configures a Slack-compatible incoming webhook sink
// (Slack, Mattermost and Rocket.Chat accept the same text + blocks body).
type SlackOptions struct {
	Name   string
	URL    string // the incoming webhook URL; it is itself the credential
	Client *http.Client
	// PlaybookSteps is how many playbook steps to show (default 3).
	PlaybookSteps int
}

// Slack posts one message per alert: severity, rule, cluster, actor, target
// and the first playbook steps, so the person on call can start from the
// message. Incoming webhooks take one message per request.
type Slack struct{ opts SlackOptions }

// NewSlack builds a Slack sink.
func NewSlack(opts SlackOptions) (*Slack, error) {
	if opts.URL == "" {
		return nil, fmt.Errorf("slack sink %s: a url is required", opts.Name)
	}
	if opts.PlaybookSteps <= 0 {
		opts.PlaybookSteps = 3
	}
	if opts.Client == nil {
		opts.Client = ownClient()
	}
	return &Slack{opts: opts}, nil
}

// Name returns the sink's name.
func (s *Slack) Name() string { return s.opts.Name }

// Send posts each alert; a failure stops at that alert so the retry resends
// it and those after it (the ones before are sent again too: Slack cannot
// de-duplicate, which is the lesser evil than losing one).
func (s *Slack) Send(ctx context.Context, alerts []Alert) error {
	for i := range alerts {
		body, err := marshal(s.message(&alerts[i]))
		if err != nil {
			return err
		}
		if err := post(ctx, s.opts.Client, s.opts.Name, s.opts.URL, body, nil, nil); err != nil {
			return err
		}
	}
	return nil
}

type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type   string      `json:"type"`
	Text   *slackText  `json:"text,omitempty"`
	Fields []slackText `json:"fields,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

var severityEmoji = map[string]string{
	"critical": ":red_circle:", "high": ":large_orange_circle:", "medium": ":large_yellow_circle:",
	"low": ":large_blue_circle:", "info": ":white_circle:",
}

func (s *Slack) message(a *Alert) slackMessage {
	if a.IsPosture() {
		return postureSlackMessage(a)
	}
	sev := severityName(a.Severity)
	title := fmt.Sprintf("%s %s: %s", severityEmoji[sev], strings.ToUpper(sev), a.RuleName)
	target := targetString(a)
	m := slackMessage{
		Text: fmt.Sprintf("[%s] %s (cluster %s, actor %s)", sev, a.RuleName, orDash(a.Cluster), orDash(a.Actor)),
		Blocks: []slackBlock{
			{Type: "header", Text: &slackText{Type: "plain_text", Text: truncate(title, 150)}},
			{Type: "section", Fields: []slackText{
				{Type: "mrkdwn", Text: "*Rule*\n`" + a.RuleID + "`"},
				{Type: "mrkdwn", Text: "*Cluster*\n" + orDash(a.Cluster)},
				{Type: "mrkdwn", Text: "*Actor*\n" + orDash(a.Actor)},
				{Type: "mrkdwn", Text: "*Target*\n" + orDash(target)},
			}},
		},
	}
	if d := firstNonEmpty(a.Message, a.Description); d != "" {
		m.Blocks = append(m.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncate(d, 2900)}})
	}
	if len(a.Playbook) > 0 {
		var b strings.Builder
		b.WriteString("*First steps*")
		for i, st := range a.Playbook {
			if i == s.opts.PlaybookSteps {
				break
			}
			fmt.Fprintf(&b, "\n%d. %s", i+1, st.Title)
			if st.Command != "" {
				fmt.Fprintf(&b, ": `%s`", st.Command)
			}
		}
		m.Blocks = append(m.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncate(b.String(), 2900)}})
	}
	m.Blocks = append(m.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn",
		Text: fmt.Sprintf("Alert `%s` at %s, %d evidence event(s)", a.ID, a.Time.UTC().Format("2006-01-02 15:04:05Z"), len(a.Evidence))}})
	return m
}

// postureSlackMessage is the message of a posture alert: the check, the
// object, what is wrong, how to fix it and the controls it breaks, so the
// person on call can start from the message.
func postureSlackMessage(a *Alert) slackMessage {
	sev := severityName(a.Severity)
	title := fmt.Sprintf("%s %s: %s", severityEmoji[sev], strings.ToUpper(sev), a.RuleName)
	obj := objectString(a)
	m := slackMessage{
		Text: fmt.Sprintf("[%s] %s (cluster %s, %s)", sev, a.RuleName, orDash(a.Cluster), obj),
		Blocks: []slackBlock{
			{Type: "header", Text: &slackText{Type: "plain_text", Text: truncate(title, 150)}},
			{Type: "section", Fields: []slackText{
				{Type: "mrkdwn", Text: "*Check*\n`" + a.RuleID + "`"},
				{Type: "mrkdwn", Text: "*Cluster*\n" + orDash(a.Cluster)},
				{Type: "mrkdwn", Text: "*Object*\n" + obj},
				{Type: "mrkdwn", Text: "*Source*\nposture"},
			}},
		},
	}
	if a.Message != "" {
		m.Blocks = append(m.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncate(a.Message, 2900)}})
	}
	if r := a.Posture.Remediation; r != "" {
		m.Blocks = append(m.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncate("*Remediation*\n"+r, 2900)}})
	}
	if c := controlsString(a.Posture.Controls); c != "" {
		m.Blocks = append(m.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncate("*Controls*\n"+c, 2900)}})
	}
	m.Blocks = append(m.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn",
		Text: fmt.Sprintf("Alert `%s` at %s, finding `%s`", a.ID, a.Time.UTC().Format("2006-01-02 15:04:05Z"), a.Posture.FindingID)}})
	return m
}

// targetString renders "verb resource namespace/name" (or name alone for
// cluster-scoped objects).
func targetString(a *Alert) string {
	parts := []string{a.Verb, a.Target.Resource}
	switch {
	case a.Target.Namespace != "":
		parts = append(parts, a.Target.Namespace+"/"+a.Target.Name)
	case a.Target.Name != "":
		parts = append(parts, a.Target.Name)
	}
	return strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// truncate cuts s to n bytes at a rune boundary (Slack rejects long texts).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

var _ Sink = (*Slack)(nil)
