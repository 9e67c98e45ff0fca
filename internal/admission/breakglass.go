package admission

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/palisade-sec/palisade/internal/kube"
)

// BreakGlassAnnotation on an object asks to admit it despite enforce
// violations; its value is the reason, kept in the log and audit trail. On
// a workload it belongs on the pod template, so that the objects the
// controllers create from it carry it too.
const BreakGlassAnnotation = "palisade.dev/break-glass"

// breakGlass applies break-glass to a request whose enforce policies gave
// denials (bypassed are those policies' IDs) and returns the denials that
// remain: none when break-glass admits it. The annotation is not
// authority; the requester is:
//
//   - a member of a break-glass group admits the object carrying it;
//   - a kube-controller-manager controller admits an object it creates from
//     an owner whose pod template carries it (see inherit);
//   - anyone else's annotation is ignored, and on a pod template it is
//     refused outright: a template annotation is what controllers later
//     inherit, so it must only ever be written by a break-glass group.
func (e *Engine) breakGlass(ctx context.Context, req *Request, resp *admissionv1.AdmissionResponse, bypassed, denials []string) []string {
	reason, ok, onTemplate := breakGlassReason(req)
	if !ok {
		return denials
	}
	user := req.Review.UserInfo.Username
	if strings.TrimSpace(reason) == "" {
		if len(denials) > 0 {
			resp.Warnings = append(resp.Warnings, clip("palisade: break-glass annotation ignored: it must give a reason"))
		}
		return denials
	}
	if len(e.BreakGlassGroups) > 0 && slices.ContainsFunc(req.Review.UserInfo.Groups, func(g string) bool { return slices.Contains(e.BreakGlassGroups, g) }) {
		if len(denials) > 0 {
			e.admitBreakGlass(ctx, req, resp, bypassed, reason, "")
		}
		return nil
	}
	if len(e.BreakGlassGroups) > 0 {
		if kinds, ok := controllerOwnerKinds(user); ok {
			return e.inheritedBreakGlass(ctx, req, resp, kinds, bypassed, denials, reason, onTemplate)
		}
	}
	if len(denials) > 0 {
		e.logger().LogAttrs(ctx, slog.LevelWarn, "break-glass annotation ignored", slog.String("user", user),
			slog.String("namespace", req.Namespace), slog.String("name", req.Object.Ref.Name))
		resp.Warnings = append(resp.Warnings, clip(fmt.Sprintf("palisade: break-glass annotation ignored: %s is not in a break-glass group", user)))
	}
	if onTemplate && len(e.BreakGlassGroups) > 0 && !templateUnchanged(req, reason) {
		return append(denials, fmt.Sprintf("%s on the pod template may be set only by a break-glass group (%s is in none): remove it", BreakGlassAnnotation, user))
	}
	return denials
}

// inheritedBreakGlass decides a request from a controller identity whose
// object carries the annotation.
func (e *Engine) inheritedBreakGlass(ctx context.Context, req *Request, resp *admissionv1.AdmissionResponse, kinds, bypassed, denials []string, reason string, onTemplate bool) []string {
	if len(denials) == 0 && !onTemplate {
		return nil // nothing to bypass, nothing passed on
	}
	chain, err := e.inherit(ctx, req, kinds, reason)
	if err == nil {
		if len(denials) > 0 {
			e.admitBreakGlass(ctx, req, resp, bypassed, reason, chain)
		}
		return nil
	}
	why := inheritText(err)
	e.logger().LogAttrs(ctx, slog.LevelWarn, "break-glass not inherited", slog.String("user", req.Review.UserInfo.Username),
		slog.String("kind", req.Object.Ref.Kind), slog.String("namespace", req.Namespace), slog.String("name", req.Object.Ref.Name),
		slog.String("why", why), slog.Any("error", err))
	switch {
	case len(denials) > 0:
		return append(denials, "break-glass not inherited: "+why)
	case onTemplate:
		// A template that carries the annotation without a verified chain
		// would pass it on to everything created from it.
		return []string{"break-glass annotation on the pod template not inherited: " + why}
	}
	return nil
}

