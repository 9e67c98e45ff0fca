package policy

import (
	"fmt"
	"math"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
)

// Runtime cost tracking (cel.CostLimit) observes every evaluation step and
// was most of what a policy cost at admission. Instead, each expression's
// worst-case cost is estimated when it is compiled, as a function of the
// size of its input: sizeLimits.fast is the largest input size for which
// the estimate stays within CostLimit. An input at most that large (every
// admission request in practice) runs a program without cost tracking,
// proven cheap enough; a larger one runs the tracked program, so the limit
// holds either way. An expression that exceeds the limit whatever its input
// is rejected when it is loaded.

// maxFastSize bounds the search for an expression's size limits: far above the
// API server's 3 MiB request limit.
const maxFastSize = 1 << 26

// inputVars are the variables whose values come from the input: every value
// an expression reaches from one of them by selection, indexing or an
// optional is part of it, so no larger than the input's size bound.
var inputVars = map[string]bool{
	varObject: true, varOldObject: true, varRequest: true, varNamespaceObject: true, varParams: true,
	varPodSpec: true, varPodMetadata: true, varContainers: true, varContainer: true,
}

// sizeEstimator bounds by size the size of every input value, as CEL's
// size() counts it: list items, map entries, string runes. Values an
// expression builds (variables, function results other than selections)
// are left to CEL, unknown when it cannot tell: their cost is then
// unbounded and the expression stays tracked.
type sizeEstimator struct{ size uint64 }

func (e sizeEstimator) EstimateSize(n checker.AstNode) *checker.SizeEstimate {
	if p := n.Path(); len(p) > 0 {
		if inputVars[p[0]] {
			return &checker.SizeEstimate{Min: 0, Max: e.size}
		}
		return nil
	}
	if lit, ok := fromInput(n.Expr()); ok {
		return &checker.SizeEstimate{Min: 0, Max: max(e.size, lit)}
	}
	return nil
}

func (sizeEstimator) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}

// fromInput reports whether e can only yield a part of the input or a
// literal: an input variable, a selection or index into such a value, or an
// optional of one (x.?f, x[?k], o.orValue(y), o.value()). lit is the
// largest size of a literal e may yield instead.
func fromInput(e ast.Expr) (lit uint64, ok bool) {
	switch e.Kind() {
	case ast.IdentKind:
		return 0, inputVars[e.AsIdent()]
	case ast.SelectKind:
		return fromInput(e.AsSelect().Operand())
	case ast.LiteralKind:
		switch v := e.AsLiteral().(type) {
		case types.String:
			return uint64(len(v)), true // bytes bound runes
		case types.Bytes:
			return uint64(len(v)), true
		}
		return 0, true
	case ast.ListKind:
		return 0, e.AsList().Size() == 0
	case ast.MapKind:
		return 0, e.AsMap().Size() == 0
	case ast.CallKind:
		c := e.AsCall()
		switch c.FunctionName() {
		case operators.OptSelect, operators.OptIndex, operators.Index:
			return fromInput(c.Args()[0])
		case "orValue":
			if !c.IsMemberFunction() || len(c.Args()) != 1 {
				return 0, false
			}
			l1, ok1 := fromInput(c.Target())
			l2, ok2 := fromInput(c.Args()[0])
			return max(l1, l2), ok1 && ok2
		case "value", "dyn":
			if c.IsMemberFunction() {
				return fromInput(c.Target())
			}
			if len(c.Args()) == 1 {
				return fromInput(c.Args()[0])
			}
		}
	}
	return 0, false
}

// quickCost is the estimated cost below which an evaluation is not worth
// interrupting: at CEL's nominal 50 ns a unit, half a millisecond. Such
// programs run without a context (cel-go derives a cancellable context for
// every interruptible evaluation); the context is checked between them.
const quickCost = 10_000

// sizeLimits are the input sizes up to which an expression may run
// without cost tracking (fast) and without a context (quick); -1 when no
// input qualifies.
type sizeLimits struct{ fast, quick int }

