package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/overloads"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
)

// NewCELEnv returns the CEL environment rule conditions compile in: one
// variable, e, the normalized event as a map (see Event.Value for its
// fields), plus the standard string extensions.
func NewCELEnv() (*cel.Env, error) {
	env, err := cel.NewEnv(
		cel.Variable("e", cel.MapType(cel.StringType, cel.DynType)),
		ext.Strings(),
		ext.Sets(),
	)
	if err != nil {
		return nil, fmt.Errorf("build CEL environment: %w", err)
	}
	return env, nil
}

// condition is a compiled boolean condition and what the engine may know
// about it without running it.
type condition struct {
	eval Predicate
	// guards are the top-level conjuncts that compiled to Go (see
	// nativeBool): when one is false the condition is false, whatever the
	// rest would give — CEL's && is false as soon as one side is, errors
	// or not. The engine indexes rules by the guards that read only
	// indexed fields.
	guards []guard
	// native: every conjunct is a guard, CEL never runs.
	native bool
}

// guard is a conjunct of a condition compiled to Go, and the event
// fields it reads (a bit per entry of eventStrings).
type guard struct {
	test   func(*Event) bool
	fields uint64
}

// compileBool compiles a boolean CEL condition; name identifies it in
// error positions ("rules.yaml: rule x").
func compileBool(env *cel.Env, name, expr string) (Predicate, error) {
	c, err := compileCondition(env, name, expr)
	if err != nil {
		return nil, err
	}
	return c.eval, nil
}

// compileCondition compiles a boolean CEL condition. Conjuncts that only
// compare the event's string fields (e.verb == 'create', e.actor.type in
// [...], e.uri.startsWith(...)) run as Go, before CEL and without the
// event's CEL value, which most events then never need: they are the
// cheap, selective part of nearly every rule.
func compileCondition(env *cel.Env, name, expr string) (*condition, error) {
	prg, ast, err := compileProgram(env, name, expr, cel.BoolType)
	if err != nil {
		return nil, err
	}
	c := &condition{}
	all := conjuncts(ast.NativeRep().Expr(), nil)
	for _, x := range all {
		if test, fields, ok := nativeBool(x); ok {
			c.guards = append(c.guards, guard{test: test, fields: fields})
		}
	}
	guards := c.guards
	if len(guards) == len(all) {
		c.native = true
		c.eval = func(e *Event) (bool, error) {
			for i := range guards {
				if !guards[i].test(e) {
					return false, nil
				}
			}
			return true, nil
		}
		return c, nil
	}
	c.eval = func(e *Event) (bool, error) {
		for i := range guards {
			if !guards[i].test(e) {
				return false, nil
			}
		}
		out, _, err := prg.Eval(e.activation())
		if err != nil {
			return false, err
		}
		b, ok := out.Value().(bool)
		return ok && b, nil
	}
	return c, nil
}

// compileStrings compiles a CEL expression that yields a string or a list
// of strings: a join key of a sequence step or a throttle key.
func compileStrings(env *cel.Env, name, expr string) (func(*Event) []string, error) {
	prg, ast, err := compileProgram(env, name, expr, nil)
	if err != nil {
		return nil, err
	}
	x := ast.NativeRep().Expr()
	if get, ok := nativeString(x); ok {
		return func(e *Event) []string {
			if s := get(e); s != "" {
				return []string{s}
			}
			return nil
		}, nil
	}
	if get, ok := nativeList(x); ok {
		return func(e *Event) []string {
			var out []string
			for _, s := range get(e) {
				if s != "" {
					out = append(out, s)
				}
			}
			return out
		}, nil
	}
	return func(e *Event) []string {
		out, _, err := prg.Eval(e.activation())
		if err != nil {
			return nil
		}
		return stringsOf(out)
	}, nil
}

