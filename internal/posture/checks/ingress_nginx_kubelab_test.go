package checks_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

// TestIngressNginxInjectionLive stores IngressNightmare-shaped annotations
// in a real kube-apiserver, which accepts them (annotation values are free
// text: no admission in Kubernetes itself stops the attack), and checks that
// the Ingresses listed back from the cluster are reported and the documented
// oauth2-proxy one is not; a snippet annotation and the retired controller
// are reported too.
func TestIngressNginxInjectionLive(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	class := "nginx"
	ing := func(name string, ann map[string]string) *networkingv1.Ingress {
		return &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Annotations: ann},
			Spec: networkingv1.IngressSpec{IngressClassName: &class, DefaultBackend: &networkingv1.IngressBackend{
				Service: &networkingv1.IngressServiceBackend{Name: "app", Port: networkingv1.ServiceBackendPort{Number: 80}}}},
		}
	}
	for _, i := range []*networkingv1.Ingress{
		ing("attacker", map[string]string{"nginx.ingress.kubernetes.io/auth-url": "http://example.com/#;\n}}}\nssl_engine /proc/self/fd/42;\n#"}),
		ing("mtls", map[string]string{
			"nginx.ingress.kubernetes.io/auth-tls-match-cn": "CN=(a|b)\" ) { return 200; } if ( 1",
			"nginx.ingress.kubernetes.io/mirror-target":     "https://shadow.example.org$request_uri",
			"nginx.ingress.kubernetes.io/server-snippet":    "location /t { alias /var/run/secrets/kubernetes.io/serviceaccount/token; }",
		}),
		ing("oauth", map[string]string{
			"nginx.ingress.kubernetes.io/auth-url":          "https://$host/oauth2/auth",
			"nginx.ingress.kubernetes.io/auth-tls-match-cn": "CN=(grafana|prometheus)",
		}),
	} {
		if _, err := cs.NetworkingV1().Ingresses(i.Namespace).Create(ctx, i, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create Ingress %s: %v", i.Name, err)
		}
	}
	sel := map[string]string{"app.kubernetes.io/name": "ingress-nginx"}
	ctrl := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "ingress-nginx-controller", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: sel}, Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: sel},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "controller", Image: "registry.k8s.io/ingress-nginx/controller:v1.13.3"}}},
		}},
	}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, ctrl, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create controller Deployment: %v", err)
	}
	out := scanLive(t, c.Config, "ingress-nginx-injection", "ingress-nginx-snippets", "ingress-nginx-eol")
	var got []string
	for _, f := range out.Findings {
		got = append(got, f.RuleID+" "+f.Resource.Kind+"/"+f.Resource.Name+" "+keyEvidence(f))
	}
	slices.Sort(got)
	want := []string{
		"posture/ingress-nginx-eol Deployment/ingress-nginx-controller repository=registry.k8s.io/ingress-nginx/controller",
		"posture/ingress-nginx-injection Ingress/attacker annotation=nginx.ingress.kubernetes.io/auth-url",
		"posture/ingress-nginx-injection Ingress/mtls annotation=nginx.ingress.kubernetes.io/auth-tls-match-cn",
		"posture/ingress-nginx-snippets Ingress/mtls annotation=nginx.ingress.kubernetes.io/server-snippet",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}
