package admission

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/kube"
)

// TestPodSecurityNamesContainers checks that a failed PodSecurity check
// becomes one violation per container it names, with that container's
// image, while a pod-level check stays one violation.
func TestPodSecurityNamesContainers(t *testing.T) {
	pss, err := NewPodSecurity("restricted", "latest")
	if err != nil {
		t.Fatal(err)
	}
	spec := &corev1.PodSpec{
		HostNetwork:    true,
		InitContainers: []corev1.Container{{Name: "init", Image: "reg.example/init:1"}},
		Containers:     []corev1.Container{{Name: "web", Image: "reg.example/web:2"}, {Name: "side", Image: "reg.example/side:3"}},
	}
	req := &Request{Workload: &kube.Workload{PodSpec: spec}}
	vs, err := pss.Evaluate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	perContainer := map[string]int{}
	podLevel := 0
	for _, v := range vs {
		if v.Container == "" {
			podLevel++
			continue
		}
		perContainer[v.Container]++
		want := map[string]string{"init": "reg.example/init:1", "web": "reg.example/web:2", "side": "reg.example/side:3"}[v.Container]
		if v.Image != want {
			t.Errorf("container %s: image %q, want %q", v.Container, v.Image, want)
		}
		if strings.Contains(v.Message, `"`+v.Container+`"`) {
			t.Errorf("message repeats the container list: %s", v.Message)
		}
	}
	if podLevel == 0 {
		t.Errorf("hostNetwork gave no pod-level violation: %+v", vs)
	}
	// allowPrivilegeEscalation, capabilities, runAsNonRoot and seccomp each
	// name every container.
	for _, c := range []string{"init", "web", "side"} {
		if perContainer[c] < 4 {
			t.Errorf("container %s: %d violations, want at least 4: %+v", c, perContainer[c], vs)
		}
	}
}

func TestShortImage(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:5000/shop/bare:0.1": "bare:0.1",
		"nginx":                        "nginx",
		"ghcr.io/acme/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": "api@sha256:0123456789ab…",
		"ghcr.io/acme/api:v1@sha256:0123": "api:v1@sha256:0123",
	} {
		if got := shortImage(in); got != want {
			t.Errorf("shortImage(%q) = %q, want %q", in, got, want)
		}
	}
}
