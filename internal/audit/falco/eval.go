package falco

import (
	"fmt"
	"strconv"
	"strings"
)

// compileNode turns the parsed condition into a closure tree.
func compileNode(n node) (func(*evalCtx) bool, error) {
	switch x := n.(type) {
	case andNode:
		l, err := compileNode(x.l)
		if err != nil {
			return nil, err
		}
		r, err := compileNode(x.r)
		if err != nil {
			return nil, err
		}
		return func(c *evalCtx) bool { return l(c) && r(c) }, nil
	case orNode:
		l, err := compileNode(x.l)
		if err != nil {
			return nil, err
		}
		r, err := compileNode(x.r)
		if err != nil {
			return nil, err
		}
		return func(c *evalCtx) bool { return l(c) || r(c) }, nil
	case notNode:
		inner, err := compileNode(x.x)
		if err != nil {
			return nil, err
		}
		return func(c *evalCtx) bool { return !inner(c) }, nil
	case check:
		return compileCheck(x)
	}
	return nil, fmt.Errorf("internal: unknown node %T", n)
}

func compileCheck(c check) (func(*evalCtx) bool, error) {
	get, err := fieldExtractor(c.field)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, v := range c.values {
		set[v] = true
	}
	var rhs string
	if len(c.values) > 0 {
		rhs = c.values[0]
	}
	any := func(vals []string, f func(string) bool) bool {
		for _, v := range vals {
			if f(v) {
				return true
			}
		}
		return false
	}
	var test func([]string) bool
	switch c.op {
	case "exists":
		return func(x *evalCtx) bool { _, ok := get(x); return ok }, nil
	case "=":
		test = func(v []string) bool { return any(v, func(s string) bool { return s == rhs }) }
	case "!=":
		test = func(v []string) bool { return !any(v, func(s string) bool { return s == rhs }) }
	case "in":
		// Falco: every value of the field is in the set.
		test = func(v []string) bool {
			return len(v) > 0 && !any(v, func(s string) bool { return !set[s] })
		}
	case "intersects":
		test = func(v []string) bool { return any(v, func(s string) bool { return set[s] }) }
	case "pmatch":
		test = func(v []string) bool {
			return any(v, func(s string) bool {
				for _, p := range c.values {
					if s == p || strings.HasPrefix(s, strings.TrimSuffix(p, "/")+"/") {
						return true
					}
				}
				return false
			})
		}
	case "contains":
		test = func(v []string) bool { return any(v, func(s string) bool { return strings.Contains(s, rhs) }) }
	case "icontains":
		lr := strings.ToLower(rhs)
		test = func(v []string) bool {
			return any(v, func(s string) bool { return strings.Contains(strings.ToLower(s), lr) })
		}
	case "startswith":
		test = func(v []string) bool { return any(v, func(s string) bool { return strings.HasPrefix(s, rhs) }) }
	case "endswith":
		test = func(v []string) bool { return any(v, func(s string) bool { return strings.HasSuffix(s, rhs) }) }
	case "glob", "iglob":
		fold := c.op == "iglob"
		test = func(v []string) bool {
			return any(v, func(s string) bool {
				if fold {
					s = strings.ToLower(s)
				}
				p := rhs
				if fold {
					p = strings.ToLower(p)
				}
				ok, _ := globMatch(p, s)
				return ok
			})
		}
	case "<", "<=", ">", ">=":
		want, err := strconv.ParseFloat(rhs, 64)
		if err != nil {
			return nil, fmt.Errorf("operator %s wants a number, got %q", c.op, rhs)
		}
		test = func(v []string) bool {
			return any(v, func(s string) bool {
				f, err := strconv.ParseFloat(s, 64)
				if err != nil {
					return false
				}
				switch c.op {
				case "<":
					return f < want
				case "<=":
					return f <= want
				case ">":
					return f > want
				}
				return f >= want
			})
		}
	default:
		return nil, &UnsupportedError{Construct: "operator " + c.op}
	}
	return func(x *evalCtx) bool {
		v, ok := get(x)
		return ok && test(v)
	}, nil
}
