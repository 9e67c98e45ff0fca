package checks_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// TestPSSRestrictedAgreesWithAdmission creates pods in a namespace that
// enforces restricted on a real kube-apiserver and checks that pss-restricted
// reports exactly the pods PodSecurity admission refuses. The cases are the
// shapes where peer tools pass what the API server refuses (argued in
// compliance/DISAGREEMENTS.md): the alpha seccomp annotations (the server
// warns they are "non-functional in v1.27+" and does not copy them into the
// seccompProfile fields), a pod-level Unconfined profile that every
// container overrides, and capabilities dropped as "all".
func TestPSSRestrictedAgreesWithAdmission(t *testing.T) {
	pod := func(name, annotations, podSC, caps, seccomp string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: strict\n  annotations: {" + annotations + "}\n" +
			"spec:\n  securityContext: {" + podSC + "}\n  containers:\n  - name: app\n    image: registry.example.com/app:1.0.0\n" +
			"    securityContext: {allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: {drop: [" + caps + "]}" + seccomp + "}\n"
	}
	const runtimeDefault = ", seccompProfile: {type: RuntimeDefault}"
	tests := []struct {
		name    string
		doc     string
		refused bool // what PodSecurity admission does, asserted too
	}{
		{"fields", pod("fields", "", "", "ALL", runtimeDefault), false},
		{"alpha-pod-annotation", pod("alpha-pod-annotation", "seccomp.security.alpha.kubernetes.io/pod: runtime/default", "", "ALL", ""), true},
		{"alpha-container-annotation", pod("alpha-container-annotation", "container.seccomp.security.alpha.kubernetes.io/app: runtime/default", "", "ALL", ""), true},
		{"drop-lowercase-all", pod("drop-lowercase-all", "", "", "all", runtimeDefault), true},
		{"pod-unconfined-overridden", pod("pod-unconfined-overridden", "", "seccompProfile: {type: Unconfined}", "ALL", runtimeDefault), true},
	}
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "strict",
		Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	sc := posture.NewScanner(reg.Only("pss-restricted"), nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.doc
			objs, err := kube.Decode(ctx, tc.name+".yaml", []byte(doc), kube.Limits{})
			if err != nil {
				t.Fatalf("decode:\n%s\n%v", doc, err)
			}
			out, err := sc.Scan(ctx, kube.NewInventory(objs), posture.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var pod corev1.Pod
			if err := yaml.UnmarshalStrict([]byte(doc), &pod); err != nil {
				t.Fatal(err)
			}
			_, err = cs.CoreV1().Pods("strict").Create(ctx, &pod, metav1.CreateOptions{})
			if err != nil && !apierrors.IsForbidden(err) {
				t.Fatalf("create: %v", err)
			}
			refused, reported := err != nil, len(out.Findings) > 0
			if refused != tc.refused {
				t.Errorf("PodSecurity admission refused=%v (%v), want %v", refused, err, tc.refused)
			}
			if refused != reported {
				t.Errorf("PodSecurity admission refused=%v (%v), pss-restricted reported=%v (%d findings)", refused, err, reported, len(out.Findings))
			}
		})
	}
}
