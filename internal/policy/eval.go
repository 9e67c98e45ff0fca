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
	act := p.activation(ctx, in, false)
	for _, c := range p.conditions {
		ok, err := act.evalBool(c, act)
		if err != nil {
			return Result{}, &EvalError{Policy: p.ID, Expr: c.name, Err: err}
		}
		if !ok {
			return Result{}, nil
		}
	}
	vs, err := p.violations(act)
	if err != nil {
		return Result{Matched: true}, err
	}
	if len(vs) > 0 && p.OnUpdate == ChangedOnly && in.Request.Operation == "UPDATE" && in.OldObject != nil {
		// Judge only what changed: drop what the old object already broke.
		old, err := p.violations(p.activation(ctx, in, true))
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
// in.OldObject judged as if it were new).
func (p *Policy) activation(ctx context.Context, in *Input, old bool) *vars {
	d := in.derive(old)
	a := &d.act
	values := a.values[:0]
	*a = vars{ctx: ctx, p: p, d: d, size: d.size, params: in.Params, nsObject: orNull(in.NamespaceObject)}
	if a.params == nil {
		a.params = p.Doc.Spec.Params
		a.size = max(a.size, p.paramsSize)
	} else {
		a.size = max(a.size, sizeBound(a.params))
	}
	if n := len(p.variables); n > 0 {
		a.values = append(values, make([]ref.Val, n)...)
	} else {
		a.values = values
	}
	return a
}

// vars is the activation of one policy on one object: what a map of
// bindings would hold, without building the map for every policy. The
// engine judges with one policy at a time, so each object's derived values
// hold one vars, reset for each policy.
// Policy variables are bound lazily: each is evaluated at most once, and
// only if an expression reads it, as in ValidatingAdmissionPolicy.
type vars struct {
	// ctx is held, against the usual rule, because ResolveName evaluates
	// variables and has no context parameter; a vars lives for one
	// Evaluate call.
	ctx      context.Context
	p        *Policy
	d        *derived
	params   any
	nsObject any
	size     int       // sizeBound of every value bound; see program.size
	values   []ref.Val // of p.variables, nil until read
}

func (a *vars) ResolveName(name string) (any, bool) {
	switch name {
	case varObject:
		return a.d.object, true
	case varOldObject:
		return orNull(a.d.oldObject), true
	case varRequest:
		return a.d.requestValue(), true
	case varNamespaceObject:
		return a.nsObject, true
	case varParams:
		return a.params, true
	case varPodSpec:
		return orNull(a.d.podSpec), true
	case varPodMetadata:
		return orNull(a.d.podMeta), true
	case varContainers:
		return a.d.containers, true
	}
	i, ok := a.p.varIndex[name]
	if !ok {
		return nil, false
	}
	if a.values[i] == nil {
		v := a.p.variables[i]
		out, err := a.eval(v, a)
		if err != nil {
			out = types.NewErr("%s: %v", v.name, err)
		}
		a.values[i] = out
	}
	return a.values[i], true
}

func (a *vars) Parent() interpreter.Activation { return nil }

// containerVars adds container to the policy's activation.
type containerVars struct {
	*vars
	container map[string]any
}

func (c *containerVars) ResolveName(name string) (any, bool) {
	if name == varContainer {
		return c.container, true
	}
	return c.vars.ResolveName(name)
}

func (c *containerVars) Parent() interpreter.Activation { return nil }

// orNull keeps a nil map a CEL null rather than a typed nil map.
func orNull(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

func (p *Policy) violations(a *vars) ([]Violation, error) {
	var out []Violation
	var cacts []containerVars // set up on the first container validation
	for _, v := range p.validations {
		if v.scope == ScopeObject {
			ok, err := a.evalBool(v.check, a)
			if err != nil {
				return nil, &EvalError{Policy: p.ID, Expr: v.check.name, Err: err}
			}
			if !ok {
				out = append(out, Violation{Message: a.message(v, a), Reason: v.reason})
			}
			continue
		}
		if cacts == nil {
			if a.d.cacts == nil {
				a.d.cacts = make([]containerVars, len(a.d.containers))
			}
			cacts = a.d.cacts
			for i, c := range a.d.containers {
				m, _ := c.(map[string]any)
				cacts[i] = containerVars{vars: a, container: m}
			}
		}
		for i := range cacts {
			cact := &cacts[i]
			ok, err := a.evalBool(v.check, cact)
			if err != nil {
				return nil, &EvalError{Policy: p.ID, Expr: v.check.name + " for container " + str(cact.container, "name"), Err: err}
			}
			if !ok {
				m := cact.container
				out = append(out, Violation{
					Container: str(m, "name"), ContainerKind: str(m, "kind"), Image: str(m, "image"),
					Message: a.message(v, cact), Reason: v.reason,
				})
			}
		}
	}
	return out, nil
}

// message returns the violation text: messageExpression when it yields a
// non-empty string, else message (ValidatingAdmissionPolicy's fallback).
func (a *vars) message(v validation, act interpreter.Activation) string {
	if v.message != nil {
		out, err := a.eval(*v.message, act)
		if err == nil {
			if s, ok := out.Value().(string); ok && s != "" {
				return s
			}
		}
	}
	return v.text
}

// eval runs pr on act, without cost tracking when the input is small
// enough for pr's static cost bound, and without a context when it is
// small enough for the evaluation to be quick (see cost.go).
func (a *vars) eval(pr program, act interpreter.Activation) (ref.Val, error) {
	switch {
	case a.size <= pr.size.quick:
		if err := a.ctx.Err(); err != nil {
			return nil, err
		}
		out, _, err := pr.fast.Eval(act)
		return out, err
	case a.size <= pr.size.fast:
		out, _, err := pr.fast.ContextEval(a.ctx, act)
		return out, err
	}
	out, _, err := pr.prg.ContextEval(a.ctx, act)
	return out, err
}

var errNotBool = errors.New("expression did not yield a bool")

func (a *vars) evalBool(pr program, act interpreter.Activation) (bool, error) {
	out, err := a.eval(pr, act)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, errNotBool
	}
	return b, nil
}
