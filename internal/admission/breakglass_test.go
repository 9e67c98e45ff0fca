package admission

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
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

// TestBreakGlassTemplates covers the annotation on pod templates, which
// controllers inherit: only a break-glass group may write it.
func TestBreakGlassTemplates(t *testing.T) {
	l := newLab(t)
	deployment := func(annotate bool, spec corev1.PodSpec) *appsv1.Deployment {
		d := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: metav1.ObjectMeta{Name: "web"},
			Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: spec}}}
		if annotate {
			d.Spec.Template.Annotations = map[string]string{BreakGlassAnnotation: "INC-9"}
		}
		return d
	}
	update := func(t *testing.T, old, new *appsv1.Deployment) *admissionv1.AdmissionRequest {
		ar := review(t, "shop", "Deployment", new)
		ar.Operation = admissionv1.Update
		raw, err := json.Marshal(old)
		if err != nil {
			t.Fatal(err)
		}
		ar.OldObject.Raw = raw
		return ar
	}
	good, priv := pod(l.Good).Spec, privileged(pod(l.Good)).Spec
	tests := []struct {
		name    string
		groups  []string
		enabled bool
		req     func(t *testing.T) *admissionv1.AdmissionRequest
		allowed bool
		deny    string
	}{
		{name: "admin breaks glass on a template", groups: []string{"sre"}, enabled: true, allowed: true,
			req: func(t *testing.T) *admissionv1.AdmissionRequest {
				return review(t, "shop", "Deployment", deployment(true, priv))
			}},
		{name: "admin annotates a compliant template", groups: []string{"sre"}, enabled: true, allowed: true,
			req: func(t *testing.T) *admissionv1.AdmissionRequest {
				return review(t, "shop", "Deployment", deployment(true, good))
			}},
		{name: "user annotates a compliant template", groups: []string{"dev"}, enabled: true, deny: "may be set only by a break-glass group (alice is in none)",
			req: func(t *testing.T) *admissionv1.AdmissionRequest {
				return review(t, "shop", "Deployment", deployment(true, good))
			}},
		{name: "user annotates a privileged template", groups: []string{"dev"}, enabled: true, deny: "privileged",
			req: func(t *testing.T) *admissionv1.AdmissionRequest {
				return review(t, "shop", "Deployment", deployment(true, priv))
			}},
		{name: "break-glass disabled: the annotation means nothing", groups: []string{"dev"}, allowed: true,
			req: func(t *testing.T) *admissionv1.AdmissionRequest {
				return review(t, "shop", "Deployment", deployment(true, good))
			}},
		{name: "user updates metadata of an annotated template", groups: []string{"dev"}, enabled: true, allowed: true,
			req: func(t *testing.T) *admissionv1.AdmissionRequest {
				d := deployment(true, good)
				d.Labels = map[string]string{"touched": "yes"}
				return update(t, deployment(true, good), d)
			}},
		{name: "user changes an annotated template", groups: []string{"dev"}, enabled: true, deny: "may be set only by a break-glass group",
			req: func(t *testing.T) *admissionv1.AdmissionRequest {
				return update(t, deployment(true, good), deployment(true, pod(l.Good, l.Good).Spec))
			}},
		// The pod spec is unchanged, so Pod Security does not judge it
		// again (update.go) and the template stays the admin's.
		{name: "user updates a privileged annotated template without changing it", groups: []string{"dev"}, enabled: true, allowed: true,
			req: func(t *testing.T) *admissionv1.AdmissionRequest {
				d := deployment(true, priv)
				d.Labels = map[string]string{"touched": "yes"}
				return update(t, deployment(true, priv), d)
			}},
		{name: "user changes a privileged annotated template", groups: []string{"dev"}, enabled: true, deny: "privileged",
			req: func(t *testing.T) *admissionv1.AdmissionRequest {
				return update(t, deployment(true, priv), deployment(true, privileged(pod(l.Good, l.Good)).Spec))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := l.engine(t, Enforce)
			if tt.enabled {
				e.BreakGlassGroups = []string{"sre"}
			}
			ar := tt.req(t)
			ar.UserInfo = authenticationv1.UserInfo{Username: "alice", Groups: tt.groups}
			resp := e.Review(t.Context(), ar)
			if resp.Allowed != tt.allowed {
				t.Fatalf("allowed = %v, want %v (%+v)", resp.Allowed, tt.allowed, resp.Result)
			}
			if tt.deny != "" && !strings.Contains(resp.Result.Message, tt.deny) {
				t.Errorf("denial %q lacks %q", resp.Result.Message, tt.deny)
			}
		})
	}
}

