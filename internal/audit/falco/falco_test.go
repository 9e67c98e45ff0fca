package falco

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/audit"
)

const podEvent = `{"kind":"Event","auditID":"a1","stage":"ResponseComplete","verb":"create","requestURI":"/api/v1/namespaces/default/pods",
"user":{"username":"alice","groups":["dev","system:authenticated"]},"objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},
"responseStatus":{"code":201},"annotations":{"authorization.k8s.io/decision":"allow"},
"requestObject":{"metadata":{"name":"p"},"spec":{"hostNetwork":true,"volumes":[{"name":"s","hostPath":{"path":"/var/run/docker.sock"}}],
"containers":[{"name":"a","image":"nginx:1.25","securityContext":{"privileged":true}},{"name":"b","image":"docker.io/library/redis@sha256:ab"}]}}}`

func event(t testing.TB) *audit.Event {
	var raw audit.K8sEvent
	if err := json.Unmarshal([]byte(podEvent), &raw); err != nil {
		t.Fatal(err)
	}
	return audit.Normalize(&raw, audit.Source{}, time.Time{})
}

func TestConditions(t *testing.T) {
	const lists = `
- list: trusted
  items: [nginx, redis]
- list: partly
  items: [nginx]
- list: nested
  items: [partly, docker.io/library/redis]
- macro: kcreate
  condition: ka.verb=create
`
	tests := []struct {
		cond string
		want bool
	}{
		{`kcreate and ka.user.name=alice`, true},
		{`ka.user.name != alice`, false},
		{`ka.req.pod.containers.image.repository in (trusted)`, false}, // redis has a registry prefix
		{`ka.req.pod.containers.image.repository in (nested)`, true},
		{`ka.req.pod.containers.image.repository in (partly)`, false}, // "in": every value
		{`ka.req.pod.containers.image.repository intersects (partly)`, true},
		{`ka.req.pod.containers.privileged intersects (true)`, true},
		{`ka.req.container.privileged=true`, true},
		{`ka.req.pod.host_network=true and ka.req.pod.host_pid=false`, true},
		{`ka.req.volume.hostpath[/var/run/docker.sock]=true`, true},
		{`ka.req.pod.volumes.hostpath pmatch (/var/run)`, true},
		{`ka.user.groups intersects ("dev")`, true},
		{`jevt.value[/annotations/authorization.k8s.io~1decision]=allow`, true},
		{`jevt.value[/requestObject/spec/containers/1/name]=b`, true},
		{`ka.target.subresource exists`, false},
		{`not ka.target.subresource exists and ka.response.code startswith 2`, true},
		{`ka.response.code >= 200 and ka.response.code < 300`, true},
		{`ka.uri glob "/api/*/pods"`, true},
		{`ka.user.name icontains ALI`, true},
		{`(ka.verb in (get, list) or ka.verb=create) and not ka.user.name endswith ice`, false},
	}
	ev := event(t)
	for _, tc := range tests {
		t.Run(tc.cond, func(t *testing.T) {
			l := NewLoader()
			rule := lists + "- rule: R\n  desc: d\n  condition: " + quote(tc.cond) + "\n  output: o\n  priority: WARNING\n  source: k8s_audit\n"
			if err := l.Add("t.yaml", []byte(rule)); err != nil {
				t.Fatal(err)
			}
			res := l.Compile()
			if len(res.Errors) > 0 {
				t.Fatal(res.Errors)
			}
			got, _ := res.Rules[0].Eval(ev)
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestOverridesAndExceptions(t *testing.T) {
	l := NewLoader()
	base := `
- list: allowed
  items: [bob]
- rule: R
  desc: d
  condition: ka.verb=create and not ka.user.name in (allowed)
  output: o
  priority: ERROR
  source: k8s_audit
- rule: Syscall rule
  desc: d
  condition: evt.type=open
  output: o
  priority: ERROR
`
	more := `
- list: allowed
  items: [alice]
  override:
    items: append
- rule: R
  exceptions:
  - name: ns
    fields: [ka.target.namespace, ka.verb]
    comps: [=, in]
    values:
    - [kube-system, [create]]
  override:
    exceptions: append
`
	if err := l.Add("a.yaml", []byte(base)); err != nil {
		t.Fatal(err)
	}
	ev := event(t)
	res := l.Compile()
	if res.Skipped != 1 || len(res.Rules) != 1 {
		t.Fatalf("rules %d skipped %d, want 1 and 1 (the syscall rule)", len(res.Rules), res.Skipped)
	}
	if ok, _ := res.Rules[0].Eval(ev); !ok {
		t.Fatal("alice not allowed yet: want a match")
	}
	if err := l.Add("b.yaml", []byte(more)); err != nil {
		t.Fatal(err)
	}
	res = l.Compile()
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	if ok, _ := res.Rules[0].Eval(ev); ok {
		t.Error("alice appended to the allowed list: want no match")
	}
	if res.Rules[0].Severity.String() != "high" {
		t.Errorf("severity %s, want high for ERROR", res.Rules[0].Severity)
	}
}

func TestUnsupported(t *testing.T) {
	tests := []struct{ cond, want string }{
		{`ka.user.name regex "a.*"`, "unsupported operator regex"},
		{`ka.nosuch.field = x`, "unsupported field ka.nosuch.field"},
		{`tolower(ka.user.name) = x`, "unsupported field transformer tolower()"},
		{`no_such_macro`, `unknown macro "no_such_macro"`},
		{`ka.user.name = "unterminated`, "unterminated string"},
		{`(ka.verb=get`, "expected ')'"},
	}
	for _, tc := range tests {
		t.Run(tc.cond, func(t *testing.T) {
			l := NewLoader()
			ok := "- rule: Fine\n  desc: d\n  condition: ka.verb=get\n  output: o\n  priority: INFO\n  source: k8s_audit\n"
			bad := "- rule: Bad\n  desc: d\n  condition: " + quote(tc.cond) + "\n  output: o\n  priority: INFO\n  source: k8s_audit\n"
			if err := l.Add("t.yaml", []byte(ok+bad)); err != nil {
				t.Fatal(err)
			}
			res := l.Compile()
			if len(res.Rules) != 1 || len(res.Errors) != 1 {
				t.Fatalf("rules %d errors %v: want the good rule loaded and one error", len(res.Rules), res.Errors)
			}
			var re *RuleError
			if !errors.As(res.Errors[0], &re) || re.Rule != "Bad" || re.File != "t.yaml" {
				t.Errorf("error %v does not name file and rule", res.Errors[0])
			}
			if !strings.Contains(res.Errors[0].Error(), tc.want) {
				t.Errorf("error %q, want %q", res.Errors[0], tc.want)
			}
		})
	}
}

// FuzzCondition parses and evaluates arbitrary conditions: errors are
// fine, panics and hangs are not.
func FuzzCondition(f *testing.F) {
	for _, s := range []string{`ka.verb=create and not ka.user.name in (a, "b")`, `(jevt.value[/stage] in (x))`,
		`ka.req.volume.hostpath[/proc*]=true or ka.uri.param[command] contains sh`, `m and not m`, `ka.response.code >= 2`} {
		f.Add(s)
	}
	ev := event(f)
	f.Fuzz(func(t *testing.T, cond string) {
		l := NewLoader()
		rules := "- macro: m\n  condition: ka.verb=get\n- rule: R\n  desc: d\n  condition: " + quote(cond) + "\n  output: o\n  priority: INFO\n  source: k8s_audit\n"
		if l.Add("f.yaml", []byte(rules)) != nil {
			return
		}
		for _, r := range l.Compile().Rules {
			_, _ = r.Eval(ev)
		}
	})
}

func TestOutput(t *testing.T) {
	render := compileOutput(`Pod (user=%ka.user.name images=%ka.req.pod.containers.image mount=%ka.req.volume.hostpath[/var/run/*] x=%ka.nosuch sub=%ka.target.subresource) 100%`)
	got := render(event(t))
	want := "Pod (user=alice images=nginx:1.25,docker.io/library/redis@sha256:ab mount=true x=%ka.nosuch sub=<NA>) 100%"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
