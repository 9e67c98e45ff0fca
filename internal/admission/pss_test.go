package admission

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/config"
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

// TestDefaultPodSecurityVersionIsVendored keeps the default Pod Security
// Standards version equal to the Kubernetes minor of the vendored
// k8s.io/pod-security-admission (v0.N.x judges v1.N): upgrading the library
// then fails here, so the default moves by a visible change, not silently.
func TestDefaultPodSecurityVersionIsVendored(t *testing.T) {
	// Test binaries carry no dependency versions: read them from go.mod.
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*k8s\.io/pod-security-admission (v\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod does not require k8s.io/pod-security-admission")
	}
	vendored := string(m[1])
	parts := strings.Split(strings.TrimPrefix(vendored, "v"), ".")
	if len(parts) < 2 {
		t.Fatalf("k8s.io/pod-security-admission version %q", vendored)
	}
	if want := "v1." + parts[1]; config.DefaultPodSecurityVersion != want {
		t.Errorf("config.DefaultPodSecurityVersion = %s, the vendored library (%s) judges %s: raise the default (and palisade.example.yaml, docs/configuration.md) deliberately", config.DefaultPodSecurityVersion, vendored, want)
	}
	if _, err := NewPodSecurity("baseline", config.DefaultPodSecurityVersion); err != nil {
		t.Fatal(err)
	}
}

// TestClip checks that a clipped warning is under maxWarning bytes and
// still valid UTF-8, whatever its length and runes.
func TestClip(t *testing.T) {
	for _, s := range []string{strings.Repeat("a", maxWarning-1), strings.Repeat("a", maxWarning), strings.Repeat("é", maxWarning), strings.Repeat("a", 1000)} {
		got := clip(s)
		if len(got) >= maxWarning || !utf8.ValidString(got) {
			t.Errorf("clip(%d bytes) = %d bytes %q", len(s), len(got), got)
		}
		if len(s) < maxWarning && got != s {
			t.Errorf("clip changed a short warning: %q", got)
		}
	}
}
