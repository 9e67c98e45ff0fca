package policy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common"
	"github.com/google/cel-go/ext"
	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/labels"
)

// CostLimit bounds the runtime cost of one expression evaluation, the
// per-expression limit of ValidatingAdmissionPolicy: a policy runs on the
// API server's request path and must not be able to stall it.
const CostLimit = 1_000_000

// The variables every expression can use.
const (
	varObject          = "object"
	varOldObject       = "oldObject"
	varRequest         = "request"
	varNamespaceObject = "namespaceObject"
	varParams          = "params"
	varPodSpec         = "podSpec"
	varPodMetadata     = "podMetadata"
	varContainers      = "containers"
	varContainer       = "container"
	varVariables       = "variables"
)

// Policy is a parsed and compiled policy, safe for concurrent use.
type Policy struct {
	ID          string
	Title       string
	Severity    string
	Remediation string
	Controls    []string
	// Mode is the policy's own mode; the configuration may override it.
	Mode     Mode
	OnUpdate OnUpdate
	// FailurePolicy is what admission does when the policy cannot be
	// evaluated.
	FailurePolicy FailurePolicy
	// File and Line locate the policy's document.
	File string
	Line int
	Doc  Document

	match       matcher
	conditions  []program
	variables   []program
	varIndex    map[string]int // "variables.<name>" to its index in variables
	validations []validation
	paramsSize  int // sizeBound of Doc.Spec.Params
}

// program is one compiled expression and where it was written.
type program struct {
	name string // "spec.validations[0].expression"
	expr string
	// prg tracks the runtime cost of an evaluation against CostLimit; fast
	// does not, and runs only on inputs of at most size.fast, for which the
	// static estimate proves the cost within CostLimit (see cost.go).
	prg  cel.Program
	fast cel.Program
	size sizeLimits
}

type validation struct {
	check   program
	message *program // nil without messageExpression
	text    string   // message, or a default naming the expression
	reason  string
	scope   Scope
}

func baseEnv() (*cel.Env, error) {
	dyn := cel.DynType
	env, err := cel.NewEnv(
		cel.Variable(varObject, dyn),
		cel.Variable(varOldObject, dyn),
		cel.Variable(varRequest, dyn),
		cel.Variable(varNamespaceObject, dyn),
		cel.Variable(varParams, dyn),
		cel.Variable(varPodSpec, dyn),
		cel.Variable(varPodMetadata, dyn),
		cel.Variable(varContainers, cel.ListType(dyn)),
		cel.OptionalTypes(),
		cel.CrossTypeNumericComparisons(true),
		ext.Strings(),
		ext.Sets(),
		ext.Lists(),
	)
	if err != nil {
		return nil, fmt.Errorf("build CEL environment: %w", err)
	}
	return env, nil
}

