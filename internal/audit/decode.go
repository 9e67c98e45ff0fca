package audit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Limits on what one input may make the decoder hold, so that hostile or
// broken input cannot exhaust memory.
const (
	maxLine       = 16 << 20 // one JSON line or record
	maxInflated   = 64 << 20 // one gzip payload, decompressed
	maxNesting    = 4        // envelopes inside envelopes
	maxErrorsKept = 100      // per-record errors kept in Stats
)

// Stats counts what Decode saw.
type Stats struct {
	Events  int // audit events emitted
	Skipped int // records that are not audit events (other log streams, control messages)
	// Errors are per-record errors (the first maxErrorsKept); ErrorCount
	// counts all of them. Decode goes on after a bad record.
	Errors     []error
	ErrorCount int
}

func (s *Stats) addError(err error) {
	s.ErrorCount++
	if len(s.Errors) < maxErrorsKept {
		s.Errors = append(s.Errors, err)
	}
}

// RecordError is a record that could not be decoded.
type RecordError struct {
	Source string
	Line   int // 1-based line of a JSON-lines input; 0 when not line-based
	Err    error
}

func (e *RecordError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Source, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Source, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// decoder holds the state of one Decode call.
type decoder struct {
	src   Source
	now   func() time.Time
	emit  func(*Event) error
	stats Stats
	line  int
	// fast decodes plain events; nil means encoding/json only.
	fast *fastDecoder
	opts DecodeOptions
	// spare is an Event the fast decoder may fill, kept when it gave up.
	spare *Event
}

// errEmit wraps an error returned by the emit callback, which ends Decode.
type errEmit struct{ err error }

func (e errEmit) Error() string { return e.err.Error() }

// Decode reads audit events from r in any supported format, detected per
// record: audit.k8s.io Event JSON lines (--audit-log-path), EventList
// (webhook batches), EKS CloudWatch Logs subscription records (raw, gzip'd,
// or inside Firehose records or a Lambda "awslogs" event), GKE Cloud Logging
// LogEntries (also inside Pub/Sub push messages) and AKS diagnostic
// records. It calls emit for each event, in input order, and stops at the
// first error emit returns. A record that does not decode is counted in
// Stats and skipped; Decode returns an error only when the input as a whole
// cannot be read, ctx ends, or emit fails. now stamps the ingest time.
func Decode(ctx context.Context, r io.Reader, src Source, now func() time.Time, emit func(*Event) error) (Stats, error) {
	return DecodeWith(ctx, r, src, now, DecodeOptions{}, emit)
}

// DecodeOptions tune how Decode spends CPU; the events, their order and
// the Stats are the same whatever they say (except that, when emit fails or
// ctx ends, the counts may include records of batches already decoded).
type DecodeOptions struct {
	// Workers, when above 1, decode and normalize JSON-lines input on that
	// many goroutines, in batches, while emit still sees every event in
	// input order on the calling goroutine.
	Workers int
	// Prepare, when set, runs on each event on the worker that decoded it,
	// before emit sees it: the stateless, CPU-heavy part of processing
	// (Engine.Prepare evaluates rule conditions). It must not keep e.
	Prepare func(e *Event)
	// plain decodes with encoding/json only: the reference the fast
	// decoder is tested against.
	plain bool
}

// DecodeWith is Decode with options.
func DecodeWith(ctx context.Context, r io.Reader, src Source, now func() time.Time, opts DecodeOptions, emit func(*Event) error) (Stats, error) {
	d := &decoder{src: src, now: now, emit: emit, opts: opts}
	if !opts.plain {
		d.fast = newFastDecoder()
	}
	err := d.run(ctx, r)
	var ee errEmit
	if errors.As(err, &ee) {
		return d.stats, ee.err
	}
	return d.stats, err
}

func (d *decoder) run(ctx context.Context, r io.Reader) error {
	size := 64 << 10
	if l, ok := r.(interface{ Len() int }); ok && l.Len() < size {
		// One record from the bus: no need for a 64 KiB buffer each time.
		size = max(l.Len(), 16)
	}
	br := bufio.NewReaderSize(r, size)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("read gzip stream of %s: %w", d.src.Name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	first, err := readLine(br)
	if err != nil && err != io.EOF {
		return fmt.Errorf("read %s: %w", d.src.Name, err)
	}
	if t := bytes.TrimSpace(first); len(t) > 0 && (json.Valid(t) || isBase64(t)) {
		if d.opts.Workers > 1 {
			return d.parallelLines(ctx, br, first)
		}
		return d.lines(ctx, br, first)
	}
	// Not one record per line: a pretty-printed document or a stream of them.
	dec := json.NewDecoder(io.MultiReader(bytes.NewReader(first), br))
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("decode %s at byte %d: %w", d.src.Name, dec.InputOffset(), err)
		}
		if err := d.value(raw, d.src, 0); err != nil {
			if _, ok := err.(errEmit); ok {
				return err
			}
			d.stats.addError(&RecordError{Source: d.src.Name, Err: err})
		}
	}
}