// costBounds estimates ast's cost. It returns the largest input sizes whose
// worst case stays within CostLimit and quickCost, or an error when the
// worst case exceeds CostLimit even if every input and computed value is
// empty: the cost then comes from the expression itself (nested loops over
// literals), and it would fail on any input.
func costBounds(env *cel.Env, ast *cel.Ast) (sizeLimits, error) {
	none := sizeLimits{fast: -1, quick: -1}
	least, err := env.EstimateCost(ast, emptySizes{})
	if err != nil {
		return none, fmt.Errorf("estimate cost: %w", err)
	}
	if least.Max > CostLimit {
		return none, fmt.Errorf("may cost %d even on an empty object, over the per-expression limit of %d", least.Max, CostLimit)
	}
	factor := uint64(selectChain(ast.NativeRep().Expr()) + 1)
	largest := func(limit uint64) int {
		within := func(size uint64) bool {
			est, err := env.EstimateCost(ast, sizeEstimator{size: size})
			return err == nil && est.Max <= limit/factor
		}
		if !within(0) {
			return -1
		}
		lo, hi := uint64(0), uint64(maxFastSize) // within(lo); search the largest
		if within(hi) {
			return maxFastSize
		}
		for hi-lo > 1 {
			mid := lo + (hi-lo)/2
			if within(mid) {
				lo = mid
			} else {
				hi = mid
			}
		}
		return int(lo)
	}
	return sizeLimits{fast: largest(CostLimit), quick: largest(quickCost)}, nil
}

// selectChain returns the length of the longest chain of field selections
// (a.b.c is 2) in e. The estimator charges nothing for selecting a field of
// a dyn value, the runtime tracker charges 1; each chain's root is charged
// at least 1 by both, so the actual cost is at most the estimate times one
// plus the longest chain.
func selectChain(e ast.Expr) int {
	longest := 0
	var walk func(e ast.Expr) int // the chain ending at e
	walk = func(e ast.Expr) int {
		n := 0
		switch e.Kind() {
		case ast.SelectKind:
			n = walk(e.AsSelect().Operand()) + 1
		case ast.CallKind:
			c := e.AsCall()
			if c.IsMemberFunction() {
				walk(c.Target())
			}
			for _, a := range c.Args() {
				walk(a)
			}
		case ast.ListKind:
			for _, x := range e.AsList().Elements() {
				walk(x)
			}
		case ast.MapKind:
			for _, x := range e.AsMap().Entries() {
				walk(x.AsMapEntry().Key())
				walk(x.AsMapEntry().Value())
			}
		case ast.StructKind:
			for _, x := range e.AsStruct().Fields() {
				walk(x.AsStructField().Value())
			}
		case ast.ComprehensionKind:
			c := e.AsComprehension()
			for _, x := range []ast.Expr{c.IterRange(), c.AccuInit(), c.LoopCondition(), c.LoopStep(), c.Result()} {
				walk(x)
			}
		}
		longest = max(longest, n)
		return n
	}
	walk(e)
	return longest
}

// emptySizes sizes every value CEL cannot size itself as empty.
type emptySizes struct{}

func (emptySizes) EstimateSize(checker.AstNode) *checker.SizeEstimate {
	return &checker.SizeEstimate{}
}

func (emptySizes) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}

// sizeBound returns the largest size, as CEL's size() counts it, of v or
// any value inside it: list items, map entries, bytes of a string or map
// key (at least its runes).
func sizeBound(v any) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case []any:
		n := len(v)
		for _, x := range v {
			n = max(n, sizeBound(x))
		}
		return n
	case map[string]any:
		n := len(v)
		for k, x := range v {
			n = max(n, len(k), sizeBound(x))
		}
		return n
	case []string:
		n := len(v)
		for _, s := range v {
			n = max(n, len(s))
		}
		return n
	case map[string]string:
		n := len(v)
		for k, s := range v {
			n = max(n, len(k), len(s))
		}
		return n
	case nil, bool, int, int32, int64, uint, uint32, uint64, float32, float64:
		return 0
	case types.String:
		return len(v)
	}
	// A value of a shape we do not walk: no bound, so tracked evaluation.
	return math.MaxInt
}
