// Package sink delivers alerts to where people look at them: a signed
// JSON webhook, Slack-compatible incoming webhooks, Prometheus Alertmanager,
// a JSON lines file and TheHive. Alerts come from two sources, audit
// detection and continuous posture (see Alert.Source), in one message
// format, so a receiver routes both through the same endpoint. Delivery is driven from the bus (see
// Forwarder): every alert is retried with back-off and, when a sink keeps
// failing, recorded as a dead letter, so no alert is ever dropped silently.
package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/palisade-sec/palisade/internal/audit"
	"github.com/palisade-sec/palisade/internal/finding"
)

// Sink delivers alerts somewhere. Send delivers all of alerts or returns an
// error; it may be called again with the same alerts after an error, so
// destinations that can de-duplicate are given the alert ID to do so.
type Sink interface {
	// Name is the sink's configured name; it labels metrics and dead letters.
	Name() string
	Send(ctx context.Context, alerts []Alert) error
}

// The sources of an alert (Alert.Source).
const (
	SourceAudit   = "audit"   // raised by audit detection from API server events
	SourcePosture = "posture" // raised by continuous posture from a cluster's state
)

// Alert is an alert as forwarded: the detection plus the stable ID the
// store knows it by, which lets receivers de-duplicate redeliveries.
//
// The audit fields are common to both sources. A posture alert fills
// ruleId (the check ID), ruleName (the check's title), kind ("check"),
// severity, message, time, cluster and mitre, leaves actor, verb, target
// and evidence empty, and carries the rest in Posture.
type Alert struct {
	ID string `json:"id"`
	// Source is SourceAudit or SourcePosture. Messages put on the bus
	// before posture alerts were forwarded have none: they are audit
	// alerts, and sinks write them with SourceAudit.
	Source string `json:"source"`
	audit.Alert
	// Posture is set on posture alerts only.
	Posture *PostureDetail `json:"posture,omitempty"`
}

// IsPosture reports whether a was raised by continuous posture and carries
// its detail; a posture message without it (hand-made, or damaged) is
// rendered with the common fields only rather than dropped.
func (a *Alert) IsPosture() bool { return a.Source == SourcePosture && a.Posture != nil }

// withSource returns alerts with an empty Source set to SourceAudit,
// copying the slice only when one is changed.
func withSource(alerts []Alert) []Alert {
	for i := range alerts {
		if alerts[i].Source == "" {
			out := slices.Clone(alerts)
			for j := range out {
				if out[j].Source == "" {
					out[j].Source = SourceAudit
				}
			}
			return out
		}
	}
	return alerts
}

// Secret is a credential (an HMAC key, an API key). It never appears in
// logs or error messages.
type Secret string

// LogValue hides the secret from structured logs.
func (Secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// String hides the secret from fmt.
func (Secret) String() string { return "REDACTED" }

// LoadSecret reads a secret from the environment variable env or, when env
// is empty, from file (trailing newlines trimmed). getenv is os.Getenv in
// production; it is a parameter so tests need no process-wide setters.
func LoadSecret(getenv func(string) string, env, file string) (Secret, error) {
	switch {
	case env != "" && file != "":
		return "", errors.New("give the secret as an environment variable or a file, not both")
	case env != "":
		v := getenv(env)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is empty or unset", env)
		}
		return Secret(v), nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read secret file: %w", err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", fmt.Errorf("secret file %s is empty", file)
		}
		return Secret(v), nil
	}
	return "", nil
}

// StatusError is a non-2xx answer from a sink's endpoint.
type StatusError struct {
	Sink string
	Code int
	Body string // the start of the response body, for the log
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("sink %s: HTTP %d: %s", e.Sink, e.Code, e.Body)
}

// ownClient is a sink's client when its options give none: its own
// connections (not http.DefaultTransport's, which anything in the process
// may close) and a deadline, so a receiver that never answers cannot hold
// a delivery forever.
func ownClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
}

// post sends body to url with the headers and fails on a non-2xx answer.
// accept, when set, may declare other statuses a success (TheHive answers
// an already-known alert with an error that means "delivered before").
func post(ctx context.Context, c *http.Client, name, url string, body []byte, hdr http.Header, accept func(code int, body string) bool) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sink %s: build request: %w", name, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		// url.Error carries the URL only, never headers, so no secret leaks.
		return fmt.Errorf("sink %s: %w", name, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	if accept != nil && accept(resp.StatusCode, string(snippet)) {
		return nil
	}
	return &StatusError{Sink: name, Code: resp.StatusCode, Body: strings.TrimSpace(string(snippet))}
}

// severityName is the lowercase severity word sinks print.
func severityName(s finding.Severity) string { return strings.ToLower(s.String()) }

// marshal encodes v as compact JSON; the types here always encode.
func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode payload: %w", err)
	}
	return b, nil
}
