package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/palisade-sec/palisade/internal/config"
)

// MutatePath is where the digest-pinning mutating webhook is mounted.
const MutatePath = "/admission/v1/mutate"

// Resolver maps an image reference to "repo@sha256:…". *Verifier
// implements it, so pinning and verification share one cache.
type Resolver interface {
	Resolve(ctx context.Context, image string) (string, error)
}

// Pinner rewrites tag-only image references to repo:tag@sha256:…, so
// that every node pulls exactly the image that was verified, even if the
// tag moves between admission and the pull.
type Pinner struct {
	Resolver           Resolver
	Registries         config.Registries
	ExcludedNamespaces []string
	Logger             *slog.Logger
}

// patchOp is one RFC 6902 JSON Patch operation.
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value string `json:"value"`
}

// Review implements Reviewer. It never denies: an image it cannot resolve
// stays as written, with a warning, and the validating webhook decides.
func (p *Pinner) Review(ctx context.Context, ar *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	resp := &admissionv1.AdmissionResponse{UID: ar.UID, Allowed: true}
	if slices.Contains(p.ExcludedNamespaces, ar.Namespace) || ar.Operation == admissionv1.Delete || ar.Operation == admissionv1.Connect {
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
	var ops []patchOp
	for _, c := range req.Workload.AllContainers() {
		image := c.Container.Image
		// An UPDATE that keeps an image must not rewrite it: on a Pod that
		// restarts the container, on a template it starts a rollout.
		if !p.pinnable(image) || req.imageUnchanged(c) {
			continue
		}
		d, err := p.Resolver.Resolve(ctx, image)
		if err != nil {
			p.logger().LogAttrs(ctx, slog.LevelWarn, "cannot pin image digest", slog.String("image", image), slog.Any("error", err))
			resp.Warnings = append(resp.Warnings, clip(fmt.Sprintf("palisade: %s not pinned to a digest: registry lookup failed", image)))
			continue
		}
		_, digest, _ := strings.Cut(d, "@")
		path := append(append([]string{}, req.Workload.SpecPath...), c.Path("image")...)
		ops = append(ops, patchOp{Op: "replace", Path: "/" + strings.Join(path, "/"), Value: image + "@" + digest})
	}
	if len(ops) == 0 {
		return resp
	}
	patch, err := json.Marshal(ops)
	if err != nil {
		resp.Warnings = append(resp.Warnings, "palisade: images not pinned: internal error")
		return resp
	}
	pt := admissionv1.PatchTypeJSONPatch
	resp.Patch, resp.PatchType = patch, &pt
	return resp
}

// pinnable reports whether image is a tag reference Palisade should pin:
// from a trusted registry (resolving others would make the webhook fetch
// from any host a user names) and not a latest or missing tag, which the
// validating webhook refuses and pinning must not launder.
func (p *Pinner) pinnable(image string) bool {
	ref, err := name.ParseReference(image, name.WeakValidation)
	if err != nil {
		return false
	}
	tag, ok := ref.(name.Tag)
	if !ok || !p.Registries.IsTrusted(ref.Context().Name()) {
		return false
	}
	latest := tag.TagStr() == "latest" || !strings.Contains(afterSlash(image), ":")
	return !latest || p.Registries.AllowLatest
}

func (p *Pinner) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

var _ Reviewer = (*Pinner)(nil)
