package audit

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/config"
)

func builtinEngine(t *testing.T, opts EngineOptions) *Engine {
	t.Helper()
	env, err := NewCELEnv()
	if err != nil {
		t.Fatal(err)
	}
	set, err := Builtin(env)
	if err != nil {
		t.Fatal(err)
	}
	en, err := NewEngine(set, opts)
	if err != nil {
		t.Fatal(err)
	}
	return en
}

// ev builds a normalized event from audit-event JSON fields.
func ev(t *testing.T, id string, at time.Time, fields string) *Event {
	t.Helper()
	var raw K8sEvent
	js := fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":%q,"stage":"ResponseComplete","stageTimestamp":%q,%s}`,
		id, at.Format(time.RFC3339Nano), fields)
	if err := json.Unmarshal([]byte(js), &raw); err != nil {
		t.Fatalf("bad test event %s: %v", js, err)
	}
	return Normalize(&raw, Source{Name: "test"}, ingest)
}

func ruleIDs(as []*Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.RuleID)
	}
	sort.Strings(out)
	return out
}

const (
	alice   = `"user":{"username":"alice","groups":["system:authenticated"]},"sourceIPs":["203.0.113.7"]`
	anon    = `"user":{"username":"system:anonymous","groups":["system:unauthenticated"]},"sourceIPs":["198.51.100.9"]`
	evilSA  = `"user":{"username":"system:serviceaccount:apps:web","groups":["system:serviceaccounts"]},"sourceIPs":["10.0.0.5"]`
	created = `"responseStatus":{"code":201}`
	ok200   = `"responseStatus":{"code":200}`
)

