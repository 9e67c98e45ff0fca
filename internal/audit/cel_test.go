package audit

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/palisade-sec/palisade/internal/sharedtest"
)

// builtinExprs returns every CEL expression of the built-in rule files:
// rule conditions and sequence step conditions (bools), and sequence joins
// and emits (strings).
func builtinExprs(t testing.TB) (bools, strs []string) {
	t.Helper()
	names, err := fs.Glob(builtinFS, "rules/*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("list built-in rules: %v", err)
	}
	for _, n := range names {
		data, err := builtinFS.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		var rf RuleFile
		if err := yaml.Unmarshal(data, &rf); err != nil {
			t.Fatal(err)
		}
		for _, r := range rf.Rules {
			bools = append(bools, r.Condition)
		}
		for _, s := range rf.Sequences {
			for _, st := range s.Steps {
				if st.Condition != "" {
					bools = append(bools, st.Condition)
				}
				for _, x := range []string{st.Join, st.Emit} {
					if x != "" {
						strs = append(strs, x)
					}
				}
			}
		}
	}
	return bools, append(strs, defaultKey)
}

// Expressions beyond the built-in ones that exercise each native form.
var (
	extraBools = []string{
		`'create' == e.verb`,
		`e.verb != 'get' || e.target.resource == 'pods'`,
		`!(e.actor.type in ['user', 'node']) && e.stage != ''`,
		`e.target.namespace == e.actor.namespace`,
		`e.uri.endsWith('/exec') || e.userAgent.contains('kubectl')`,
		`e.impersonated.type == 'node' || e.impersonated.username.startsWith('system:')`,
		`e.provider == 'self-managed' && e.level in ['Metadata', 'Request'] && e.cluster == '' && e.source != ''`,
		`e.auditID != '' && e.target.group in ['', 'rbac.authorization.k8s.io'] && e.target.version == 'v1'`,
		`e.actor.uid == '' || e.actor.name == 'web' || e.impersonated.uid != '' || e.impersonated.namespace == 'x' || e.impersonated.name == ''`,
		`e.target.subresource in ['exec', 'attach'] && true`,
		`e.code == 200 && e.decision == 'allowed'`,
		`e.verb == 'list' && 'metadata' in e.response`,
		`e.actor.groups.exists(g, g == 'system:masters') && e.verb == 'create'`,
	}
	extraStrs = []string{
		`e.target.namespace + '/' + e.target.name`,
		`[e.actor.username, e.impersonated.username] + e.impersonated.groups`,
		`e.sourceIPs + ['']`,
		`e.annotations`,
		`e.actor.username.lowerAscii()`,
	}
)

// sampleEvents decodes the shared audit samples and derives variants
// (impersonation, anonymous and service-account actors, other verbs) so
// that each condition sees events it matches and events it does not.
func sampleEvents(t testing.TB) []*Event {
	t.Helper()
	var files []string
	for _, dir := range []string{"../../../shared/audit-samples/falco/trace_files", envelopes} {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".log") || strings.HasSuffix(p, ".jsonl")) {
				files = append(files, p)
			}
			return nil
		})
	}
	if len(files) == 0 {
		sharedtest.Missing(t, "audit samples not available")
	}
	var raws []K8sEvent
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		Decode(t.Context(), bytes.NewReader(data), Source{Name: f}, fixedNow, func(e *Event) error {
			raws = append(raws, e.Raw)
			return nil
		})
	}
	if len(raws) < 50 {
		t.Fatalf("only %d sample events", len(raws))
	}
	var out []*Event
	for _, raw := range raws {
		out = append(out, Normalize(&raw, Source{Name: "sample"}, ingest))
		v := raw
		v.ImpersonatedUser = &UserInfo{Username: "system:node:n1", Groups: []string{"system:masters", ""}}
		v.User = UserInfo{Username: "system:serviceaccount:apps:web", Groups: []string{"system:serviceaccounts"}}
		out = append(out, Normalize(&v, Source{Name: "variant", Cluster: "c1"}, ingest))
		v = raw
		v.User = UserInfo{Username: "system:anonymous", Groups: []string{"system:unauthenticated"}}
		v.Verb, v.RequestURI, v.UserAgent = "list", "/api/v1/secrets", "kubectl/v1.31"
		out = append(out, Normalize(&v, Source{Name: "variant", Provider: ProviderEKS}, ingest))
	}
	return out
}

