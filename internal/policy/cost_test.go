package policy

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/interpreter"
)

func TestLoadRejectsExpensiveExpression(t *testing.T) {
	loops := "[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, [1,2,3,4,5,6,7,8,9,10].all(f, a+b+c+d+e+f > 0))))))"
	_, err := Parse("t.yaml", []byte(policyDoc("validations:\n- expression: \""+loops+"\"\n")))
	if err == nil {
		t.Fatal("loaded a policy whose expression costs more than the limit on any input")
	}
	for _, want := range []string{"t.yaml:", "validations[0].expression", "over the per-expression limit of 1000000"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestCostBounds(t *testing.T) {
	tests := []struct {
		name     string
		expr     string
		min, max int // size.fast range
	}{
		{"field test", "object.?spec.?hostNetwork.orValue(false) == false", maxFastSize, maxFastSize},
		// A pod has far fewer than 10,000 of anything.
		{"loop over an input list", "object.spec.containers.all(c, c.image != '')", 10_000, 1_000_000},
		{"loop through an optional", "object.?spec.?list.orValue([]).exists(c, c == 'x')", 10_000, 1_000_000},
		// CEL sizes split's result by its input.
		{"loop over a split string", "object.s.split(',').all(x, x != '')", 10_000, 1_000_000},
		{"quadratic", "object.items.all(a, object.items.all(b, a + b >= 0))", 100, 1000},
		// Nothing bounds what a variable holds: tracked.
		{"loop over a variable", "variables.v.all(x, x != '')", -1, -1},
	}
	env, err := baseEnv()
	if err != nil {
		t.Fatal(err)
	}
	env, err = env.Extend(cel.Variable("variables.v", cel.DynType))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, err := compileExpr(env, "e", tt.expr, cel.BoolType)
			if err != nil {
				t.Fatal(err)
			}
			if pr.size.fast < tt.min || pr.size.fast > tt.max {
				t.Errorf("size.fast %d, want %d to %d", pr.size.fast, tt.min, tt.max)
			}
			if pr.size.quick > pr.size.fast {
				t.Errorf("size.quick %d above size.fast %d", pr.size.quick, pr.size.fast)
			}
			if (pr.fast == nil) != (pr.size.fast < 0) {
				t.Errorf("fast program %v with size.fast %d", pr.fast != nil, pr.size.fast)
			}
		})
	}
}

// TestStaticBoundCoversActualCost checks the estimator against what the
// cost tracker measures: for every expression of the built-in library, on
// compliant and non-compliant objects, the actual cost is at most the
// estimate for the input's size bound. An estimate below it would let an
// untracked program run past the limit.
func TestStaticBoundCoversActualCost(t *testing.T) {
	bad := "name: bad\nimage: bad:latest\nsecurityContext: {privileged: true, runAsUser: 0, capabilities: {add: [SYS_ADMIN, NET_ADMIN, NET_BIND_SERVICE]}}"
	objects := map[string]string{
		"hardened pod": pod(containers(hardened, strings.Replace(hardened, "name: app", "name: side", 1))),
		"bad pod": pod("hostNetwork: true\nhostPID: true\nvolumes: [{name: h, hostPath: {path: /}}, {name: e, emptyDir: {}}]\n" +
			containers(bad, bad, strings.Replace(hardened, "name: app", "name: ok", 1))),
		"deployment": deployment(containers(bad)),
		"many containers": pod("volumes: [{name: h, hostPath: {path: /}}, {name: i, hostPath: {path: /etc}}]\n" +
			containers(slices.Repeat([]string{strings.Replace(bad, "NET_BIND_SERVICE]", "NET_BIND_SERVICE, A, B, C, D, E, F, G]", 1)}, 40)...)),
		"cronjob": cronJob(containers(hardened)),
		"service": "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: shop}\nspec: {type: NodePort, ports: [{port: 80, nodePort: 30080}]}\n",
	}
	base, err := baseEnv()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range builtinList(t) {
		env := base
		for _, v := range p.Doc.Spec.Variables {
			if env, err = env.Extend(cel.Variable(varVariables+"."+v.Name, cel.DynType)); err != nil {
				t.Fatal(err)
			}
		}
		ctrEnv, err := env.Extend(cel.Variable(varContainer, cel.DynType))
		if err != nil {
			t.Fatal(err)
		}
		type expr struct {
			pr        program
			container bool
		}
		var exprs []expr
		for _, pr := range append(append([]program{}, p.conditions...), p.variables...) {
			exprs = append(exprs, expr{pr: pr})
		}
		for _, v := range p.validations {
			exprs = append(exprs, expr{v.check, v.scope == ScopeContainer})
			if v.message != nil {
				exprs = append(exprs, expr{*v.message, v.scope == ScopeContainer})
			}
		}
		for name, manifest := range objects {
			in := &Input{Object: objectOf(t, manifest), Request: Request{Operation: "CREATE"}}
			a := p.activation(t.Context(), in, false)
			for _, e := range exprs {
				e1 := env
				acts := []interpreter.Activation{a}
				if e.container {
					e1 = ctrEnv
					acts = acts[:0]
					for _, c := range a.d.containers {
						acts = append(acts, &containerVars{vars: a, container: c.(map[string]any)})
					}
				}
				ast, iss := e1.Compile(e.pr.expr)
				if iss.Err() != nil {
					t.Fatal(iss.Err())
				}
				est, err := e1.EstimateCost(ast, sizeEstimator{size: uint64(a.size)})
				if err != nil {
					t.Fatal(err)
				}
				for _, act := range acts {
					_, det, err := e.pr.prg.ContextEval(t.Context(), act)
					if err != nil && !strings.Contains(err.Error(), "no such key") {
						t.Fatalf("%s %s on %s: %v", p.ID, e.pr.name, name, err)
					}
					got := det.ActualCost()
					if got == nil {
						t.Fatalf("%s %s: no cost tracked", p.ID, e.pr.name)
					}
					bound := est.Max * uint64(selectChain(ast.NativeRep().Expr())+1)
					if *got > bound {
						t.Errorf("%s %s on %s: actual cost %d, over the bound %d for size %d", p.ID, e.pr.name, name, *got, bound, a.size)
					}
				}
			}
		}
	}
}

func builtinList(t *testing.T) []*Policy {
	t.Helper()
	ps, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestSizeBound(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want int
	}{
		{"scalar", int64(7), 0},
		{"string bytes bound its runes", "héllo", 6},
		{"list length", []any{int64(1), int64(2), int64(3)}, 3},
		{"nested string", map[string]any{"a": []any{"abcdefgh"}}, 8},
		{"map key", map[string]any{"a-long-key": true}, 10},
		{"string map", map[string]string{"k": "value"}, 5},
		// A shape it does not walk has no bound: every evaluation is tracked.
		{"unknown shape", map[string]any{"t": struct{}{}}, math.MaxInt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sizeBound(tt.v); got != tt.want {
				t.Errorf("sizeBound = %d, want %d", got, tt.want)
			}
		})
	}
	in := &Input{Object: map[string]any{"kind": "Pod"}, NamespaceObject: map[string]any{"t": struct{}{}}}
	if got := in.derive(false).size; got != math.MaxInt {
		t.Errorf("input with an unknown shape: size %d, want unbounded", got)
	}
	in = &Input{Object: map[string]any{"kind": "Pod"}, JSONSize: 40}
	if got := in.derive(false).size; got != 41 {
		t.Errorf("input decoded from 40 bytes: size %d, want 41 (containers carry one more entry)", got)
	}
}