func stringsOf(v ref.Val) []string {
	switch x := v.Value().(type) {
	case string:
		if x == "" {
			return nil
		}
		return []string{x}
	}
	if l, ok := v.(interface {
		Size() ref.Val
		Get(ref.Val) ref.Val
	}); ok && v.Type() == types.ListType {
		n, _ := l.Size().Value().(int64)
		var out []string
		for i := int64(0); i < n; i++ {
			if s, ok := l.Get(types.Int(i)).Value().(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func compileProgram(env *cel.Env, name, expr string, want *cel.Type) (cel.Program, *cel.Ast, error) {
	ast, iss := env.CompileSource(common.NewStringSource(expr, name))
	if iss.Err() != nil {
		return nil, nil, fmt.Errorf("compile CEL: %s", strings.TrimSpace(iss.Err().Error()))
	}
	if want != nil && !ast.OutputType().IsExactType(want) && !ast.OutputType().IsExactType(cel.DynType) {
		return nil, nil, fmt.Errorf("compile CEL %s: condition yields %s, want %s", name, ast.OutputType(), want)
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, nil, fmt.Errorf("plan CEL %s: %w", name, err)
	}
	return prg, ast, nil
}

// conjuncts appends the operands of x's top-level && chain (x itself when
// it is not an &&).
func conjuncts(x celast.Expr, out []celast.Expr) []celast.Expr {
	if x.Kind() == celast.CallKind && x.AsCall().FunctionName() == operators.LogicalAnd {
		for _, a := range x.AsCall().Args() {
			out = conjuncts(a, out)
		}
		return out
	}
	return append(out, x)
}

// nativeBool compiles x to Go when it is a boolean combination (&&, ||,
// !) of comparisons of the event's string fields with each other or with
// string literals: ==, !=, in a list of literals, startsWith, endsWith,
// contains. Those fields are always present strings in Value, so the Go
// form gives exactly CEL's answer and never an error. fields has a bit
// set per field read.
func nativeBool(x celast.Expr) (test func(*Event) bool, fields uint64, ok bool) {
	switch x.Kind() {
	case celast.LiteralKind:
		if b, isBool := x.AsLiteral().(types.Bool); isBool {
			v := bool(b)
			return func(*Event) bool { return v }, 0, true
		}
	case celast.CallKind:
		return nativeCall(x.AsCall())
	}
	return nil, 0, false
}

func nativeCall(call celast.CallExpr) (func(*Event) bool, uint64, bool) {
	args := call.Args()
	switch fn := call.FunctionName(); {
	case fn == operators.LogicalAnd || fn == operators.LogicalOr:
		var tests []func(*Event) bool
		var fields uint64
		for _, a := range args {
			t, f, ok := nativeBool(a)
			if !ok {
				return nil, 0, false
			}
			tests = append(tests, t)
			fields |= f
		}
		if len(tests) != 2 {
			return nil, 0, false
		}
		l, r := tests[0], tests[1]
		if fn == operators.LogicalAnd {
			return func(e *Event) bool { return l(e) && r(e) }, fields, true
		}
		return func(e *Event) bool { return l(e) || r(e) }, fields, true
	case fn == operators.LogicalNot && len(args) == 1:
		t, f, ok := nativeBool(args[0])
		if !ok {
			return nil, 0, false
		}
		return func(e *Event) bool { return !t(e) }, f, true
	case (fn == operators.Equals || fn == operators.NotEquals) && len(args) == 2:
		eq, f, ok := nativeEquals(args[0], args[1])
		if !ok {
			return nil, 0, false
		}
		if fn == operators.NotEquals {
			return func(e *Event) bool { return !eq(e) }, f, true
		}
		return eq, f, true
	case fn == operators.In && len(args) == 2:
		return nativeIn(args[0], args[1])
	case (fn == overloads.StartsWith || fn == overloads.EndsWith || fn == overloads.Contains) &&
		call.IsMemberFunction() && len(args) == 1:
		s, sf, ok := stringOperand(call.Target())
		if !ok {
			return nil, 0, false
		}
		sub, af, ok := stringOperand(args[0])
		if !ok {
			return nil, 0, false
		}
		op := map[string]func(string, string) bool{overloads.StartsWith: strings.HasPrefix,
			overloads.EndsWith: strings.HasSuffix, overloads.Contains: strings.Contains}[fn]
		return func(e *Event) bool { return op(s(e), sub(e)) }, sf | af, true
	}
	return nil, 0, false
}

// nativeEquals compiles a == b over string operands, specialized for the
// common field == literal.
func nativeEquals(a, b celast.Expr) (func(*Event) bool, uint64, bool) {
	if _, ok := stringLiteral(a); ok {
		a, b = b, a // literal == field: the same comparison
	}
	if i, ok := fieldIndex(a); ok {
		if lit, ok := stringLiteral(b); ok {
			get := eventStrings[i].get
			return func(e *Event) bool { return get(e) == lit }, 1 << i, true
		}
	}
	l, lf, ok := stringOperand(a)
	if !ok {
		return nil, 0, false
	}
	r, rf, ok := stringOperand(b)
	if !ok {
		return nil, 0, false
	}
	return func(e *Event) bool { return l(e) == r(e) }, lf | rf, true
}

// nativeIn compiles a string operand in a list of string literals.
func nativeIn(elem, list celast.Expr) (func(*Event) bool, uint64, bool) {
	s, f, ok := stringOperand(elem)
	if !ok || list.Kind() != celast.ListKind || len(list.AsList().OptionalIndices()) > 0 {
		return nil, 0, false
	}
	var set []string
	for _, x := range list.AsList().Elements() {
		lit, ok := stringLiteral(x)
		if !ok {
			return nil, 0, false
		}
		set = append(set, lit)
	}
	return func(e *Event) bool { return contains(set, s(e)) }, f, true
}

// stringOperand compiles a string literal or an event string field.
func stringOperand(x celast.Expr) (func(*Event) string, uint64, bool) {
	if lit, ok := stringLiteral(x); ok {
		return func(*Event) string { return lit }, 0, true
	}
	if i, ok := fieldIndex(x); ok {
		return eventStrings[i].get, 1 << i, true
	}
	return nil, 0, false
}

func stringLiteral(x celast.Expr) (string, bool) {
	if x.Kind() != celast.LiteralKind {
		return "", false
	}
	s, ok := x.AsLiteral().(types.String)
	return string(s), ok
}

// fieldPath returns "actor.type" for e.actor.type.
func fieldPath(x celast.Expr) (string, bool) {
	var parts []string
	for x.Kind() == celast.SelectKind {
		sel := x.AsSelect()
		if sel.IsTestOnly() {
			return "", false
		}
		parts = append(parts, sel.FieldName())
		x = sel.Operand()
	}
	if x.Kind() != celast.IdentKind || x.AsIdent() != "e" || len(parts) == 0 {
		return "", false
	}
	slices.Reverse(parts)
	return strings.Join(parts, "."), true
}

// fieldIndex returns the index in eventStrings of the field x selects.
func fieldIndex(x celast.Expr) (int, bool) {
	p, ok := fieldPath(x)
	if !ok {
		return 0, false
	}
	for i, f := range eventStrings {
		if f.path == p {
			return i, true
		}
	}
	return 0, false
}

// nativeString compiles a string expression: a literal, a string field, or
// their concatenation with +.
func nativeString(x celast.Expr) (func(*Event) string, bool) {
	if get, _, ok := stringOperand(x); ok {
		return get, true
	}
	if x.Kind() != celast.CallKind || x.AsCall().FunctionName() != operators.Add || len(x.AsCall().Args()) != 2 {
		return nil, false
	}
	l, ok := nativeString(x.AsCall().Args()[0])
	if !ok {
		return nil, false
	}
	r, ok := nativeString(x.AsCall().Args()[1])
	if !ok {
		return nil, false
	}
	return func(e *Event) string { return l(e) + r(e) }, true
}

// nativeList compiles a list-of-strings expression: a list field, a list
// literal of string expressions, or their concatenation with +. The
// result may share the event's slices: callers only read it.
func nativeList(x celast.Expr) (func(*Event) []string, bool) {
	switch x.Kind() {
	case celast.SelectKind:
		p, ok := fieldPath(x)
		if !ok {
			return nil, false
		}
		for _, f := range eventLists {
			if f.path == p {
				return f.get, true
			}
		}
	case celast.ListKind:
		if len(x.AsList().OptionalIndices()) > 0 {
			return nil, false
		}
		var elems []func(*Event) string
		for _, el := range x.AsList().Elements() {
			s, ok := nativeString(el)
			if !ok {
				return nil, false
			}
			elems = append(elems, s)
		}
		return func(e *Event) []string {
			out := make([]string, len(elems))
			for i, s := range elems {
				out[i] = s(e)
			}
			return out
		}, true
	case celast.CallKind:
		call := x.AsCall()
		if call.FunctionName() != operators.Add || len(call.Args()) != 2 {
			return nil, false
		}
		l, ok := nativeList(call.Args()[0])
		if !ok {
			return nil, false
		}
		r, ok := nativeList(call.Args()[1])
		if !ok {
			return nil, false
		}
		return func(e *Event) []string { return slices.Concat(l(e), r(e)) }, true
	}
	return nil, false
}
