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
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/policy"
	"github.com/palisade-sec/palisade/internal/policyreport"
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

// maxWarning bounds a warning: each must be shorter, so kubectl shows it
// on one line.
const maxWarning = 120

// Violation is one reason a workload breaks a policy.
type Violation struct {
	Container string // empty for pod-level problems
	Image     string
	Message   string // user text: names the field and the fix, never a raw error
	// Notice marks a policy that could not decide and whose failure policy
	// admits: it becomes a warning in every mode, never a violation.
	Notice bool
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
	// BreakGlassGroups may admit a workload despite enforce violations by
	// annotating it; empty disables break-glass.
	BreakGlassGroups []string
	Now              func() time.Time
	Logger           *slog.Logger
	Metrics          *Metrics // nil records nothing
	// Reports receives warn- and audit-mode violations for PolicyReports
	// (nil: none). Denied objects are not reported: they do not exist.
	Reports ResultRecorder
	// Owners resolves owner chains, so that what controllers create from a
	// break-glass pod template inherits it; nil: nothing inherits.
	Owners *OwnerLookup
}

// ResultRecorder takes admission results for PolicyReports;
// *policyreport.Publisher implements it.
type ResultRecorder interface {
	Record(policyreport.Result)
}

// Request is what policies see: the admission request and the workload it
// carries, already decoded.
type Request struct {
	Review    *admissionv1.AdmissionRequest
	Object    *kube.Object
	Workload  *kube.Workload // nil when the object holds no pod spec
	Namespace string

	object map[string]any // Review.Object as decoded JSON, for CEL policies
	cel    *policy.Input  // built once for all CEL policies; see CELPolicy

	// The workload an UPDATE replaces, decoded on first use (oldWorkload).
	old     *kube.Workload
	oldErr  error
	oldDone bool
}

// severityOf is how severe a violation of p is in PolicyReports: the
// policy's own severity where it has one, else medium.
func severityOf(p Policy) finding.Severity {
	if s, ok := p.(interface{ Severity() finding.Severity }); ok {
		return s.Severity()
	}
	return finding.SeverityMedium
}

// judgesAnyKind reports whether p judges objects that hold no pod spec
// (CEL policies do; the image and pod security policies do not).
func judgesAnyKind(p Policy) bool {
	a, ok := p.(interface{ judgesAnyKind() bool })
	return ok && a.judgesAnyKind()
}

// Review decides one admission request, records it in the metrics and
// writes one decision log line.
func (e *Engine) Review(ctx context.Context, ar *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	start := time.Now()
	resp, violated := e.review(ctx, ar)
	elapsed := time.Since(start)
	e.Metrics.observe(elapsed.Seconds())
	e.logDecision(ctx, ar, resp, violated, elapsed)
	return resp
}

// review decides ar and returns the IDs of the policies it violated (in
// any mode, exceptions applied).
func (e *Engine) review(ctx context.Context, ar *admissionv1.AdmissionRequest) (*admissionv1.AdmissionResponse, []string) {
	resp := &admissionv1.AdmissionResponse{UID: ar.UID, Allowed: true}
	if slices.Contains(e.ExcludedNamespaces, ar.Namespace) || ar.Operation == admissionv1.Delete || ar.Operation == admissionv1.Connect {
		return resp, nil
	}
	req, err := decodeRequest(ctx, ar)
	if err != nil {
		resp.Allowed = false
		resp.Result = &metav1.Status{Code: 400, Reason: metav1.StatusReasonBadRequest, Message: "palisade: " + err.Error()}
		return resp, nil
	}
	var denials, violated, enforced []string
	for _, rule := range e.Rules {
		if req.Workload == nil && !judgesAnyKind(rule.Policy) {
			continue
		}
		id := rule.Policy.ID()
		vs, err := rule.Policy.Evaluate(ctx, req)
		if err != nil {
			e.Metrics.decision(id, resultError, rule.Mode)
			e.logger().LogAttrs(ctx, slog.LevelWarn, "policy could not decide", slog.String("policy", id), slog.Any("error", err), slog.Bool("fail_open", rule.FailOpen))
			if rule.FailOpen || rule.Mode != Enforce {
				resp.Warnings = append(resp.Warnings, clip(fmt.Sprintf("%s could not be checked; admitted (fail-open)", id)))
				continue
			}
			denials = append(denials, fmt.Sprintf("%s: could not be checked (%s); denied because the policy fails closed", id, userText(err)))
			violated = append(violated, id)
			enforced = append(enforced, id)
			continue
		}
		vs = e.notices(ctx, resp, id, rule.Mode, vs)
		all := len(vs)
		vs = e.unexcepted(req, id, vs)
		switch {
		case all == 0:
			e.Metrics.decision(id, resultPass, rule.Mode)
		case len(vs) == 0:
			e.Metrics.decision(id, resultExcepted, rule.Mode)
		default:
			e.Metrics.decision(id, resultFail, rule.Mode)
			violated = append(violated, id)
			if rule.Mode == Enforce {
				enforced = append(enforced, id)
			}
		}
		var key string
		if rule.Mode == Audit && len(vs) > 0 {
			// The API server prefixes the key with the webhook's name and
			// drops keys that are not qualified names: one "/" at most.
			key = strings.ReplaceAll(strings.TrimPrefix(id, "admission/"), "/", ".") + "-"
			if resp.AuditAnnotations == nil {
				resp.AuditAnnotations = map[string]string{}
			}
		}
		for i, v := range vs {
			text := describe(id, v)
			e.report(ar, req, rule, v, text)
			switch rule.Mode {
			case Enforce:
				denials = append(denials, text)
			case Warn:
				resp.Warnings = append(resp.Warnings, warning(id, v, text))
			case Audit:
				resp.AuditAnnotations[key+strconv.Itoa(i)] = text
			}
		}
	}
	if denials = e.breakGlass(ctx, req, resp, enforced, denials); len(denials) > 0 {
		resp.Allowed = false
		resp.Result = &metav1.Status{Code: 403, Reason: metav1.StatusReasonForbidden, Message: denialMessage(req, denials)}
	}
	return resp, violated
}

