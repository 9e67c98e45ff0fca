package admission

import (
	"errors"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/palisade-sec/palisade/internal/kube"
)

// On UPDATE the Go policies judge only what the update changes, as the
// built-in PodSecurity admission does (its isSignificantPodUpdate): an
// object admitted before a policy was tightened, or whose image's scan has
// since aged out, must still take metadata updates. Otherwise removing a
// finalizer from a privileged pod would be denied and the pod could never
// finish terminating, and the digest-pinning webhook would rewrite the
// image of a running pod (restarting it) because someone added a label.
// New images are still verified and a changed pod spec is still judged in
// full; CEL policies choose with onUpdate.

// oldWorkload returns the workload an UPDATE replaces, decoded once per
// request.
func (r *Request) oldWorkload() (*kube.Workload, error) {
	if r.oldDone {
		return r.old, r.oldErr
	}
	r.oldDone = true
	r.old, r.oldErr = decodeOldWorkload(r)
	return r.old, r.oldErr
}

func decodeOldWorkload(req *Request) (*kube.Workload, error) {
	raw := req.Review.OldObject.Raw
	if len(raw) == 0 {
		return nil, errors.New("the update carries no old object")
	}
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(raw, nil, nil)
	if err != nil {
		return nil, errors.New("the old object does not decode")
	}
	w := kube.WorkloadOf(&kube.Object{Ref: req.Object.Ref, Meta: req.Object.Meta, Typed: obj})
	if w == nil {
		return nil, errors.New("the old object holds no pod spec")
	}
	return w, nil
}

// updateOld returns the replaced workload of an UPDATE, or nil for any
// other operation or when the old object cannot be read (then everything
// counts as changed: the safe reading).
func (r *Request) updateOld() *kube.Workload {
	if r.Review == nil || r.Review.Operation != admissionv1.Update || r.Workload == nil {
		return nil
	}
	old, err := r.oldWorkload()
	if err != nil {
		return nil
	}
	return old
}

// podSpecUnchanged reports whether an UPDATE leaves the pod spec and the
// pod annotations Pod Security Standards read as they were.
func (r *Request) podSpecUnchanged() bool {
	old := r.updateOld()
	return old != nil && equality.Semantic.DeepEqual(old.PodSpec, r.Workload.PodSpec) &&
		equalPSSAnnotations(old.PodMeta.Annotations, r.Workload.PodMeta.Annotations)
}

// imageUnchanged reports whether an UPDATE keeps container c's image: the
// old pod spec has a container of the same kind and name with that image.
func (r *Request) imageUnchanged(c kube.ContainerRef) bool {
	old := r.updateOld()
	if old == nil {
		return false
	}
	for _, o := range old.AllContainers() {
		if o.List == c.List && o.Container.Name == c.Container.Name {
			return o.Container.Image == c.Container.Image
		}
	}
	return false
}

// pssAnnotationPrefixes are the pod annotations older Pod Security
// Standards versions judge (seccomp before 1.19, AppArmor before 1.30).
var pssAnnotationPrefixes = []string{
	"seccomp.security.alpha.kubernetes.io/",
	"container.seccomp.security.alpha.kubernetes.io/",
	"container.apparmor.security.beta.kubernetes.io/",
}

func equalPSSAnnotations(a, b map[string]string) bool {
	return equalWithPrefixes(a, b) && equalWithPrefixes(b, a)
}

// equalWithPrefixes reports whether every PSS annotation of a has the same
// value in b.
func equalWithPrefixes(a, b map[string]string) bool {
	for k, v := range a {
		for _, p := range pssAnnotationPrefixes {
			if strings.HasPrefix(k, p) {
				if w, ok := b[k]; !ok || w != v {
					return false
				}
			}
		}
	}
	return true
}