// lines decodes one JSON value per line, starting with first.
func (d *decoder) lines(ctx context.Context, br *bufio.Reader, first []byte) error {
	line := first
	for n := 1; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			if err := d.value(t, d.src, 0); err != nil {
				if _, ok := err.(errEmit); ok {
					return err
				}
				d.stats.addError(&RecordError{Source: d.src.Name, Line: n, Err: err})
			}
		}
		var err error
		line, err = readLine(br)
		if err == io.EOF && len(line) == 0 {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("read %s line %d: %w", d.src.Name, n+1, err)
		}
	}
}

// readLine reads one line of at most maxLine bytes, without the newline.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > maxLine {
			return nil, fmt.Errorf("line longer than %d bytes", maxLine)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == nil {
			buf = buf[:len(buf)-1]
		}
		return buf, err
	}
}

// envelope is every top-level shape Decode understands, decoded in one
// pass: an audit Event's fields plus those of the envelopes.
type envelope struct {
	K8sEvent
	Items []json.RawMessage `json:"items"` // EventList

	MessageType string                 `json:"messageType"` // CloudWatch Logs subscription
	LogGroup    string                 `json:"logGroup"`
	LogStream   string                 `json:"logStream"`
	LogEvents   []cwLogEvent           `json:"logEvents"`
	AWSLogs     *struct{ Data string } `json:"awslogs"` // Lambda subscription event

	Records  []json.RawMessage `json:"records"`  // Firehose request, Azure Event Hub body
	RecordID string            `json:"recordId"` // Firehose record
	Data     string            `json:"data"`

	Category   string `json:"category"` // Azure diagnostic record
	ResourceID string `json:"resourceId"`
	Properties *struct {
		Log json.RawMessage `json:"log"` // a string holding the event; tolerated: the event itself
	} `json:"properties"`

	ProtoPayload json.RawMessage `json:"protoPayload"` // GKE LogEntry
	Message      json.RawMessage `json:"message"`      // Pub/Sub push request
}