// report records a warn or audit violation for the namespace's
// PolicyReport; dry runs change nothing in the cluster, reports included.
func (e *Engine) report(ar *admissionv1.AdmissionRequest, req *Request, rule Rule, v Violation, text string) {
	mode := rule.Mode
	if e.Reports == nil || mode == Enforce || (ar.DryRun != nil && *ar.DryRun) {
		return
	}
	status := policyreport.Warn
	if mode == Audit {
		status = policyreport.Fail
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	props := map[string]string{"mode": string(mode), "operation": string(ar.Operation)}
	if v.Container != "" {
		props["container"] = v.Container
	}
	if v.Image != "" {
		props["image"] = v.Image
	}
	e.Reports.Record(policyreport.Result{
		// Rule names the container, so that each container's violation
		// is a result of its own (results are keyed by policy, rule and
		// resource).
		Policy: rule.Policy.ID(), Rule: v.Container, Message: text, Severity: severityOf(rule.Policy), Status: status, Time: now(),
		Resource: policyreport.Resource{APIVersion: req.Object.Ref.APIVersion, Kind: req.Object.Ref.Kind, Namespace: req.Namespace,
			Name: req.Object.Ref.Name},
		Properties: props,
	})
}

// notices turns the Notice entries of vs into warnings (logged and
// counted as errors of policyID) and returns the rest.
func (e *Engine) notices(ctx context.Context, resp *admissionv1.AdmissionResponse, policyID string, mode Mode, vs []Violation) []Violation {
	if !slices.ContainsFunc(vs, func(v Violation) bool { return v.Notice }) {
		return vs
	}
	var out []Violation
	for _, v := range vs {
		if !v.Notice {
			out = append(out, v)
			continue
		}
		e.Metrics.decision(policyID, resultError, mode)
		e.logger().LogAttrs(ctx, slog.LevelWarn, "policy could not decide", slog.String("policy", policyID), slog.String("detail", v.Message), slog.Bool("fail_open", true))
		resp.Warnings = append(resp.Warnings, clip(v.Message))
	}
	return out
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
	labels := req.Object.Meta.Labels
	if req.Workload != nil {
		labels = req.Workload.PodMeta.Labels
	}
	var out []Violation
	for _, v := range vs {
		f := finding.Finding{RuleID: policyID, Resource: finding.Resource{
			Namespace: req.Namespace, Kind: req.Object.Ref.Kind, Name: req.Object.Ref.Name, Container: v.Container, Image: v.Image,
		}}
		excepted := false
		for i := range e.Exceptions {
			x := &e.Exceptions[i]
			if x.Expired(now()) {
				// Counted and logged, so an expiry that starts denying is seen.
				if x.Matches(&f, labels) {
					e.Metrics.exception("expired")
					e.logger().Warn("admission exception expired", "exception", x.ID, "owner", x.Owner, "expired", x.Expires, "policy", policyID, "namespace", req.Namespace, "name", req.Object.Ref.Name)
				}
				continue
			}
			if x.Matches(&f, labels) {
				excepted = true
				e.Metrics.exception("exception")
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
	b.Grow(len(policyID) + len(": container ") + len(v.Container) + len(" ()") + len(v.Image) + len(": ") + len(v.Message))
	b.WriteString(policyID)
	if v.Container != "" {
		b.WriteString(": container ")
		b.WriteString(v.Container)
	}
	if v.Image != "" {
		b.WriteString(" (")
		b.WriteString(v.Image)
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(v.Message)
	return b.String()
}

func denialMessage(req *Request, denials []string) string {
	head := fmt.Sprintf("palisade denied %s %s/%s: ", req.Object.Ref.Kind, req.Namespace, req.Object.Ref.Name)
	return head + strings.Join(denials, "; ")
}

// warning is text as a warning: when it is too long for one, the image is
// named by its last path element ("api@sha256:0123456789ab…" rather than
// the registry path and the whole digest), so that what is wrong still fits.
func warning(policyID string, v Violation, text string) string {
	if len(text) >= maxWarning && v.Image != "" {
		v.Image = shortImage(v.Image)
		text = describe(policyID, v)
	}
	return clip(text)
}

// shortImage drops an image reference's registry and path, and shortens
// its digest to 12 hex digits.
func shortImage(image string) string {
	name, digest, pinned := strings.Cut(image, "@")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if !pinned {
		return name
	}
	if algo, hex, ok := strings.Cut(digest, ":"); ok && len(hex) > 12 {
		digest = algo + ":" + hex[:12] + "…"
	}
	return name + "@" + digest
}

// clip shortens s to under maxWarning bytes, cutting at a rune boundary.
func clip(s string) string {
	if len(s) < maxWarning {
		return s
	}
	cut := maxWarning - 1 - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