// TestNativeSameAsCEL checks that every condition and key expression
// gives, on every sample event, what CEL gives on the event's Value:
// the Go form of conditions and their guards is an optimization only.
func TestNativeSameAsCEL(t *testing.T) {
	env, err := NewCELEnv()
	if err != nil {
		t.Fatal(err)
	}
	bools, strs := builtinExprs(t)
	events := sampleEvents(t)
	native := 0
	for _, expr := range append(bools, extraBools...) {
		c, err := compileCondition(env, "t", expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if c.native {
			native++
		}
		prg, _, err := compileProgram(env, "t", expr, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			got, gotErr := c.eval(e)
			out, _, err := prg.Eval(e.activation())
			want, _ := out.Value().(bool)
			if got != want || (gotErr != nil) != (err != nil) {
				t.Fatalf("%s on %s (%s %s/%s by %s): native %v (%v), CEL %v (%v)", expr, e.AuditID, e.Verb,
					e.Target.Resource, e.Target.Subresource, e.Actor.Username, got, gotErr, want, err)
			}
		}
	}
	// Most built-in conditions compare only string fields; if none compiled
	// to Go, the native path is broken and every rule pays for CEL.
	if native < len(bools)/2 {
		t.Errorf("only %d of %d conditions compiled to Go", native, len(bools)+len(extraBools))
	}
	for _, expr := range append(strs, extraStrs...) {
		get, err := compileStrings(env, "t", expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		prg, _, err := compileProgram(env, "t", expr, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			var want []string
			if out, _, err := prg.Eval(e.activation()); err == nil {
				want = stringsOf(out)
			}
			if got := get(e); !slices.Equal(got, want) {
				t.Fatalf("%s on %s: native %q, CEL %q", expr, e.AuditID, got, want)
			}
		}
	}
}

// TestCompileCondition pins which conditions run as Go, which only have
// guards ahead of CEL, and which fields the guards read.
func TestCompileCondition(t *testing.T) {
	env, err := NewCELEnv()
	if err != nil {
		t.Fatal(err)
	}
	bit := func(paths ...string) uint64 {
		var m uint64
		for _, p := range paths {
			i := slices.IndexFunc(eventStrings[:], func(f eventString) bool { return f.path == p })
			if i < 0 {
				t.Fatalf("no field %s", p)
			}
			m |= 1 << i
		}
		return m
	}
	tests := []struct {
		expr   string
		native bool
		guards []uint64 // fields of each guard
	}{
		{`e.decision == 'forbidden'`, true, []uint64{bit("decision")}},
		{`e.verb == 'create' && e.target.resource in ['pods'] && e.decision == 'allowed'`, true,
			[]uint64{bit("verb"), bit("target.resource"), bit("decision")}},
		{`e.actor.type == 'serviceaccount' && (e.userAgent.startsWith('kubectl/') || e.userAgent.startsWith('curl/'))`, true,
			[]uint64{bit("actor.type"), bit("userAgent")}},
		{`e.target.namespace != e.actor.namespace`, true, []uint64{bit("target.namespace", "actor.namespace")}},
		{`e.decision == 'allowed' && 'rules' in e.request && !(e.actor.type in ['system', 'node'])`, false,
			[]uint64{bit("decision"), bit("actor.type")}},
		{`e.code >= 400`, false, nil},
		{`e.request.kind == 'Pod' || e.verb == 'create'`, false, nil},
		{`e.actor.groups.exists(e, e == 'x')`, false, nil},
		{`has(e.verb) && e.verb == 'get'`, false, []uint64{bit("verb")}},
		{`e.verb == 1 || e.verb == 'get'`, false, nil},
		{`e.verb in ['get', 1]`, false, nil},
	}
	for _, tc := range tests {
		c, err := compileCondition(env, "t", tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		var got []uint64
		for _, g := range c.guards {
			got = append(got, g.fields)
		}
		if c.native != tc.native || !cmp.Equal(got, tc.guards) {
			t.Errorf("%s: native %v guards %b, want %v %b", tc.expr, c.native, got, tc.native, tc.guards)
		}
	}
}

// FuzzNativeCondition feeds decoded events to every built-in condition
// and key expression, native and CEL, which must agree.
func FuzzNativeCondition(f *testing.F) {
	f.Add([]byte(`{"kind":"Event","auditID":"a","stage":"ResponseComplete","verb":"create","user":{"username":"system:serviceaccount:a:b"},"objectRef":{"resource":"pods","namespace":"a"},"responseStatus":{"code":201},"requestObject":{"spec":{"hostPID":true}}}`))
	f.Add([]byte(`{"kind":"Event","auditID":"b","stage":"ResponseComplete","verb":"get","user":{"username":"system:anonymous"},"impersonatedUser":{"username":"system:node:x","groups":["system:masters"]},"userAgent":"curl/8","requestURI":"/healthz"}`))
	f.Add([]byte(`{"kind":"Event","auditID":"c","stage":"ResponseStarted","verb":"create","user":{"username":"bob"},"objectRef":{"resource":"pods","subresource":"exec","namespace":"kube-system"},"annotations":{"authorization.k8s.io/decision":"allow"}}`))
	env, err := NewCELEnv()
	if err != nil {
		f.Fatal(err)
	}
	bools, strs := builtinExprs(f)
	type pair struct {
		c   *condition
		s   func(*Event) []string
		prg cel.Program
	}
	var exprs []pair
	for _, x := range append(bools, extraBools...) {
		c, err := compileCondition(env, "t", x)
		if err != nil {
			f.Fatal(err)
		}
		prg, _, _ := compileProgram(env, "t", x, nil)
		exprs = append(exprs, pair{c: c, prg: prg})
	}
	for _, x := range append(strs, extraStrs...) {
		s, err := compileStrings(env, "t", x)
		if err != nil {
			f.Fatal(err)
		}
		prg, _, _ := compileProgram(env, "t", x, nil)
		exprs = append(exprs, pair{s: s, prg: prg})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Decode(t.Context(), bytes.NewReader(data), Source{Name: "fuzz"}, fixedNow, func(e *Event) error {
			for _, p := range exprs {
				out, _, err := p.prg.Eval(e.activation())
				if p.c != nil {
					got, gotErr := p.c.eval(e)
					want, _ := out.Value().(bool)
					if got != want || (gotErr != nil) != (err != nil) {
						t.Fatalf("%s: native %v (%v), CEL %v (%v)", p.prg, got, gotErr, want, err)
					}
					continue
				}
				var want []string
				if err == nil {
					want = stringsOf(out)
				}
				if got := p.s(e); !slices.Equal(got, want) {
					t.Fatalf("native %q, CEL %q", got, want)
				}
			}
			return nil
		})
	})
}

// TestRewrittenRulesEquivalent checks built-in conditions rewritten to a
// cheaper form (lowering a string once instead of once per word) against
// their original text, errors included, on the samples and on events
// made to reach every branch: matches by key and by value, upper case,
// values that are not strings.
func TestRewrittenRulesEquivalent(t *testing.T) {
	rewritten := map[string]string{
		"malicious-image": `e.decision != 'forbidden' &&
			e.containers.exists(c, 'image' in c && ['xmrig', 'minerd', 'cpuminer', 'cryptonight', 'monero', 'nicehash', 'kinsing', 'coinhive', 'ethminer', 'nbminer', 'kube-hunter', 'peirates', 'kdigger', 'cdk-team/cdk', 'metasploit'].exists(m, c.image.lowerAscii().contains(m)))`,
		"configmap-with-credentials": `e.decision == 'allowed' && 'data' in e.request &&
			e.request.data.exists(k, ['password', 'passphrase', 'aws_access_key_id', 'aws-access-key-id', 'aws_secret_access_key', 'aws_s3_access_key_id', 'aws-s3-access-key-id'].exists(w, k.lowerAscii().contains(w) || string(e.request.data[k]).lowerAscii().contains(w)))`,
	}
	env, err := NewCELEnv()
	if err != nil {
		t.Fatal(err)
	}
	set, err := Builtin(env)
	if err != nil {
		t.Fatal(err)
	}
	events := sampleEvents(t)
	for _, obj := range []string{
		`{"spec":{"containers":[{"image":"nginx"},{"image":"Docker.io/XMRig/xmrig"}]}}`,
		`{"spec":{"containers":[{"image":42},{"image":"cdk-team/cdk:1"}]}}`,
		`{"spec":{"containers":[{"image":42},{"image":"nginx"}]}}`,
		`{"spec":{"initContainers":[{"name":"no image"}],"containers":[{"image":null}]}}`,
		`{"data":{"PassWord":"x","b":"y"}}`,
		`{"data":{"a":"my AWS_Access_Key_ID=1","b":"y"}}`,
		`{"data":{"password":[1],"b":"y"}}`,
		`{"data":{"a":[1],"b":"y"}}`,
		`{"data":{"a":{"passphrase":"x"},"passphrase-file":2}}`,
		`{"data":{"a":1.5,"b":true,"c":null}}`,
		`{"data":{}}`, `{"data":"password"}`,
	} {
		for _, res := range []string{"pods", "configmaps"} {
			var raw K8sEvent
			js := `{"auditID":"crafted","stage":"ResponseComplete","verb":"create","user":{"username":"bob"},"responseStatus":{"code":201},` +
				`"objectRef":{"resource":"` + res + `","namespace":"a"},"requestObject":` + obj + `}`
			if err := json.Unmarshal([]byte(js), &raw); err != nil {
				t.Fatal(err)
			}
			events = append(events, Normalize(&raw, Source{Name: "crafted"}, ingest))
		}
	}
	for id, orig := range rewritten {
		i := slices.IndexFunc(set.Rules, func(r *Rule) bool { return r.ID == id })
		if i < 0 {
			t.Fatalf("no built-in rule %s", id)
		}
		was, err := compileBool(env, "original "+id, orig)
		if err != nil {
			t.Fatal(err)
		}
		hits := 0
		for _, e := range events {
			got, gotErr := set.Rules[i].Eval(e)
			want, wantErr := was(e)
			if got != want || (gotErr != nil) != (wantErr != nil) {
				t.Errorf("%s on %s: %v (%v), original %v (%v)", id, e.Raw.RequestObject, got, gotErr, want, wantErr)
			}
			if want {
				hits++
			}
		}
		if hits < 2 {
			t.Errorf("%s: the events reach only %d matches", id, hits)
		}
	}
}