// inherit verifies that the object under review, sent by a controller
// that creates objects owned by kinds (nil: any built-in kind), comes from
// an owner chain that carries break-glass, and returns where it inherits
// from as text. Each link is the object's controlling ownerReference,
// resolved through the API server by name and checked by UID; every owner's
// pod template must carry the annotation. A created object must run its
// owner's template's images, an updated one must keep its images: a forged
// or stale ownerReference gains nothing for another spec.
//
// An update that leaves the pod spec and the reason as they were (scaling
// down an old ReplicaSet after the incident, removing a finalizer) keeps
// break-glass without the chain: it creates nothing new, and what the
// object creates later is judged on its own.
//
// An owner's annotation is trustworthy because its own latest write passed
// this webhook: breakGlass refuses a template annotation from anyone but a
// break-glass group or a verified controller.
func (e *Engine) inherit(ctx context.Context, req *Request, kinds []string, reason string) (string, error) {
	if e.Owners == nil {
		return "", errors.New("the webhook has no cluster client to look up owners")
	}
	if req.Workload == nil || req.Object.Typed == nil {
		return "", errors.New("the object holds no pod spec")
	}
	meta, err := apimeta.Accessor(req.Object.Typed)
	if err != nil {
		return "", fmt.Errorf("the object has no metadata")
	}
	ref := metav1.GetControllerOfNoCopy(meta)
	if ref == nil {
		return "", fmt.Errorf("%s %s/%s has no controlling owner", req.Object.Ref.Kind, req.Namespace, req.Object.Ref.Name)
	}
	if kinds != nil && !slices.Contains(kinds, ref.Kind) {
		return "", fmt.Errorf("%s does not create objects owned by a %s", req.Review.UserInfo.Username, ref.Kind)
	}
	images := imagesOf(req.Workload.PodSpec)
	create := req.Review.Operation == admissionv1.Create
	if !create {
		old, err := req.oldWorkload()
		if err != nil {
			return "", err
		}
		if same, why := sameImages(images, imagesOf(old.PodSpec), "the old object"); !same {
			return "", fmt.Errorf("the update changes images: %s", why)
		}
		if unchanged(old, req.Workload, reason) {
			return "its unchanged pod spec", nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, OwnerLookupTimeout)
	defer cancel()
	var links []string
	for depth := 0; ref != nil; depth++ {
		if depth == maxOwnerDepth {
			return "", fmt.Errorf("the owner chain is longer than %d", maxOwnerDepth)
		}
		o, err := e.Owners.get(ctx, req.Namespace, *ref)
		if err != nil {
			return "", err
		}
		if strings.TrimSpace(o.Annotations[BreakGlassAnnotation]) == "" {
			return "", fmt.Errorf("the pod template of %s %s/%s does not carry %s", o.Kind, req.Namespace, o.Name, BreakGlassAnnotation)
		}
		if depth == 0 && create {
			if same, why := sameImages(images, o.Images, "the owner's template"); !same {
				return "", fmt.Errorf("the object is not its owner's template: %s", why)
			}
		}
		links = append(links, o.Kind+"/"+o.Name)
		ref = o.Controller
	}
	return strings.Join(links, " <- "), nil
}

// templateUnchanged reports whether req updates a workload without
// touching its pod template's break-glass reason or pod spec: the template
// controllers create from stays the one a break-glass group wrote, so
// metadata updates (finalizers, ownerReferences, labels) by anyone pass.
func templateUnchanged(req *Request, reason string) bool {
	if req.Review.Operation != admissionv1.Update {
		return false
	}
	old, err := req.oldWorkload()
	return err == nil && unchanged(old, req.Workload, reason)
}

// unchanged reports whether an update from old to w keeps the pod spec
// and the break-glass reason.
func unchanged(old, w *kube.Workload, reason string) bool {
	was, ok := old.PodMeta.Annotations[BreakGlassAnnotation]
	return ok && was == reason && equality.Semantic.DeepEqual(old.PodSpec, w.PodSpec)
}

// inheritText is the user-facing reason inherited break-glass was refused:
// failed lookups name what could not be read; their causes go to the log.
func inheritText(err error) string {
	var u *undecided
	if errors.As(err, &u) {
		return u.Text
	}
	return err.Error()
}

// controllerOwnerKinds reports whether user is a kube-controller-manager
// controller that creates pods or workloads, and the kinds of owner it
// creates them for (nil: any; the manager's own credentials serve every
// controller when --use-service-account-credentials is off). The API server
// sets the user from its authenticators: a client cannot claim one without
// the service account's token or the right to impersonate it.
func controllerOwnerKinds(user string) ([]string, bool) {
	const sa = "system:serviceaccount:kube-system:"
	switch user {
	case "system:kube-controller-manager":
		return nil, true
	case sa + "replicaset-controller":
		return []string{"ReplicaSet"}, true
	case sa + "deployment-controller":
		return []string{"Deployment"}, true
	case sa + "statefulset-controller":
		return []string{"StatefulSet"}, true
	case sa + "daemon-set-controller":
		return []string{"DaemonSet"}, true
	case sa + "job-controller":
		return []string{"Job"}, true
	case sa + "cronjob-controller":
		return []string{"CronJob"}, true
	case sa + "replication-controller":
		return []string{"ReplicationController"}, true
	}
	return nil, false
}

// breakGlassReason returns the break-glass annotation of the object under
// review, whether it is set, and whether it sits on a pod template (the
// template's annotation wins over the workload's own).
func breakGlassReason(req *Request) (reason string, ok, onTemplate bool) {
	if req.Workload != nil {
		if _, isPod := req.Object.Typed.(*corev1.Pod); !isPod {
			if r, ok := req.Workload.PodMeta.Annotations[BreakGlassAnnotation]; ok {
				return r, true, true
			}
		}
	}
	r, ok := req.Object.Meta.Annotations[BreakGlassAnnotation]
	return r, ok, false
}

// admitBreakGlass admits a request by break-glass: it logs, counts and
// annotates the use. chain is the owner chain it was inherited from, if
// any.
func (e *Engine) admitBreakGlass(ctx context.Context, req *Request, resp *admissionv1.AdmissionResponse, bypassed []string, reason, chain string) {
	user := req.Review.UserInfo.Username
	kind, via, inherited := "break_glass", "", ""
	if chain != "" {
		kind, via, inherited = "break_glass_inherited", " (inherited from "+chain+")", " inherited="+chain
	}
	e.Metrics.exception(kind)
	e.logger().LogAttrs(ctx, slog.LevelWarn, "break-glass used", slog.String("user", user), slog.String("reason", reason),
		slog.Any("policies", bypassed), slog.String("kind", req.Object.Ref.Kind), slog.String("namespace", req.Namespace),
		slog.String("name", req.Object.Ref.Name), slog.String("inherited_from", chain))
	resp.Warnings = append(resp.Warnings, clip("palisade: break-glass"+via+" admitted despite "+strings.Join(bypassed, ", ")))
	if resp.AuditAnnotations == nil {
		resp.AuditAnnotations = map[string]string{}
	}
	resp.AuditAnnotations["break-glass"] = fmt.Sprintf("user=%s policies=%s%s reason=%s", user, strings.Join(bypassed, ","), inherited, reason)
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
		// dry_run: the API server persists nothing and Palisade writes no
		// PolicyReport (sideEffects NoneOnDryRun), so such decisions can be
		// told apart from real ones.
		slog.Bool("dry_run", ar.DryRun != nil && *ar.DryRun),
		slog.Bool("allowed", resp.Allowed),
		slog.Any("violated", violated),
		slog.Bool("break_glass", resp.AuditAnnotations["break-glass"] != ""),
		slog.Duration("duration", elapsed),
	)
}
