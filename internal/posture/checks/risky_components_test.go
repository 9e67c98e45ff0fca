package checks

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestTillerListen(t *testing.T) {
	for _, tc := range []struct {
		name    string
		command []string
		args    []string
		want    string
	}{
		{"default", nil, nil, "all"},
		{"flag=loopback", nil, []string{"--listen=127.0.0.1:44134"}, "loopback"},
		{"flag=localhost", nil, []string{"--listen=localhost:44134"}, "loopback"},
		{"single dash", nil, []string{"-listen=127.0.0.2:44134"}, "loopback"},
		{"flag value", []string{"/tiller", "--listen", "[::1]:44134"}, nil, "loopback"},
		{"every address", nil, []string{"--listen=0.0.0.0:44134"}, "all"},
		{"port only", nil, []string{"--listen=:44134"}, "all"},
		{"pod IP", nil, []string{"--listen=10.0.0.5:44134"}, "all"},
		{"lookalike host", nil, []string{"--listen=localhost.evil.example:44134"}, "all"},
		{"lookalike IP", nil, []string{"--listen=127.evil.example:44134"}, "all"},
		{"flag without value", []string{"/tiller", "--listen"}, nil, "all"},
		{"other flags", nil, []string{"--storage=secret", "--history-max=10"}, "all"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tillerListen(&corev1.Container{Command: tc.command, Args: tc.args}); got != tc.want {
				t.Errorf("tillerListen(%q, %q) = %q, want %q", tc.command, tc.args, got, tc.want)
			}
		})
	}
}

func TestImageComponent(t *testing.T) {
	for image, want := range map[string]string{
		"tiller":                                        componentTiller,
		"gcr.io/kubernetes-helm/tiller:v2.17.0":         componentTiller,
		"ghcr.io/helm/tiller@sha256:abc":                componentTiller,
		"kubernetesui/dashboard:v2.7.0":                 componentDashboard,
		"docker.io/kubernetesui/dashboard-api:1.4":      componentDashboard,
		"k8s.gcr.io/kubernetes-dashboard-amd64:v1.10.1": componentDashboard,
		"kubernetesui/metrics-scraper:v1.0.8":           "",
		"registry.example.com/distiller:1":              "",
		"registry.example.com/tiller-ui/app:1":          "",
		"":                                              "",
	} {
		if got := imageComponent(image); got != want {
			t.Errorf("imageComponent(%q) = %q, want %q", image, got, want)
		}
	}
}

// FuzzTillerListen checks that any command line gives one of the two
// answers, without panicking.
func FuzzTillerListen(f *testing.F) {
	for _, s := range []string{"--listen=127.0.0.1:44134", "--listen\x00[::1]:1", "-listen=", "--listen", "[]:", ":::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		if got := tillerListen(&corev1.Container{Args: args}); got != "all" && got != "loopback" {
			t.Fatalf("tillerListen(%q) = %q", args, got)
		}
		_ = imageComponent(s)
	})
}
