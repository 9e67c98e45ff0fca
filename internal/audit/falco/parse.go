package falco

import (
	"fmt"
	"strings"
)

// node is a parsed Falco condition.
type node interface{}

type (
	andNode struct{ l, r node }
	orNode  struct{ l, r node }
	notNode struct{ x node }
	// check compares a field with values.
	check struct {
		field  string // "ka.user.name", "jevt.value[/stage]"
		op     string // "=", "in", "exists", …
		values []string
	}
)

type token struct {
	kind string // "word", "str", "(", ")", ",", "op", "eof"
	text string
	pos  int
}

// unaryOps take no value; binary ones take one value or a list.
var (
	unaryOps  = map[string]bool{"exists": true}
	binaryOps = map[string]bool{"=": true, "==": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true,
		"contains": true, "icontains": true, "bcontains": true, "startswith": true, "bstartswith": true,
		"endswith": true, "glob": true, "iglob": true, "in": true, "intersects": true, "pmatch": true, "regex": true}
	listOps = map[string]bool{"in": true, "intersects": true, "pmatch": true}
)

func lex(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, token{kind: string(c), text: string(c), pos: i})
			i++
		case c == '"' || c == '\'':
			j := i + 1
			var b strings.Builder
			for j < len(s) && s[j] != c {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string at offset %d", i)
			}
			toks = append(toks, token{kind: "str", text: b.String(), pos: i})
			i = j + 1
		case c == '=' || c == '!' || c == '<' || c == '>':
			j := i + 1
			if j < len(s) && s[j] == '=' {
				j++
			}
			op := s[i:j]
			if op == "!" {
				return nil, fmt.Errorf("unexpected '!' at offset %d", i)
			}
			toks = append(toks, token{kind: "op", text: op, pos: i})
			i = j
		default:
			j := i
			depth := 0
			for j < len(s) {
				d := s[j]
				if d == '[' {
					depth++
				} else if d == ']' {
					depth--
				} else if depth == 0 && (d == ' ' || d == '\t' || d == '\n' || d == '\r' || d == '(' || d == ')' || d == ',' || d == '=' || d == '!' || d == '<' || d == '>' || d == '"' || d == '\'') {
					break
				}
				j++
			}
			if j == i {
				return nil, fmt.Errorf("unexpected %q at offset %d", c, i)
			}
			toks = append(toks, token{kind: "word", text: s[i:j], pos: i})
			i = j
		}
	}
	return append(toks, token{kind: "eof", pos: len(s)}), nil
}

// parser parses one condition, expanding macros and lists of the ruleset.
type parser struct {
	toks  []token
	i     int
	rs    *ruleset
	stack []string // macros being expanded, to catch cycles
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) isWord(w string) bool {
	t := p.peek()
	return t.kind == "word" && t.text == w
}

func (rs *ruleset) parse(cond string, stack []string) (node, error) {
	toks, err := lex(cond)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, rs: rs, stack: stack}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != "eof" {
		return nil, fmt.Errorf("unexpected %q at offset %d", t.text, t.pos)
	}
	return n, nil
}

func (p *parser) or() (node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isWord("or") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orNode{l, r}
	}
	return l, nil
}

func (p *parser) and() (node, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.isWord("and") {
		p.next()
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = andNode{l, r}
	}
	return l, nil
}

func (p *parser) not() (node, error) {
	if p.isWord("not") {
		p.next()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	}
	return p.primary()
}

func (p *parser) primary() (node, error) {
	t := p.next()
	switch t.kind {
	case "(":
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != ")" {
			return nil, fmt.Errorf("expected ')' at offset %d, got %q", c.pos, c.text)
		}
		return n, nil
	case "word":
	default:
		return nil, fmt.Errorf("unexpected %q at offset %d", t.text, t.pos)
	}
	op := p.peek()
	if op.kind == "(" {
		return nil, &UnsupportedError{Construct: "field transformer " + t.text + "()"}
	}
	isOp := op.kind == "op" || (op.kind == "word" && (unaryOps[op.text] || binaryOps[op.text]))
	if !isOp {
		return p.macro(t)
	}
	if !knownField(t.text) {
		return nil, &UnsupportedError{Construct: "field " + t.text}
	}
	p.next()
	c := check{field: t.text, op: op.text}
	if c.op == "==" {
		c.op = "="
	}
	if unaryOps[c.op] {
		return c, nil
	}
	if c.op == "regex" || c.op == "bcontains" || c.op == "bstartswith" {
		return nil, &UnsupportedError{Construct: "operator " + c.op}
	}
	if p.peek().kind == "(" {
		vals, err := p.list()
		if err != nil {
			return nil, err
		}
		c.values = vals
		return c, nil
	}
	v := p.next()
	if v.kind != "word" && v.kind != "str" {
		return nil, fmt.Errorf("expected a value after %s at offset %d", c.op, v.pos)
	}
	if listOps[c.op] && v.kind == "word" {
		if items, ok := p.rs.lists[v.text]; ok {
			c.values = p.rs.expandList(items, nil)
			return c, nil
		}
	}
	c.values = []string{v.text}
	return c, nil
}

// list parses "(a, b, listname, "c")", expanding list names.
func (p *parser) list() ([]string, error) {
	p.next() // (
	var out []string
	for {
		t := p.next()
		switch t.kind {
		case ")":
			return out, nil
		case ",":
			continue
		case "word":
			if items, ok := p.rs.lists[t.text]; ok {
				out = append(out, p.rs.expandList(items, nil)...)
				continue
			}
			out = append(out, t.text)
		case "str":
			out = append(out, t.text)
		default:
			return nil, fmt.Errorf("unexpected %q in list at offset %d", t.text, t.pos)
		}
	}
}

func (p *parser) macro(t token) (node, error) {
	cond, ok := p.rs.macros[t.text]
	if !ok {
		if strings.Contains(t.text, ".") {
			return nil, fmt.Errorf("field %s at offset %d has no operator", t.text, t.pos)
		}
		return nil, fmt.Errorf("unknown macro %q at offset %d", t.text, t.pos)
	}
	for _, s := range p.stack {
		if s == t.text {
			return nil, fmt.Errorf("macro %q refers to itself", t.text)
		}
	}
	n, err := p.rs.parse(cond, append(p.stack, t.text))
	if err != nil {
		return nil, fmt.Errorf("in macro %s: %w", t.text, err)
	}
	return n, nil
}

// expandList resolves list items that name other lists.
func (rs *ruleset) expandList(items []string, seen []string) []string {
	var out []string
	for _, it := range items {
		if sub, ok := rs.lists[it]; ok && !contains(seen, it) {
			out = append(out, rs.expandList(sub, append(seen, it))...)
			continue
		}
		out = append(out, it)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// UnsupportedError names a Falco construct this translation does not
// evaluate; the rule using it is not loaded.
type UnsupportedError struct{ Construct string }

func (e *UnsupportedError) Error() string { return "unsupported " + e.Construct }
