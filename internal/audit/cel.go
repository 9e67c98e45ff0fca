package audit

import (
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common"
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

// compileBool compiles a boolean CEL condition; name identifies it in
// error positions ("rules.yaml: rule x").
func compileBool(env *cel.Env, name, expr string) (Predicate, error) {
	prg, err := compileProgram(env, name, expr, cel.BoolType)
	if err != nil {
		return nil, err
	}
	return func(e *Event) (bool, error) {
		out, _, err := prg.Eval(e.activation())
		if err != nil {
			return false, err
		}
		b, ok := out.Value().(bool)
		return ok && b, nil
	}, nil
}

// compileStrings compiles a CEL expression that yields a string or a list
// of strings: a join key of a sequence step or a throttle key.
func compileStrings(env *cel.Env, name, expr string) (func(*Event) []string, error) {
	prg, err := compileProgram(env, name, expr, nil)
	if err != nil {
		return nil, err
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

func compileProgram(env *cel.Env, name, expr string, want *cel.Type) (cel.Program, error) {
	ast, iss := env.CompileSource(common.NewStringSource(expr, name))
	if iss.Err() != nil {
		return nil, fmt.Errorf("compile CEL: %s", strings.TrimSpace(iss.Err().Error()))
	}
	if want != nil && !ast.OutputType().IsExactType(want) && !ast.OutputType().IsExactType(cel.DynType) {
		return nil, fmt.Errorf("compile CEL %s: condition yields %s, want %s", name, ast.OutputType(), want)
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, fmt.Errorf("plan CEL %s: %w", name, err)
	}
	return prg, nil
}