// TestInheritFailsSafe checks that a controller's request is refused
// break-glass, saying why, when the owner cannot be looked up or there is
// no owner to look up.
func TestInheritFailsSafe(t *testing.T) {
	l := newLab(t)
	// A port nobody listens on: the lookup fails at once, for real.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	down := kubernetes.NewForConfigOrDie(&rest.Config{Host: "https://" + addr, Timeout: OwnerLookupTimeout})
	owned := func(refs ...metav1.OwnerReference) *corev1.Pod {
		p := privileged(pod(l.Good))
		p.Annotations = map[string]string{BreakGlassAnnotation: "INC-9"}
		p.OwnerReferences = refs
		return p
	}
	rs := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-1", UID: "u1", Controller: new(true)}
	rollout := metav1.OwnerReference{APIVersion: "argoproj.io/v1alpha1", Kind: "Rollout", Name: "web", UID: "u2", Controller: new(true)}
	tests := []struct {
		name   string
		user   string
		owners *OwnerLookup
		pod    *corev1.Pod
		deny   string
	}{
		{"API server unreachable", controllerSA("replicaset-controller"), NewOwnerLookup(down, 8, 0), owned(rs), "break-glass not inherited: ReplicaSet shop/web-1 could not be read"},
		{"no cluster client", controllerSA("replicaset-controller"), nil, owned(rs), "no cluster client to look up owners"},
		{"no controlling owner", controllerSA("replicaset-controller"), NewOwnerLookup(down, 8, 0), owned(), "Pod shop/p has no controlling owner"},
		{"owner of another kind", "system:kube-controller-manager", NewOwnerLookup(down, 8, 0), owned(rollout), "owner argoproj.io/v1alpha1 Rollout is not a built-in workload kind"},
		{"not a controller", "system:serviceaccount:kube-system:generic-garbage-collector", NewOwnerLookup(down, 8, 0), owned(rs), "annotation ignored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := l.engine(t, Enforce)
			e.BreakGlassGroups, e.Owners = []string{"sre"}, tt.owners
			ar := podReview(t, "shop", tt.pod)
			ar.UserInfo = authenticationv1.UserInfo{Username: tt.user}
			resp := e.Review(t.Context(), ar)
			if resp.Allowed {
				t.Fatal("admitted")
			}
			if got := resp.Result.Message + strings.Join(resp.Warnings, "\n"); !strings.Contains(got, tt.deny) {
				t.Errorf("denial and warnings %q lack %q", got, tt.deny)
			}
		})
	}
}

func TestControllerOwnerKinds(t *testing.T) {
	tests := []struct {
		user  string
		kinds []string
		ok    bool
	}{
		{controllerSA("replicaset-controller"), []string{"ReplicaSet"}, true},
		{controllerSA("deployment-controller"), []string{"Deployment"}, true},
		{controllerSA("statefulset-controller"), []string{"StatefulSet"}, true},
		{controllerSA("daemon-set-controller"), []string{"DaemonSet"}, true},
		{controllerSA("job-controller"), []string{"Job"}, true},
		{controllerSA("cronjob-controller"), []string{"CronJob"}, true},
		{controllerSA("replication-controller"), []string{"ReplicationController"}, true},
		{"system:kube-controller-manager", nil, true},
		{"system:serviceaccount:shop:replicaset-controller", nil, false}, // same name, another namespace
		{controllerSA("generic-garbage-collector"), nil, false},
		{"replicaset-controller", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			kinds, ok := controllerOwnerKinds(tt.user)
			if ok != tt.ok || !slices.Equal(kinds, tt.kinds) {
				t.Errorf("= %v, %v; want %v, %v", kinds, ok, tt.kinds, tt.ok)
			}
		})
	}
}

func TestSameImages(t *testing.T) {
	spec := func(images ...string) []containerImage { return imagesOf(&pod(images...).Spec) }
	withInit := pod("a")
	withInit.Spec.InitContainers = []corev1.Container{{Name: "c0", Image: "a"}}
	tests := []struct {
		name string
		a, b []containerImage
		why  string
	}{
		{"same", spec("a", "b"), spec("a", "b"), ""},
		{"other image", spec("a", "x"), spec("a", "b"), "container c1 runs x, the owner's template b"},
		{"extra container", spec("a", "b"), spec("a"), "container c1 is not in the owner's template"},
		{"missing container", spec("a"), spec("a", "b"), "container c1 of the owner's template is missing"},
		{"init container is not a container", imagesOf(&withInit.Spec), spec("a", "a"), "container c0 is c0 in the owner's template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			same, why := sameImages(tt.a, tt.b, "the owner's template")
			if same != (tt.why == "") || why != tt.why {
				t.Errorf("= %v, %q; want %q", same, why, tt.why)
			}
		})
	}
}

// FuzzInheritedBreakGlass sends a controller's UPDATE with arbitrary old
// and new objects: never a panic, never an admission by break-glass
// (the owner cannot be looked up).
func FuzzInheritedBreakGlass(f *testing.F) {
	f.Add(`{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{"palisade.dev/break-glass":"x"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"r","uid":"u","controller":true}]},"spec":{"containers":[{"name":"a","image":"x","securityContext":{"privileged":true}}]}}`,
		`{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"a","image":"x"}]}}`)
	f.Add(`{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"d","uid":"u","controller":true}]},"spec":{"template":{"metadata":{"annotations":{"palisade.dev/break-glass":"x"}},"spec":{"containers":[{"name":"a","image":"x"}]}}}}`, `{"kind":"Widget"}`)
	down := kubernetes.NewForConfigOrDie(&rest.Config{Host: "https://127.0.0.1:1", Timeout: time.Millisecond})
	pss, _ := NewPodSecurity("baseline", "latest")
	e := &Engine{Rules: []Rule{{Policy: pss, Mode: Enforce}}, BreakGlassGroups: []string{"sre"}, Owners: NewOwnerLookup(down, 8, 0)}
	f.Fuzz(func(t *testing.T, obj, old string) {
		ar := &admissionv1.AdmissionRequest{UID: "1", Namespace: "shop", Operation: admissionv1.Update,
			Object: runtime.RawExtension{Raw: []byte(obj)}, OldObject: runtime.RawExtension{Raw: []byte(old)},
			UserInfo: authenticationv1.UserInfo{Username: "system:kube-controller-manager"}}
		resp := e.Review(t.Context(), ar)
		if resp.AuditAnnotations["break-glass"] != "" {
			t.Fatalf("break-glass admitted without an owner: %+v", resp)
		}
	})
}
