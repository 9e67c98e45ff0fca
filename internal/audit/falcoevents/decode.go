// Package falcoevents makes Falco's runtime alerts a second event stream
// beside the Kubernetes audit log. Falco (json_output with http_output, or
// Falcosidekick's webhook output) POSTs each alert to palisade serve; the
// receiver here turns it into an event of the audit schema — source
// "falco", verb "falco", target the pod (namespace/name) and the
// container, image and process details in the request object — and makes it
// durable on the bus like an audit batch. The detection pipeline then sees
// control-plane steps and what happened inside the containers in one
// stream, which is what lets a sequence join "privileged pod created" with
// "shell spawned in that pod".
package falcoevents

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/palisade-sec/palisade/internal/audit"
)

// Alert is one Falco alert in its JSON output format.
type Alert struct {
	Output       string         `json:"output"`
	Priority     string         `json:"priority"`
	Rule         string         `json:"rule"`
	Time         string         `json:"time"`
	OutputFields map[string]any `json:"output_fields"`
	Source       string         `json:"source,omitempty"`   // "syscall", "k8s_audit", a plugin's source
	Tags         []string       `json:"tags,omitempty"`     // Falco 0.31+
	Hostname     string         `json:"hostname,omitempty"` // Falco 0.31+
	UUID         string         `json:"uuid,omitempty"`     // Falco 0.36+

	raw []byte // the alert as received, for a content-derived ID
	t   time.Time
}

// Workload is where in the cluster an alert happened.
type Workload struct {
	Namespace     string `json:"namespace,omitempty"`
	Pod           string `json:"pod,omitempty"`
	ContainerID   string `json:"containerID,omitempty"`
	ContainerName string `json:"containerName,omitempty"`
	Image         string `json:"image,omitempty"`
}

// The priorities Falco writes, lowercased ("informational" is also "info").
var priorities = map[string]bool{"emergency": true, "alert": true, "critical": true, "error": true,
	"warning": true, "notice": true, "informational": true, "info": true, "debug": true}

// MaxAlerts bounds the alerts one request may carry.
const MaxAlerts = 10_000

// Decode reads one or more Falco alerts: a JSON object (what http_output
// sends), a stream of them (JSON lines), or a JSON array. Errors name the
// alert by its position.
func Decode(body []byte) ([]Alert, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, errors.New("empty body: want a Falco alert (JSON object)")
	}
	var raws []json.RawMessage
	if body[0] == '[' {
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, fmt.Errorf("decode alert array: %w", err)
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(body))
		for {
			var r json.RawMessage
			err := dec.Decode(&r)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("alert %d: %w", len(raws)+1, err)
			}
			raws = append(raws, r)
			if len(raws) > MaxAlerts {
				return nil, fmt.Errorf("more than %d alerts in one request", MaxAlerts)
			}
		}
	}
	if len(raws) > MaxAlerts {
		return nil, fmt.Errorf("more than %d alerts in one request", MaxAlerts)
	}
	out := make([]Alert, 0, len(raws))
	for i, r := range raws {
		a, err := decodeOne(r)
		if err != nil {
			return nil, fmt.Errorf("alert %d: %w", i+1, err)
		}
		out = append(out, a)
	}
	return out, nil
}

func decodeOne(r json.RawMessage) (Alert, error) {
	var a Alert
	if len(r) == 0 || r[0] != '{' {
		return a, errors.New("want a JSON object")
	}
	// UseNumber keeps nanosecond timestamps such as evt.time exact.
	dec := json.NewDecoder(bytes.NewReader(r))
	dec.UseNumber()
	if err := dec.Decode(&a); err != nil {
		return a, err
	}
	if a.Rule == "" {
		return a, errors.New(`"rule" is required`)
	}
	if a.Priority != "" && !priorities[strings.ToLower(a.Priority)] {
		return a, fmt.Errorf(`"priority" %q: want a Falco priority (Emergency … Debug)`, a.Priority)
	}
	t, err := time.Parse(time.RFC3339Nano, a.Time)
	if err != nil {
		return a, fmt.Errorf(`"time" %q: want RFC 3339`, a.Time)
	}
	a.t, a.raw = t.UTC(), r
	return a, nil
}

// field returns an output field as a string; Falco writes "<NA>" or null
// for values it could not resolve, which count as absent.
func (a *Alert) field(name string) string {
	v, ok := a.OutputFields[name]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		s = fmt.Sprint(v)
	}
	if s == "<NA>" || s == "N/A" {
		return ""
	}
	return s
}

// Workload returns the alert's pod and container identity.
func (a *Alert) Workload() Workload {
	w := Workload{
		Namespace: a.field("k8s.ns.name"), Pod: a.field("k8s.pod.name"),
		ContainerID: a.field("container.id"), ContainerName: a.field("container.name"),
		Image: a.field("container.image.repository"),
	}
	if tag := a.field("container.image.tag"); tag != "" && w.Image != "" {
		w.Image += ":" + tag
	}
	if w.ContainerID == "host" {
		w.ContainerID = "" // Falco's name for "not in a container"
	}
	return w
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F-]{8,64}$`)

// ID is the alert's event ID: "falco-" and Falco's uuid when it sent one,
// else a hash of the alert as received, so a resent alert has the same ID
// and is stored once.
func (a *Alert) ID() string {
	if uuidPattern.MatchString(a.UUID) {
		return "falco-" + strings.ToLower(a.UUID)
	}
	sum := sha256.Sum256(a.raw)
	return "falco-" + hex.EncodeToString(sum[:16])
}

// Verb is the verb of every Falco event.
const Verb = "falco"

// Event renders the alert in the audit event schema (see the package doc).
func (a *Alert) Event() audit.K8sEvent {
	w := a.Workload()
	user := "system:falco"
	if a.Hostname != "" {
		user += ":" + a.Hostname
	}
	ts := a.t.Format(time.RFC3339Nano)
	e := audit.K8sEvent{
		Kind: "Event", APIVersion: "audit.k8s.io/v1", Level: "Metadata",
		AuditID: a.ID(), Stage: "ResponseComplete", Verb: Verb,
		User: audit.UserInfo{Username: user}, UserAgent: "falco",
		RequestReceivedTimestamp: ts, StageTimestamp: ts,
		Annotations: map[string]string{"falco.org/rule": a.Rule, "falco.org/priority": a.Priority},
		RequestObject: map[string]any{
			"kind": "FalcoAlert", "rule": a.Rule, "priority": a.Priority, "output": a.Output,
			"source": a.Source, "tags": stringsAny(a.Tags), "hostname": a.Hostname,
			"workload": map[string]any{"namespace": w.Namespace, "pod": w.Pod, "containerID": w.ContainerID,
				"containerName": w.ContainerName, "image": w.Image},
			"outputFields": jsonSafe(a.OutputFields),
		},
	}
	if w.Pod != "" || w.Namespace != "" {
		e.ObjectRef = &audit.ObjectReference{Resource: "pods", Namespace: w.Namespace, Name: w.Pod, APIVersion: "v1"}
	}
	return e
}

func stringsAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// jsonSafe returns the output fields as CEL can read them: nil maps
// become empty ones.
func jsonSafe(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