// compileDocument validates doc and compiles its expressions. Variables are
// declared one by one as variables.<name>, each visible to the ones after
// it, so that a typo in a name is a load error rather than a runtime one.
func compileDocument(base *cel.Env, file string, root *yaml.Node, doc *Document) (*Policy, []error) {
	errs := validateDocument(file, root, doc)
	s := &doc.Spec
	p := &Policy{
		ID: doc.Metadata.Name, Title: s.Title, Severity: s.Severity, Remediation: s.Remediation,
		Controls: s.Controls, Mode: s.Mode, OnUpdate: s.OnUpdate, FailurePolicy: s.FailurePolicy, File: file, Line: lineAt(root), Doc: *doc,
	}
	if p.Line == 0 {
		p.Line = 1
	}
	m, err := newMatcher(&s.MatchResources)
	if err != nil {
		errs = append(errs, &Error{File: file, Line: lineAt(root, "spec", "matchResources"), Policy: p.ID, Msg: err.Error()})
	}
	p.match = m
	p.paramsSize = sizeBound(s.Params)
	fail := func(path []string, name string, err error) {
		errs = append(errs, &Error{File: file, Line: lineAt(root, path...), Policy: p.ID, Msg: name + ": " + err.Error()})
	}
	compile := func(env *cel.Env, path []string, name, expr string, want *cel.Type) (program, bool) {
		if strings.TrimSpace(expr) == "" {
			fail(path, name, fmt.Errorf("empty expression"))
			return program{}, false
		}
		pr, err := compileExpr(env, name, expr, want)
		if err != nil {
			fail(path, name, err)
			return program{}, false
		}
		return pr, true
	}
	env := base
	for i, c := range s.MatchConditions {
		path := []string{"spec", "matchConditions", strconv.Itoa(i), "expression"}
		if pr, ok := compile(env, path, fmt.Sprintf("matchConditions[%d] %s", i, c.Name), c.Expression, cel.BoolType); ok {
			p.conditions = append(p.conditions, pr)
		}
	}
	for i, v := range s.Variables {
		path := []string{"spec", "variables", strconv.Itoa(i), "expression"}
		if pr, ok := compile(env, path, "variables."+v.Name, v.Expression, nil); ok {
			if p.varIndex == nil {
				p.varIndex = make(map[string]int, len(s.Variables))
			}
			p.varIndex[pr.name] = len(p.variables)
			p.variables = append(p.variables, pr)
		}
		next, err := env.Extend(cel.Variable(varVariables+"."+v.Name, cel.DynType))
		if err != nil {
			fail(path, "variables."+v.Name, err)
			continue
		}
		env = next
	}
	ctrEnv, err := env.Extend(cel.Variable(varContainer, cel.DynType))
	if err != nil {
		return nil, append(errs, fmt.Errorf("build CEL container environment: %w", err))
	}
	for i, v := range s.Validations {
		e := env
		if v.Scope == ScopeContainer {
			e = ctrEnv
		}
		idx := strconv.Itoa(i)
		val := validation{reason: v.Reason, scope: v.Scope, text: v.Message}
		if val.text == "" {
			val.text = "failed " + strings.Join(strings.Fields(v.Expression), " ")
		}
		check, ok := compile(e, []string{"spec", "validations", idx, "expression"}, "validations["+idx+"].expression", v.Expression, cel.BoolType)
		val.check = check
		if v.MessageExpression != "" {
			msg, mok := compile(e, []string{"spec", "validations", idx, "messageExpression"}, "validations["+idx+"].messageExpression", v.MessageExpression, cel.StringType)
			ok = ok && mok
			val.message = &msg
		}
		if ok {
			p.validations = append(p.validations, val)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

func compileExpr(env *cel.Env, name, expr string, want *cel.Type) (program, error) {
	ast, iss := env.CompileSource(common.NewStringSource(expr, name))
	if iss.Err() != nil {
		return program{}, fmt.Errorf("compile CEL %q: %s", oneLine(expr), strings.TrimSpace(iss.Err().Error()))
	}
	if want != nil && !ast.OutputType().IsExactType(want) && !ast.OutputType().IsExactType(cel.DynType) {
		return program{}, fmt.Errorf("CEL %q yields %s, want %s", oneLine(expr), ast.OutputType(), want)
	}
	limits, err := costBounds(env, ast)
	if err != nil {
		return program{}, fmt.Errorf("CEL %q %w", oneLine(expr), err)
	}
	pr := program{name: name, expr: expr, size: limits}
	// The context deadline interrupts both programs in comprehensions.
	pr.prg, err = env.Program(ast,
		cel.CostLimit(CostLimit),
		cel.InterruptCheckFrequency(100),
		cel.EvalOptions(cel.OptOptimize),
	)
	if err != nil {
		return program{}, fmt.Errorf("plan CEL %q: %w", oneLine(expr), err)
	}
	if limits.fast >= 0 {
		pr.fast, err = env.Program(ast,
			cel.InterruptCheckFrequency(100),
			cel.EvalOptions(cel.OptOptimize),
		)
		if err != nil {
			return program{}, fmt.Errorf("plan CEL %q: %w", oneLine(expr), err)
		}
	}
	return pr, nil
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// matcher is a compiled MatchResources.
type matcher struct {
	groups, kinds, ops map[string]bool // nil matches all
	nsSelector         labels.Selector // nil matches all
	excludeNS          map[string]bool
}

func set(xs []string) map[string]bool {
	if len(xs) == 0 {
		return nil
	}
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		if x == "*" {
			return nil
		}
		m[x] = true
	}
	return m
}

func newMatcher(mr *MatchResources) (matcher, error) {
	m := matcher{groups: set(mr.APIGroups), kinds: set(mr.Kinds), excludeNS: set(mr.ExcludeNamespaces)}
	ops := mr.Operations
	if len(ops) == 0 {
		ops = []string{"CREATE", "UPDATE"}
	}
	m.ops = set(ops)
	if sel := mr.NamespaceSelector; sel != nil {
		s, err := sel.selector()
		if err != nil {
			return m, fmt.Errorf("namespaceSelector: %w", err)
		}
		m.nsSelector = s
	}
	return m, nil
}
