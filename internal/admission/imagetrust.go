package admission

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
)

// TrustVerdict is what the verifier knows about one image digest.
type TrustVerdict struct {
	Digest  string
	Trusted bool
	// Reason says why an image is not trusted, as user text.
	Reason string
}

// ImageVerifier decides whether an image reference carries a passing,
// fresh scan. *Verifier implements it.
type ImageVerifier interface {
	Verify(ctx context.Context, image string) (TrustVerdict, error)
}

// ImageTrust admits only images from trusted registries, pinned or
// resolvable to a digest, not :latest, with a passing scan.
type ImageTrust struct {
	Registries config.Registries
	Verifier   ImageVerifier // nil skips scan verification
}

// ID implements Policy.
func (*ImageTrust) ID() string { return "admission/image-trust" }

// Evaluate implements Policy. It checks every container kind: init,
// regular and ephemeral; on UPDATE only the containers whose image changes
// (see update.go).
func (p *ImageTrust) Evaluate(ctx context.Context, req *Request) ([]Violation, error) {
	var out []Violation
	for _, c := range req.Workload.AllContainers() {
		if req.imageUnchanged(c) {
			continue
		}
		image := c.Container.Image
		v := func(msg string) {
			out = append(out, Violation{Container: c.Container.Name, Image: image, Message: msg})
		}
		ref, err := name.ParseReference(image, name.WeakValidation)
		if err != nil {
			v("image reference cannot be parsed")
			continue
		}
		repo := ref.Context().Name()
		if !p.Registries.IsTrusted(repo) {
			v(fmt.Sprintf("registry %s is not trusted (trusted: %s)", ref.Context().RegistryStr(), strings.Join(p.Registries.Trusted, ", ")))
			continue
		}
		if tag, ok := ref.(name.Tag); ok && !p.Registries.AllowLatest && (tag.TagStr() == "latest" || !strings.Contains(afterSlash(image), ":")) {
			v("uses the mutable latest tag (or no tag); pin a version or digest")
			continue
		}
		if tag, ok := ref.(name.Tag); ok && p.Registries.IsFloatingTag(tag.TagStr()) {
			v("uses " + tag.TagStr() + ", a floating tag (registries.floatingTags); pin a version or digest")
			continue
		}
		if p.Verifier == nil {
			continue
		}
		verdict, err := p.Verifier.Verify(ctx, image)
		if err != nil {
			return nil, &undecided{Text: "cannot verify " + image, Err: err}
		}
		if !verdict.Trusted {
			v(verdict.Reason)
		}
	}
	return out, nil
}

// afterSlash returns the part of an image reference after its last '/', so
// that a registry port ("host:5000/app") is not taken for a tag.
func afterSlash(image string) string {
	if i := strings.LastIndexByte(image, '/'); i >= 0 {
		return image[i+1:]
	}
	return image
}

// Severity rates violations in PolicyReports: an unverified image is
// unknown code running in the cluster.
func (*ImageTrust) Severity() finding.Severity { return finding.SeverityHigh }

var _ Policy = (*ImageTrust)(nil)

// freshEnough checks a scan's age and its advisory database's age against
// the limits (zero limits are off).
func freshEnough(now, scannedAt, dbTime time.Time, maxScanAge, maxDBAge time.Duration) string {
	if maxScanAge > 0 && now.Sub(scannedAt) > maxScanAge {
		return fmt.Sprintf("its scan is from %s, older than the allowed %s", scannedAt.UTC().Format("2006-01-02"), maxScanAge)
	}
	if maxDBAge > 0 && !dbTime.IsZero() && scannedAt.Sub(dbTime) > maxDBAge {
		return fmt.Sprintf("it was scanned with an advisory database from %s, older than the allowed %s", dbTime.UTC().Format("2006-01-02"), maxDBAge)
	}
	return ""
}
