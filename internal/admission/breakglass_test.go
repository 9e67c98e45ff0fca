package admission

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestBreakGlass(t *testing.T) {
	l := newLab(t)
	tests := []struct {
		name       string
		annotation string // "" leaves it off
		groups     []string
		allowed    bool
		warn       string
		counted    float64
	}{
		{name: "admin group breaks glass", annotation: "INC-42 payments down", groups: []string{"system:authenticated", "sre"}, allowed: true, warn: "break-glass admitted despite admission/pod-security-baseline", counted: 1},
		{name: "other user is ignored", annotation: "please", groups: []string{"dev"}, warn: "annotation ignored: alice is not in a break-glass group"},
		{name: "empty reason is ignored", annotation: " ", groups: []string{"sre"}, warn: "must give a reason"},
		{name: "no annotation", groups: []string{"sre"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			reg := prometheus.NewRegistry()
			m, err := NewMetrics(reg)
			if err != nil {
				t.Fatal(err)
			}
			e := l.engine(t, Enforce)
			e.BreakGlassGroups = []string{"sre"}
			e.Metrics = m
			e.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			p := privileged(pod(l.Good))
			if tt.annotation != "" {
				p.Annotations = map[string]string{BreakGlassAnnotation: tt.annotation}
			}
			ar := podReview(t, "shop", p)
			ar.UserInfo = authenticationv1.UserInfo{Username: "alice", Groups: tt.groups}
			resp := e.Review(t.Context(), ar)
			if resp.Allowed != tt.allowed {
				t.Fatalf("allowed = %v, want %v (%+v)", resp.Allowed, tt.allowed, resp.Result)
			}
			if tt.warn != "" && !strings.Contains(strings.Join(resp.Warnings, "\n"), tt.warn) {
				t.Errorf("warnings %q lack %q", resp.Warnings, tt.warn)
			}
			if got := value(t, m.exceptions.WithLabelValues("break_glass")); got != tt.counted {
				t.Errorf("break_glass counter = %v, want %v", got, tt.counted)
			}
			if tt.counted > 0 {
				if a := resp.AuditAnnotations["break-glass"]; !strings.Contains(a, "user=alice") || !strings.Contains(a, "INC-42") {
					t.Errorf("audit annotation = %q", a)
				}
				if !strings.Contains(logs.String(), `"level":"WARN","msg":"break-glass used"`) || !strings.Contains(logs.String(), `"reason":"INC-42 payments down"`) {
					t.Errorf("break-glass not logged at WARN with its reason:\n%s", logs.String())
				}
			}
		})
	}
}

// TestDecisionLogAndMetrics checks the decision log line and the metrics
// of one denied review, and that the log never carries the object.
func TestDecisionLogAndMetrics(t *testing.T) {
	l := newLab(t)
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	e := l.engine(t, Enforce)
	e.Metrics = m
	e.Rules[0].Policy.(*ImageTrust).Verifier.(*Verifier).Metrics = m
	e.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	p := privileged(pod(l.Good))
	p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env, corev1EnvVar("DB_PASSWORD", "hunter2"))
	ar := podReview(t, "shop", p)
	ar.UserInfo = authenticationv1.UserInfo{Username: "alice"}
	if resp := e.Review(t.Context(), ar); resp.Allowed {
		t.Fatal("privileged pod admitted")
	}
	e.Review(t.Context(), podReview(t, "shop", pod(l.Good)))

	var line map[string]any
	first, _, _ := strings.Cut(logs.String(), "\n")
	if err := json.Unmarshal([]byte(first), &line); err != nil {
		t.Fatalf("decision log line %q: %v", first, err)
	}
	for k, want := range map[string]any{"msg": "admission decision", "level": "INFO", "uid": "uid-1", "kind": "Pod", "namespace": "shop", "user": "alice", "allowed": false} {
		if line[k] != want {
			t.Errorf("log %s = %v, want %v", k, line[k], want)
		}
	}
	if v, _ := line["violated"].([]any); len(v) != 1 || v[0] != "admission/pod-security-baseline" {
		t.Errorf("violated = %v", line["violated"])
	}
	if strings.Contains(logs.String(), "hunter2") {
		t.Error("the decision log carries the object's contents")
	}

	checks := []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.decisions.WithLabelValues("admission/pod-security-baseline", "fail", "enforce"), 1},
		{m.decisions.WithLabelValues("admission/pod-security-baseline", "pass", "enforce"), 1},
		{m.decisions.WithLabelValues("admission/image-trust", "pass", "enforce"), 2},
		{m.cache.WithLabelValues("verdict", "miss"), 1},
		{m.cache.WithLabelValues("verdict", "hit"), 1},
	}
	for i, c := range checks {
		if got := value(t, c.c); got != c.want {
			t.Errorf("check %d: %v, want %v", i, got, c.want)
		}
	}
	var h dto.Metric
	if err := m.duration.(prometheus.Metric).Write(&h); err != nil || h.GetHistogram().GetSampleCount() != 2 {
		t.Errorf("duration histogram: %v samples (%v)", h.GetHistogram().GetSampleCount(), err)
	}
	if _, err := NewMetrics(reg); err == nil {
		t.Error("registering twice succeeded")
	}
}

func corev1EnvVar(name, value string) corev1.EnvVar { return corev1.EnvVar{Name: name, Value: value} }

// value reads a counter.
func value(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
