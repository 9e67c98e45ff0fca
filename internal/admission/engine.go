// Package admission is Palisade's validating admission webhook: it admits
// only workloads whose images are trusted (scanned and approved, from trusted
// registries, resolvable to a digest) and that meet Pod Security Standards
// and least-privilege policies. Each policy runs in enforce, warn or audit
// mode; exceptions are the shared config.Exception type.
package admission

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
)

// Mode is what a policy's violation does to a request.
type Mode string

// The modes.
const (
	// Enforce denies the request, naming container, image and rule.
	Enforce Mode = "enforce"
	// Warn admits it and returns warnings kubectl prints.
	Warn Mode = "warn"
	// Audit admits it and records audit annotations.
	Audit Mode = "audit"
)

// maxWarning is the API server's practical limit per warning; kubectl shows
// warnings one per line.
const maxWarning = 120

// Violation is one reason a workload breaks a policy.
type Violation struct {
	Container string // empty for pod-level problems
	Image     string
	Message   string // user text: names the field and the fix, never a raw error
}

// Policy judges one admission request.
type Policy interface {
	// ID is stable and appears in messages, metrics and exceptions
	// ("admission/image-trust").
	ID() string
	// Evaluate returns the workload's violations. An error means the policy
	// could not decide (registry unreachable, …); the engine then follows the
	// policy's failure mode.
	Evaluate(ctx context.Context, req *Request) ([]Violation, error)
}

// Rule is a policy with its mode and failure behaviour.
type Rule struct {
	Policy Policy
	Mode   Mode
	// FailOpen admits when the policy cannot decide; otherwise the request
	// is denied (for Enforce) — the safe default for image trust.
	FailOpen bool
}

// Engine evaluates rules against admission requests.
type Engine struct {
	Rules []Rule
	// ExcludedNamespaces are never judged: kube-system and Palisade's own,
	// so a broken policy cannot stop the cluster from healing itself.
	ExcludedNamespaces []string
	Exceptions         []config.Exception
	Now                func() time.Time
	Logger             *slog.Logger
}

// Request is what policies see: the admission request and the workload it
// carries, already decoded.
type Request struct {
	Review    *admissionv1.AdmissionRequest
	Object    *kube.Object
	Workload  *kube.Workload // nil when the object holds no pod spec
	Namespace string
}

// Review decides one admission request.
func (e *Engine) Review(ctx context.Context, ar *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	resp := &admissionv1.AdmissionResponse{UID: ar.UID, Allowed: true}
	if slices.Contains(e.ExcludedNamespaces, ar.Namespace) || ar.Operation == admissionv1.Delete || ar.Operation == admissionv1.Connect {
		return resp
	}
	req, err := decodeRequest(ctx, ar)
	if err != nil {
		resp.Allowed = false
		resp.Result = &metav1.Status{Code: 400, Reason: metav1.StatusReasonBadRequest, Message: "palisade: " + err.Error()}
		return resp
	}
	if req.Workload == nil {
		return resp
	}
	var denials []string
	for _, rule := range e.Rules {
		id := rule.Policy.ID()
		vs, err := rule.Policy.Evaluate(ctx, req)
		if err != nil {
			e.logger().LogAttrs(ctx, slog.LevelWarn, "policy could not decide", slog.String("policy", id), slog.Any("error", err), slog.Bool("fail_open", rule.FailOpen))
			if rule.FailOpen || rule.Mode != Enforce {
				resp.Warnings = append(resp.Warnings, clip(fmt.Sprintf("%s could not be checked; admitted (fail-open)", id)))
				continue
			}
			denials = append(denials, fmt.Sprintf("%s: could not be checked (%s); denied because the policy fails closed", id, userText(err)))
			continue
		}
		vs = e.unexcepted(req, id, vs)
		for i, v := range vs {
			text := describe(id, v)
			switch rule.Mode {
			case Enforce:
				denials = append(denials, text)
			case Warn:
				resp.Warnings = append(resp.Warnings, clip(text))
			case Audit:
				if resp.AuditAnnotations == nil {
					resp.AuditAnnotations = map[string]string{}
				}
				resp.AuditAnnotations[fmt.Sprintf("%s-%d", strings.TrimPrefix(id, "admission/"), i)] = text
			}
		}
	}
	if len(denials) > 0 {
		resp.Allowed = false
		resp.Result = &metav1.Status{Code: 403, Reason: metav1.StatusReasonForbidden, Message: denialMessage(req, denials)}
	}
	return resp
}

// unexcepted drops violations an unexpired exception covers.
func (e *Engine) unexcepted(req *Request, policyID string, vs []Violation) []Violation {
	if len(e.Exceptions) == 0 || len(vs) == 0 {
		return vs
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	labels := req.Workload.PodMeta.Labels
	var out []Violation
	for _, v := range vs {
		f := finding.Finding{RuleID: policyID, Resource: finding.Resource{
			Namespace: req.Namespace, Kind: req.Object.Ref.Kind, Name: req.Object.Ref.Name, Container: v.Container, Image: v.Image,
		}}
		excepted := false
		for i := range e.Exceptions {
			x := &e.Exceptions[i]
			if !x.Expired(now()) && x.Matches(&f, labels) {
				excepted = true
				e.logger().Info("admission exception used", "exception", x.ID, "owner", x.Owner, "policy", policyID, "namespace", req.Namespace, "name", req.Object.Ref.Name)
				break
			}
		}
		if !excepted {
			out = append(out, v)
		}
	}
	return out
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

func describe(policyID string, v Violation) string {
	var b strings.Builder
	b.WriteString(policyID)
	if v.Container != "" {
		b.WriteString(": container " + v.Container)
	}
	if v.Image != "" {
		b.WriteString(" (" + v.Image + ")")
	}
	b.WriteString(": " + v.Message)
	return b.String()
}

func denialMessage(req *Request, denials []string) string {
	head := fmt.Sprintf("palisade denied %s %s/%s: ", req.Object.Ref.Kind, req.Namespace, req.Object.Ref.Name)
	return head + strings.Join(denials, "; ")
}

// clip shortens s to maxWarning bytes, cutting at a rune boundary.
func clip(s string) string {
	if len(s) <= maxWarning {
		return s
	}
	cut := maxWarning - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
