package admission

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
)

// BreakGlassAnnotation on an object asks to admit it despite enforce
// violations; its value is the reason, kept in the log and audit trail.
const BreakGlassAnnotation = "palisade.dev/break-glass"

// breakGlass admits a denied request when its object carries the
// break-glass annotation and the requesting user is in a break-glass group.
// It reports whether it did. An annotation from anyone else is ignored with
// a warning: the annotation is not authority, the group is.
func (e *Engine) breakGlass(ctx context.Context, req *Request, resp *admissionv1.AdmissionResponse, bypassed []string) bool {
	reason, ok := req.Object.Meta.Annotations[BreakGlassAnnotation]
	if !ok {
		return false
	}
	user := req.Review.UserInfo.Username
	if strings.TrimSpace(reason) == "" {
		resp.Warnings = append(resp.Warnings, clip("palisade: break-glass annotation ignored: it must give a reason"))
		return false
	}
	if len(e.BreakGlassGroups) == 0 || !slices.ContainsFunc(req.Review.UserInfo.Groups, func(g string) bool { return slices.Contains(e.BreakGlassGroups, g) }) {
		e.logger().LogAttrs(ctx, slog.LevelWarn, "break-glass annotation ignored", slog.String("user", user),
			slog.String("namespace", req.Namespace), slog.String("name", req.Object.Ref.Name))
		resp.Warnings = append(resp.Warnings, clip(fmt.Sprintf("palisade: break-glass annotation ignored: %s is not in a break-glass group", user)))
		return false
	}
	e.Metrics.exception("break_glass")
	e.logger().LogAttrs(ctx, slog.LevelWarn, "break-glass used", slog.String("user", user), slog.String("reason", reason),
		slog.Any("policies", bypassed), slog.String("kind", req.Object.Ref.Kind), slog.String("namespace", req.Namespace), slog.String("name", req.Object.Ref.Name))
	resp.Warnings = append(resp.Warnings, clip("palisade: break-glass admitted despite "+strings.Join(bypassed, ", ")))
	if resp.AuditAnnotations == nil {
		resp.AuditAnnotations = map[string]string{}
	}
	resp.AuditAnnotations["break-glass"] = fmt.Sprintf("user=%s policies=%s reason=%s", user, strings.Join(bypassed, ","), reason)
	return true
}

// logDecision writes the decision log line of one review: who asked for
// what and the outcome, never the object's contents.
func (e *Engine) logDecision(ctx context.Context, ar *admissionv1.AdmissionRequest, resp *admissionv1.AdmissionResponse, violated []string, elapsed time.Duration) {
	l := e.logger()
	if !l.Enabled(ctx, slog.LevelInfo) {
		return
	}
	name := ar.Name
	l.LogAttrs(ctx, slog.LevelInfo, "admission decision",
		slog.String("uid", string(ar.UID)),
		slog.String("operation", string(ar.Operation)),
		slog.String("kind", ar.Kind.Kind),
		slog.String("namespace", ar.Namespace),
		slog.String("name", name),
		slog.String("user", ar.UserInfo.Username),
		slog.Bool("allowed", resp.Allowed),
		slog.Any("violated", violated),
		slog.Bool("break_glass", resp.AuditAnnotations["break-glass"] != ""),
		slog.Duration("duration", elapsed),
	)
}