type cwLogEvent struct {
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

// value decodes one JSON value (object or array) of any supported shape.
func (d *decoder) value(raw []byte, src Source, depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("envelopes nested deeper than %d", maxNesting)
	}
	raw = bytes.TrimSpace(raw)
	if isBase64(raw) {
		// A line of base64: a Firehose or Kinesis record's data, or a
		// Pub/Sub message's, saved as is.
		return d.packed(string(raw), d.src, depth)
	}
	if len(raw) > 0 && raw[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(raw, &arr); err != nil {
			return fmt.Errorf("decode JSON array: %w", err)
		}
		for _, v := range arr {
			if err := d.value(v, src, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if d.fast != nil && len(raw) > 0 && raw[0] == '{' {
		// Decoded straight into the event that is emitted; a record the
		// fast path cannot take leaves the event for the next one.
		if d.spare == nil {
			d.spare = new(Event)
		}
		e := d.spare
		ev := &e.Raw
		if d.fast.event(raw, ev) && ev.Kind != "EventList" &&
			(ev.Kind == "Event" || ev.AuditID != "" || (ev.Verb != "" && ev.Stage != "")) {
			d.spare = nil
			return d.emitRaw(e, src)
		}
		*e = Event{}
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("decode JSON record: %w", err)
	}
	switch {
	case env.Kind == "EventList" || env.Items != nil:
		for i, item := range env.Items {
			e := new(Event)
			if d.fast != nil && d.fast.event(item, &e.Raw) {
				if err := d.emitRaw(e, src); err != nil {
					return err
				}
				continue
			}
			e.Raw = K8sEvent{}
			if err := json.Unmarshal(item, &e.Raw); err != nil {
				return fmt.Errorf("decode EventList item %d: %w", i, err)
			}
			if err := d.emitRaw(e, src); err != nil {
				return err
			}
		}
		return nil
	case env.MessageType != "":
		return d.cloudWatch(&env, withProvider(src, ProviderEKS))
	case env.AWSLogs != nil:
		return d.packed(env.AWSLogs.Data, withProvider(src, ProviderEKS), depth)
	case env.Records != nil:
		for _, rec := range env.Records {
			if err := d.value(rec, src, depth+1); err != nil {
				return err
			}
		}
		return nil
	case env.RecordID != "" && env.Data != "":
		return d.packed(env.Data, withProvider(src, ProviderEKS), depth)
	case env.Category != "":
		return d.azure(&env, withProvider(src, ProviderAKS))
	case env.ProtoPayload != nil:
		return d.gke(raw, withProvider(src, ProviderGKE))
	case len(env.Message) > 0 && env.Message[0] == '{':
		var m struct{ Data string }
		if err := json.Unmarshal(env.Message, &m); err != nil || m.Data == "" {
			return fmt.Errorf("decode Pub/Sub message: no data")
		}
		return d.packed(m.Data, withProvider(src, ProviderGKE), depth)
	case env.Kind == "Event" || env.AuditID != "" || (env.Verb != "" && env.Stage != ""):
		return d.event(&env.K8sEvent, src)
	case env.Kind == "":
		if bytes.Contains(raw, []byte(`"logName"`)) {
			d.stats.Skipped++ // a LogEntry without an AuditLog payload
			return nil
		}
	}
	return fmt.Errorf("unrecognized record (kind %q): not an audit event or a known envelope", env.Kind)
}

// isBase64 reports whether b looks like standard base64 (and so not like
// JSON, which always contains a quote, brace or bracket).
func isBase64(b []byte) bool {
	if len(b) < 4 || len(b)%4 != 0 {
		return false
	}
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

func withProvider(src Source, p Provider) Source {
	if src.Provider == "" {
		src.Provider = p
	}
	return src
}

// packed decodes base64 data that holds (possibly gzip'd) JSON: Firehose
// records, Lambda awslogs events, Pub/Sub messages.
func (d *decoder) packed(data string, src Source, depth int) error {
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return fmt.Errorf("decode base64 payload: %w", err)
	}
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("open gzip payload: %w", err)
		}
		b, err = io.ReadAll(io.LimitReader(zr, maxInflated+1))
		if err != nil {
			return fmt.Errorf("inflate gzip payload: %w", err)
		}
		if len(b) > maxInflated {
			return fmt.Errorf("gzip payload inflates beyond %d bytes", maxInflated)
		}
	}
	// A Firehose record may hold several JSON documents back to back.
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("decode payload JSON: %w", err)
		}
		if err := d.value(raw, src, depth+1); err != nil {
			return err
		}
	}
}

// event normalizes and emits one event.
func (d *decoder) event(ev *K8sEvent, src Source) error {
	return d.emitRaw(&Event{Raw: *ev}, src)
}

// emitRaw normalizes e from its Raw and emits it.
func (d *decoder) emitRaw(e *Event, src Source) error {
	d.stats.Events++
	var now time.Time
	if d.now != nil {
		now = d.now()
	}
	normalizeRaw(e, src, now)
	if err := d.emit(e); err != nil {
		return errEmit{err}
	}
	return nil
}
