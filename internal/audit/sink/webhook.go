package sink

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a signed webhook delivery.
const (
	SignatureHeader = "X-Palisade-Signature" // "sha256=<hex HMAC-SHA256>"
	TimestampHeader = "X-Palisade-Timestamp" // Unix seconds
)

// WebhookOptions configures a JSON webhook sink.
type WebhookOptions struct {
	Name   string
	URL    string
	Secret Secret // HMAC key; empty sends unsigned deliveries
	Client *http.Client
	Now    func() time.Time
}

// Webhook POSTs {"alerts":[…]} to a URL. With a secret, each delivery
// carries X-Palisade-Timestamp and X-Palisade-Signature: the HMAC-SHA256 of
// "<timestamp>.<body>", so a receiver can check both origin and freshness
// (signing the timestamp stops a captured delivery being replayed later).
type Webhook struct{ opts WebhookOptions }

// NewWebhook builds a webhook sink.
func NewWebhook(opts WebhookOptions) (*Webhook, error) {
	if opts.URL == "" {
		return nil, fmt.Errorf("webhook sink %s: a url is required", opts.Name)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Client == nil {
		opts.Client = ownClient()
	}
	return &Webhook{opts: opts}, nil
}

// Name returns the sink's name.
func (w *Webhook) Name() string { return w.opts.Name }

// WebhookPayload is the body of a webhook delivery.
type WebhookPayload struct {
	Alerts []Alert `json:"alerts"`
}

// Send delivers alerts in one request.
func (w *Webhook) Send(ctx context.Context, alerts []Alert) error {
	body, err := marshal(WebhookPayload{Alerts: withSource(alerts)})
	if err != nil {
		return err
	}
	hdr := http.Header{}
	if w.opts.Secret != "" {
		ts := strconv.FormatInt(w.opts.Now().Unix(), 10)
		hdr.Set(TimestampHeader, ts)
		hdr.Set(SignatureHeader, Sign(w.opts.Secret, ts, body))
	}
	return post(ctx, w.opts.Client, w.opts.Name, w.opts.URL, body, hdr, nil)
}

// Sign returns the signature header value for a delivery.
func Sign(secret Secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a delivery's signature and that its timestamp is within
// maxSkew of now; receivers written in Go can call it as is.
func Verify(secret Secret, timestamp, signature string, body []byte, now time.Time, maxSkew time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%s %q: want Unix seconds", TimestampHeader, timestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > maxSkew || d < -maxSkew {
		return fmt.Errorf("%s is %s away from now (allowed %s)", TimestampHeader, d.Round(time.Second), maxSkew)
	}
	if !strings.HasPrefix(signature, "sha256=") {
		return fmt.Errorf("%s: want sha256=<hex>", SignatureHeader)
	}
	if !hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature)) {
		return errors.New("signature does not match")
	}
	return nil
}

var _ Sink = (*Webhook)(nil)
