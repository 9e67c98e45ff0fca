package admission

import (
	"encoding/json"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/palisade-sec/palisade/internal/config"
)

// update builds an UPDATE review from old to obj.
func update(t *testing.T, ns, kind string, old, obj runtime.Object) *admissionv1.AdmissionRequest {
	t.Helper()
	ar := review(t, ns, kind, obj)
	ar.Operation = admissionv1.Update
	if old != nil {
		ar.OldObject = review(t, ns, kind, old).Object
	}
	return ar
}

// TestUpdatesJudgeWhatChanged checks that image trust and Pod Security
// judge an UPDATE by what it changes, as the built-in PodSecurity admission
// does: an object admitted before a policy was tightened, or whose image's
// scan has aged out, still takes metadata updates, while a changed image
// or pod spec is judged.
func TestUpdatesJudgeWhatChanged(t *testing.T) {
	l := newLab(t)
	oldPriv := privileged(pod(l.Good))
	finalizerGone := oldPriv.DeepCopy()
	finalizerGone.Finalizers = nil
	oldPriv.Finalizers = []string{"example.com/cleanup"}
	relabelled := oldPriv.DeepCopy()
	relabelled.Labels["touched"] = "yes"

	oldUnscanned := pod(l.Bare) // admitted before image trust was on
	unscannedRelabelled := oldUnscanned.DeepCopy()
	unscannedRelabelled.Labels["touched"] = "yes"
	newImage := oldUnscanned.DeepCopy()
	newImage.Spec.Containers[0].Image = l.Bad
	debug := pod(l.Good)
	withDebug := debug.DeepCopy()
	withDebug.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: l.Bare}}}
	// A seccomp annotation is part of what Pod Security judges.
	annotated := oldPriv.DeepCopy()
	annotated.Annotations = map[string]string{"container.apparmor.security.beta.kubernetes.io/c0": "unconfined"}

	deploy := func(p *corev1.Pod) *appsv1.Deployment {
		return &appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"app": "web"}},
			Spec:       appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: p.Labels}, Spec: p.Spec}},
		}
	}
	oldDeploy := deploy(privileged(pod(l.Good)))
	scaled := oldDeploy.DeepCopy()
	scaled.Spec.Replicas = new(int32(5))
	templateChanged := oldDeploy.DeepCopy()
	templateChanged.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "b"}}

	tests := []struct {
		name     string
		req      *admissionv1.AdmissionRequest
		allowed  bool
		wantText string
	}{
		{name: "finalizer removed from a privileged pod", req: update(t, "shop", "Pod", oldPriv, finalizerGone), allowed: true},
		{name: "label added to a privileged pod", req: update(t, "shop", "Pod", oldPriv, relabelled), allowed: true},
		{name: "label added to a pod of an unscanned image", req: update(t, "shop", "Pod", oldUnscanned, unscannedRelabelled), allowed: true},
		{name: "image changed to a failing one", req: update(t, "shop", "Pod", oldUnscanned, newImage), wantText: "failed the baseline"},
		{name: "ephemeral debug container with an unscanned image", req: update(t, "shop", "Pod", debug, withDebug), wantText: "container debug"},
		{name: "pod security annotation changed", req: update(t, "shop", "Pod", oldPriv, annotated), wantText: "PodSecurity baseline"},
		{name: "privileged deployment scaled", req: update(t, "shop", "Deployment", oldDeploy, scaled), allowed: true},
		{name: "privileged deployment template changed", req: update(t, "shop", "Deployment", oldDeploy, templateChanged), wantText: "privileged"},
		{name: "update without an old object is judged in full", req: update(t, "shop", "Pod", nil, relabelled), wantText: "privileged"},
		{name: "old object of another shape is judged in full", req: func() *admissionv1.AdmissionRequest {
			ar := update(t, "shop", "Pod", oldPriv, relabelled)
			ar.OldObject.Raw = []byte(`{"kind":"ConfigMap","apiVersion":"v1"}`)
			return ar
		}(), wantText: "privileged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := l.engine(t, Enforce).Review(t.Context(), tt.req)
			if resp.Allowed != tt.allowed {
				t.Fatalf("allowed = %v, want %v (%+v)", resp.Allowed, tt.allowed, resp.Result)
			}
			if tt.wantText != "" && (resp.Result == nil || !strings.Contains(resp.Result.Message, tt.wantText)) {
				t.Errorf("message lacks %q: %+v", tt.wantText, resp.Result)
			}
		})
	}
}

// TestPinnerLeavesUnchangedImages checks that the pinning webhook never
// rewrites the image an UPDATE keeps: on a Pod that would restart the
// container, on a template start a rollout, because of a label.
func TestPinnerLeavesUnchangedImages(t *testing.T) {
	l := newLab(t)
	p := &Pinner{Resolver: fixedResolver{}, Registries: config.Registries{Trusted: []string{"127.0.0.1:*/shop/*"}}}
	old := pod(l.Good, l.Bad)
	relabelled := old.DeepCopy()
	relabelled.Labels["touched"] = "yes"
	bumped := old.DeepCopy()
	bumped.Spec.Containers[1].Image = l.Host + "/shop/legacy:2.4"

	tests := []struct {
		name  string
		req   *admissionv1.AdmissionRequest
		paths []string
	}{
		{name: "label update", req: update(t, "shop", "Pod", old, relabelled)},
		{name: "one image changed", req: update(t, "shop", "Pod", old, bumped), paths: []string{"/spec/containers/1/image"}},
		{name: "create pins all", req: podReview(t, "shop", old), paths: []string{"/spec/containers/0/image", "/spec/containers/1/image"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := p.Review(t.Context(), tt.req)
			var got []string
			for _, op := range patchOps(t, resp) {
				got = append(got, op.Path)
			}
			if strings.Join(got, ",") != strings.Join(tt.paths, ",") {
				t.Errorf("patched %v, want %v", got, tt.paths)
			}
		})
	}
}

func patchOps(t *testing.T, resp *admissionv1.AdmissionResponse) []patchOp {
	t.Helper()
	if !resp.Allowed {
		t.Fatalf("the pinner denied: %+v", resp.Result)
	}
	var ops []patchOp
	if resp.Patch != nil {
		if err := json.Unmarshal(resp.Patch, &ops); err != nil {
			t.Fatal(err)
		}
	}
	return ops
}
