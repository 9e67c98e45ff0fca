package policy

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
)

// Result is a policy's verdict on one input.
type Result struct {
	// Matched is false when matchResources or matchConditions exclude the
	// input; the policy then has no violations.
	Matched    bool
	Violations []Violation
}

// Violation is one failed validation.
type Violation struct {
	// Container, ContainerKind and Image are set for container-scoped
	// validations.
	Container     string
	ContainerKind string // container, initContainer, ephemeralContainer
	Image         string
	Message       string
	Reason        string // Forbidden, Invalid, … as the policy says; may be empty
}

// EvalError is an expression that could not be evaluated: a missing field
// the policy did not guard with has(), a type mismatch, the cost limit.
type EvalError struct {
	Policy string
	Expr   string // "validations[0].expression"
	Err    error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("policy %s: evaluate %s: %v", e.Policy, e.Expr, e.Err)
}

func (e *EvalError) Unwrap() error { return e.Err }

// Evaluate judges in. An error means the policy could not decide; the
// caller applies its failure behaviour.
func (p *Policy) Evaluate(ctx context.Context, in *Input) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if in.Object == nil || !p.match.matches(in) {
		return Result{}, nil
	}
	act := p.activation(in, false)
	for _, c := range p.conditions {
		ok, err := evalBool(ctx, c, act)
		if err != nil {
			return Result{}, &EvalError{Policy: p.ID, Expr: c.name, Err: err}
		}
		if !ok {
			return Result{}, nil
		}
	}
	vs, err := p.violations(ctx, act)
	if err != nil {
		return Result{Matched: true}, err
	}
	if len(vs) > 0 && p.OnUpdate == ChangedOnly && in.Request.Operation == "UPDATE" && in.OldObject != nil {
		// Judge only what changed: drop what the old object already broke.
		old, err := p.violations(ctx, p.activation(in, true))
		if err != nil {
			return Result{Matched: true}, err
		}
		had := make(map[Violation]bool, len(old))
		for _, v := range old {
			had[v] = true
		}
		kept := vs[:0]
		for _, v := range vs {
			if !had[v] {
				kept = append(kept, v)
			}
		}
		vs = kept
	}
	return Result{Matched: true, Violations: vs}, nil
}

// activation binds the variables for in.Object (or, with old set, for
// in.OldObject judged as if it were new). Policy variables are bound
// lazily: each is evaluated at most once, and only if an expression reads
// it, as in ValidatingAdmissionPolicy.
func (p *Policy) activation(in *Input, old bool) interpreter.Activation {
	d := in.derive(old)
	params := in.Params
	if params == nil {
		params = p.Doc.Spec.Params
	}
	b := map[string]any{
		varObject:          d.object,
		varOldObject:       orNull(d.oldObject),
		varRequest:         d.request,
		varNamespaceObject: orNull(in.NamespaceObject),
		varParams:          params,
		varPodSpec:         orNull(d.podSpec),
		varPodMetadata:     orNull(d.podMeta),
		varContainers:      d.containers,
	}
	act, _ := interpreter.NewActivation(b) // a map is always accepted
	for _, v := range p.variables {
		b[varVariables+"."+v.name[len(varVariables)+1:]] = func() ref.Val {
			out, _, err := v.prg.Eval(act)
			if err != nil {
				return types.NewErr("%s: %v", v.name, err)
			}
			return out
		}
	}
	return act
}

// orNull keeps a nil map a CEL null rather than a typed nil map.
func orNull(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

func (p *Policy) violations(ctx context.Context, act interpreter.Activation) ([]Violation, error) {
	var out []Violation
	for _, v := range p.validations {
		if v.scope == ScopeObject {
			ok, err := evalBool(ctx, v.check, act)
			if err != nil {
				return nil, &EvalError{Policy: p.ID, Expr: v.check.name, Err: err}
			}
			if !ok {
				out = append(out, Violation{Message: p.message(ctx, v, act), Reason: v.reason})
			}
			continue
		}
		cs, _ := act.ResolveName(varContainers)
		list, _ := cs.([]any)
		for _, c := range list {
			m, _ := c.(map[string]any)
			cact := interpreter.NewHierarchicalActivation(act, mustActivation(map[string]any{varContainer: m}))
			ok, err := evalBool(ctx, v.check, cact)
			if err != nil {
				return nil, &EvalError{Policy: p.ID, Expr: v.check.name + " for container " + str(m, "name"), Err: err}
			}
			if !ok {
				out = append(out, Violation{
					Container: str(m, "name"), ContainerKind: str(m, "kind"), Image: str(m, "image"),
					Message: p.message(ctx, v, cact), Reason: v.reason,
				})
			}
		}
	}
	return out, nil
}

func mustActivation(m map[string]any) interpreter.Activation {
	a, _ := interpreter.NewActivation(m)
	return a
}

// message returns the violation text: messageExpression when it yields a
// non-empty string, else message (ValidatingAdmissionPolicy's fallback).
func (p *Policy) message(ctx context.Context, v validation, act interpreter.Activation) string {
	if v.message != nil {
		out, _, err := v.message.prg.ContextEval(ctx, act)
		if err == nil {
			if s, ok := out.Value().(string); ok && s != "" {
				return s
			}
		}
	}
	return v.text
}

var errNotBool = errors.New("expression did not yield a bool")

func evalBool(ctx context.Context, pr program, act interpreter.Activation) (bool, error) {
	out, _, err := pr.prg.ContextEval(ctx, act)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, errNotBool
	}
	return b, nil
}