func TestBuiltinRules(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name, fields string
		want         []string
	}{
		{"anonymous allowed", anon + `,"verb":"get","requestURI":"/api/v1/namespaces",` + ok200 + `,"objectRef":{"resource":"namespaces","apiVersion":"v1"}`,
			[]string{"anonymous-request-allowed"}},
		{"anonymous healthz is fine", anon + `,"verb":"get","requestURI":"/healthz",` + ok200, nil},
		{"anonymous secret read", anon + `,"verb":"get","requestURI":"/api/v1/namespaces/a/secrets/s",` + ok200 + `,"objectRef":{"resource":"secrets","namespace":"a","name":"s","apiVersion":"v1"}`,
			[]string{"anonymous-request-allowed", "secret-read-by-anonymous"}},
		{"cluster-admin binding", alice + `,"verb":"create",` + created + `,"objectRef":{"resource":"clusterrolebindings","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},
			"requestObject":{"metadata":{"name":"pwn"},"roleRef":{"kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"Group","name":"system:unauthenticated"}]}`,
			[]string{"binding-to-unauthenticated", "cluster-admin-binding"}},
		{"rbac by service account", evilSA + `,"verb":"create",` + created + `,"objectRef":{"resource":"rolebindings","namespace":"apps","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},
			"requestObject":{"roleRef":{"kind":"Role","name":"edit"},"subjects":[{"kind":"User","name":"bob"}]}`,
			[]string{"rbac-change-by-serviceaccount"}},
		{"cluster-wide secret list by SA", evilSA + `,"verb":"list",` + ok200 + `,"objectRef":{"resource":"secrets","apiVersion":"v1"}`,
			[]string{"secret-list-cluster-wide"}},
		{"privileged hostPath hostPID pod", alice + `,"verb":"create",` + created + `,"objectRef":{"resource":"pods","namespace":"kube-system","apiVersion":"v1"},
			"requestObject":{"metadata":{"name":"x"},"spec":{"hostPID":true,"hostNetwork":true,"volumes":[{"name":"r","hostPath":{"path":"/"}}],
			"containers":[{"name":"c","image":"docker.io/xmrig/xmrig:latest","securityContext":{"privileged":true,"capabilities":{"add":["SYS_ADMIN"]}}}]}}`,
			[]string{"added-capabilities", "hostnetwork-pod", "hostpath-pod", "hostpid-pod", "malicious-image", "pod-in-system-namespace", "privileged-pod", "sensitive-hostpath-pod"}},
		{"privileged daemonset template", alice + `,"verb":"create",` + created + `,"objectRef":{"resource":"daemonsets","namespace":"apps","apiGroup":"apps","apiVersion":"v1"},
			"requestObject":{"metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"name":"c","image":"x","securityContext":{"privileged":true}}]}}}}`,
			[]string{"daemonset-created", "privileged-pod"}},
		{"forbidden privileged pod", alice + `,"verb":"create","responseStatus":{"code":403},"objectRef":{"resource":"pods","namespace":"a","apiVersion":"v1"},
			"requestObject":{"spec":{"containers":[{"name":"c","image":"x","securityContext":{"privileged":true}}]}}`, nil},
		{"exec", alice + `,"verb":"create","stage":"ResponseStarted","annotations":{"authorization.k8s.io/decision":"allow"},"requestURI":"/api/v1/namespaces/a/pods/p/exec?command=sh",
			"objectRef":{"resource":"pods","subresource":"exec","namespace":"a","name":"p","apiVersion":"v1"}`, []string{"pod-exec"}},
		{"token request", alice + `,"verb":"create",` + created + `,"objectRef":{"resource":"serviceaccounts","subresource":"token","namespace":"apps","name":"web","apiVersion":"v1"}`,
			[]string{"serviceaccount-token-request"}},
		{"impersonating system:masters", alice + `,"impersonatedUser":{"username":"x","groups":["system:masters"]},"verb":"get",` + ok200,
			[]string{"impersonate-privileged-group", "impersonation"}},
		{"csr approval", alice + `,"verb":"update",` + ok200 + `,"objectRef":{"resource":"certificatesigningrequests","subresource":"approval","name":"c","apiGroup":"certificates.k8s.io","apiVersion":"v1"}`,
			[]string{"csr-approved"}},
		{"webhook deleted", alice + `,"verb":"delete",` + ok200 + `,"objectRef":{"resource":"validatingwebhookconfigurations","name":"gatekeeper","apiGroup":"admissionregistration.k8s.io","apiVersion":"v1"}`,
			[]string{"admission-webhook-changed"}},
		{"events deleted", alice + `,"verb":"deletecollection",` + ok200 + `,"objectRef":{"resource":"events","namespace":"a","apiVersion":"v1"}`,
			[]string{"events-deleted"}},
		{"node proxy", alice + `,"verb":"get",` + ok200 + `,"objectRef":{"resource":"nodes","subresource":"proxy","name":"n1","apiVersion":"v1"}`,
			[]string{"node-proxy"}},
		{"ephemeral container", alice + `,"verb":"patch",` + ok200 + `,"objectRef":{"resource":"pods","subresource":"ephemeralcontainers","namespace":"a","name":"p","apiVersion":"v1"},
			"requestObject":{"spec":{"ephemeralContainers":[{"name":"debug","image":"busybox"}]}}`, []string{"ephemeral-container-added"}},
		{"dashboard load balancer", alice + `,"verb":"create",` + created + `,"objectRef":{"resource":"services","namespace":"kubernetes-dashboard","apiVersion":"v1"},
			"requestObject":{"metadata":{"name":"kubernetes-dashboard"},"spec":{"type":"LoadBalancer"}}`, []string{"dashboard-exposed"}},
		{"controller creates plain pod", `"user":{"username":"system:serviceaccount:kube-system:replicaset-controller"},"verb":"create",` + created +
			`,"objectRef":{"resource":"pods","namespace":"a","apiVersion":"v1"},"requestObject":{"spec":{"containers":[{"name":"c","image":"nginx"}]}}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			en := builtinEngine(t, EngineOptions{})
			fields := tc.fields
			e := ev(t, "id-1", at, fields)
			if strings.Contains(fields, `"stage":"ResponseStarted"`) {
				e.Stage = "ResponseStarted"
			}
			got := ruleIDs(en.Process(e))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("alerts (-want +got):\n%s", diff)
			}
			if st := en.Stats(); len(st.EvalErrors) > 0 {
				t.Logf("eval errors (absent fields): %v", st.EvalErrors)
			}
		})
	}
}

func TestDedupeThresholdThrottle(t *testing.T) {
	en := builtinEngine(t, EngineOptions{})
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var fired []*Alert
	for i := range 12 {
		e := ev(t, fmt.Sprintf("f-%d", i), at.Add(time.Duration(i)*time.Second), alice+`,"verb":"list","responseStatus":{"code":403},"objectRef":{"resource":"secrets","namespace":"kube-system","apiVersion":"v1"}`)
		fired = append(fired, en.Process(e)...)
		if got := en.Process(e); got != nil {
			t.Fatalf("duplicate auditID+stage raised %v", ruleIDs(got))
		}
	}
	if len(fired) != 1 || fired[0].RuleID != "forbidden-burst" || fired[0].Kind != "threshold" || len(fired[0].Evidence) != 10 {
		t.Fatalf("want one forbidden-burst threshold alert with 10 evidence IDs, got %+v", fired)
	}
	if st := en.Stats(); st.Duplicates != 12 {
		t.Errorf("duplicates = %d, want 12", st.Duplicates)
	}
}

func TestExceptions(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	exc := config.Exception{Match: config.Match{Rules: []string{"pod-exec"}, Namespace: "debug-*"}, Owner: "sre", Reason: "debug namespace",
		Expires: at.Add(24 * time.Hour)}
	en := builtinEngine(t, EngineOptions{Exceptions: []config.Exception{exc}, Now: func() time.Time { return at }})
	exec := func(id, ns string) *Event {
		e := ev(t, id, at, alice+`,"verb":"create","annotations":{"authorization.k8s.io/decision":"allow"},"objectRef":{"resource":"pods","subresource":"exec","namespace":"`+ns+`","name":"p","apiVersion":"v1"}`)
		return e
	}
	if got := en.Process(exec("1", "debug-alice")); len(got) != 0 {
		t.Errorf("excepted exec raised %v", ruleIDs(got))
	}
	if got := ruleIDs(en.Process(exec("2", "prod"))); !cmp.Equal(got, []string{"pod-exec"}) {
		t.Errorf("exec in prod raised %v, want pod-exec", got)
	}
}

func TestSequence(t *testing.T) {
	en := builtinEngine(t, EngineOptions{})
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	steps := []*Event{
		ev(t, "s1", at, anon+`,"verb":"get","requestURI":"/api/v1/namespaces",`+ok200+`,"objectRef":{"resource":"namespaces","apiVersion":"v1"}`),
		ev(t, "s2", at.Add(time.Minute), anon+`,"verb":"create",`+created+`,"objectRef":{"resource":"clusterrolebindings","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},
			"requestObject":{"metadata":{"name":"b"},"roleRef":{"kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"ServiceAccount","namespace":"apps","name":"web"}]}`),
		ev(t, "s3", at.Add(2*time.Minute), evilSA+`,"verb":"create",`+created+`,"objectRef":{"resource":"pods","namespace":"apps","apiVersion":"v1"},
			"requestObject":{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x","securityContext":{"privileged":true}}]}}`),
		ev(t, "s4", at.Add(3*time.Minute), evilSA+`,"verb":"list",`+ok200+`,"objectRef":{"resource":"secrets","apiVersion":"v1"}`),
	}
	got := map[string][]string{}
	for _, e := range steps {
		for _, a := range en.Process(e) {
			if a.Kind == "sequence" {
				got[a.RuleID] = a.Evidence
			}
		}
	}
	want := map[string][]string{
		"anonymous-to-binding-to-workload":       {"s1", "s2", "s3"},
		"admin-binding-then-privileged-workload": {"s2", "s3"},
		"admin-binding-then-secrets":             {"s2", "s4"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sequence alerts (-want +got):\n%s", diff)
	}
	// Outside the window nothing correlates.
	en2 := builtinEngine(t, EngineOptions{})
	en2.Process(steps[1])
	late := ev(t, "late", at.Add(3*time.Hour), evilSA+`,"verb":"list",`+ok200+`,"objectRef":{"resource":"secrets","apiVersion":"v1"}`)
	for _, a := range en2.Process(late) {
		if a.Kind == "sequence" {
			t.Errorf("sequence %s fired outside its window", a.RuleID)
		}
	}
}

func TestStateBounded(t *testing.T) {
	en := builtinEngine(t, EngineOptions{MaxState: 100})
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for i := range 1000 {
		en.Process(ev(t, fmt.Sprintf("b-%d", i), at, fmt.Sprintf(`"user":{"username":"u%d"},"verb":"create",`, i)+created+
			`,"objectRef":{"resource":"clusterrolebindings","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},
			"requestObject":{"roleRef":{"name":"cluster-admin"},"subjects":[{"kind":"User","name":"x`+fmt.Sprint(i)+`"}]}`))
	}
	for name, n := range map[string]int{"dedupe": en.dedupe.len(), "fired": en.fired.len(), "correlation": en.corr.state.len(),
		"throttle": en.throttle.len(), "bursts": en.bursts.len()} {
		if n > 100 {
			t.Errorf("%s holds %d entries, want <= 100", name, n)
		}
	}
}

func TestLoadRulesErrors(t *testing.T) {
	env, err := NewCELEnv()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, yaml, want string }{
		{"cel syntax", "rules:\n- id: bad-one\n  severity: high\n  condition: e.verb == \n", `my.yaml: rule "bad-one": compile CEL: ERROR: my.yaml: rule bad-one:1:10`},
		{"cel type", "rules:\n- id: not-bool\n  severity: high\n  condition: e.code + 1\n", ""},
		{"severity", "rules:\n- id: x\n  severity: severe\n  condition: 'true'\n", `my.yaml: rule "x": severity "severe"`},
		{"id", "rules:\n- id: Bad ID\n  severity: low\n  condition: 'true'\n", `my.yaml: rule "Bad ID": id must match`},
		{"unknown key", "rules:\n- id: x\n  severity: low\n  condtion: 'true'\n", "field condtion not found"},
		{"sequence unknown ref", "sequences:\n- id: s\n  severity: low\n  window: 1m\n  steps:\n  - condition: 'true'\n  - {condition: 'true', join: 'e.nope('}\n", `sequence "s"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadRules(env, "my.yaml", []byte(tc.yaml))
			if err == nil {
				if tc.want == "" {
					return // accepted at compile time: dyn output, checked at eval
				}
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestRuleLocalException(t *testing.T) {
	env, err := NewCELEnv()
	if err != nil {
		t.Fatal(err)
	}
	set, err := LoadRules(env, "local.yaml", []byte(`rules:
- id: any-exec
  severity: low
  resources: [pods/exec]
  condition: "true"
  exceptions:
  - {namespace: "debug-*", owner: sre, reason: debugging namespace, expires: 2027-01-31}
`))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	en, err := NewEngine(set, EngineOptions{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	exec := func(id, ns string) []string {
		return ruleIDs(en.Process(ev(t, id, at, alice+`,"verb":"create",`+created+`,"objectRef":{"resource":"pods","subresource":"exec","namespace":"`+ns+`","name":"p","apiVersion":"v1"}`)))
	}
	if got := exec("1", "debug-x"); got != nil {
		t.Errorf("excepted namespace raised %v", got)
	}
	if got := exec("2", "prod"); !cmp.Equal(got, []string{"any-exec"}) {
		t.Errorf("prod raised %v, want any-exec", got)
	}
	if st := en.Stats(); st.Excepted != 1 {
		t.Errorf("excepted = %d, want 1", st.Excepted)
	}
}

// TestRuleIndexSameAsScan checks that the rule index only skips rules
// that cannot match: on every sample event the engine finds the rules
// (and evaluation errors) that trying each rule's prefilter and condition
// finds, and the index stays bounded however many combinations it sees.
func TestRuleIndexSameAsScan(t *testing.T) {
	en := builtinEngine(t, EngineOptions{})
	matched := 0
	for _, e := range sampleEvents(t) {
		var want []ruleHit
		for i, r := range en.rules {
			if !r.wants(e) {
				continue
			}
			if ok, err := r.Eval(e); ok || err != nil {
				want = append(want, ruleHit{rule: i, err: err != nil})
			}
		}
		got := en.match(e).hits
		if !cmp.Equal(got, want, cmp.AllowUnexported(ruleHit{})) {
			t.Fatalf("event %s (%s %s/%s %s by %s): index finds %v, a scan %v", e.AuditID, e.Verb, e.Target.Resource,
				e.Target.Subresource, e.Decision, e.Actor.Type, got, want)
		}
		matched += len(want)
	}
	if matched == 0 {
		t.Fatal("no rule matched any sample event")
	}
	for i := range maxIndexed + 10 {
		en.index.candidates(&Event{Verb: fmt.Sprint("verb", i)})
	}
	if n := len(en.index.known); n > maxIndexed {
		t.Errorf("index holds %d combinations, want at most %d", n, maxIndexed)
	}
}

// TestDeduperSameAsLRU checks the Deduper's ring against what it replaced:
// an lru table that records each new key and forgets the oldest.
func TestDeduperSameAsLRU(t *testing.T) {
	for _, max := range []int{1, 3, 50} {
		d := NewDeduper(max)
		ref := newLRU[string, struct{}](max, 0)
		rng := rand.New(rand.NewPCG(1, uint64(max)))
		for i := range 5000 {
			e := &Event{AuditID: fmt.Sprint(rng.IntN(2 * max)), Stage: []string{"ResponseComplete", "ResponseStarted"}[rng.IntN(2)]}
			if i%97 == 0 {
				e.AuditID = ""
			}
			want := false
			if e.AuditID != "" {
				if _, ok := ref.get(e.Key(), time.Time{}); ok {
					want = true
				} else {
					ref.put(e.Key(), struct{}{}, time.Time{})
				}
			}
			if got := d.Seen(e); got != want {
				t.Fatalf("max %d, event %d (%s): Seen %v, want %v", max, i, e.Key(), got, want)
			}
			if d.len() != ref.len() {
				t.Fatalf("max %d: holds %d keys, want %d", max, d.len(), ref.len())
			}
		}
	}
}
