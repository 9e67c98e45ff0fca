package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/palisade-sec/palisade/internal/finding"
)

// MaxFileSize bounds a policy file: policies are short, and a larger file
// is a mistake (or hostile) rather than a library.
const MaxFileSize = 1 << 20

// Error is a problem with a policy file, placed at a line.
type Error struct {
	File   string
	Line   int    // 0 when unknown
	Policy string // the policy's name, when known
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	if e.Policy != "" {
		b.WriteString(": policy " + e.Policy)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Parse decodes and compiles every policy in data, the contents of file (a
// name used in errors). Decoding is strict (unknown fields are errors) and
// every CEL expression is compiled here, so a policy that loads cannot fail
// to compile at admission. Problems are returned joined, one *Error each.
func Parse(file string, data []byte) ([]*Policy, error) {
	if len(data) > MaxFileSize {
		return nil, &Error{File: file, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}
	}
	env, err := baseEnv()
	if err != nil {
		return nil, err
	}
	// Two decoders walk the same stream in step: the strict one rejects
	// unknown fields, the node one keeps the lines errors point at.
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	nodes := yaml.NewDecoder(bytes.NewReader(data))
	var (
		out  []*Policy
		errs []error
	)
	for {
		var root yaml.Node
		if err := nodes.Decode(&root); err != nil {
			if !errors.Is(err, io.EOF) {
				errs = append(errs, yamlError(file, "", err))
			}
			break
		}
		var doc Document
		if err := strict.Decode(&doc); err != nil {
			errs = append(errs, yamlError(file, scalarAt(&root, "metadata", "name"), err))
			continue
		}
		if isEmpty(&root) {
			continue
		}
		p, perrs := compileDocument(env, file, &root, &doc)
		if len(perrs) > 0 {
			errs = append(errs, perrs...)
			continue
		}
		out = append(out, p)
	}
	seen := map[string]bool{}
	for _, p := range out {
		if seen[p.ID] {
			errs = append(errs, &Error{File: file, Line: p.Line, Policy: p.ID, Msg: "defined twice in this file"})
		}
		seen[p.ID] = true
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

var yamlLine = regexp.MustCompile(`^line (\d+): `)

// yamlError turns a yaml.v3 error ("yaml: unmarshal errors:\n  line 7:
// field x not found in type policy.Spec") into one *Error per problem.
func yamlError(file, policy string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	var errs []error
	for _, l := range strings.Split(msg, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		e := &Error{File: file, Policy: policy}
		if m := yamlLine.FindStringSubmatch(l); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			l = l[len(m[0]):]
		}
		if i := strings.Index(l, " in type policy."); i >= 0 {
			l = l[:i] // the Go type name means nothing to a policy author
		}
		e.Msg = l
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

func isEmpty(root *yaml.Node) bool {
	if len(root.Content) == 0 {
		return true
	}
	n := root.Content[0]
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// nodeAt returns the node at path below a document, or nil. Numbers index
// sequences.
func nodeAt(root *yaml.Node, path ...string) *yaml.Node {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, p := range path {
		if n == nil {
			return nil
		}
		switch n.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					next = n.Content[i+1]
					break
				}
			}
			n = next
		case yaml.SequenceNode:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
		default:
			return nil
		}
	}
	return n
}

// lineAt returns the line of the deepest node of path that exists.
func lineAt(root *yaml.Node, path ...string) int {
	for i := len(path); i >= 0; i-- {
		if n := nodeAt(root, path[:i]...); n != nil {
			return n.Line
		}
	}
	return 0
}

func scalarAt(root *yaml.Node, path ...string) string {
	if n := nodeAt(root, path...); n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

// validateDocument checks what compiling cannot: names, enums, required
// fields. It fills in defaults.
func validateDocument(file string, root *yaml.Node, doc *Document) []error {
	var errs []error
	add := func(line int, format string, args ...any) {
		errs = append(errs, &Error{File: file, Line: line, Policy: doc.Metadata.Name, Msg: fmt.Sprintf(format, args...)})
	}
	if doc.APIVersion != APIVersion {
		add(lineAt(root, "apiVersion"), "apiVersion %q: want %s", doc.APIVersion, APIVersion)
	}
	if doc.Kind != Kind {
		add(lineAt(root, "kind"), "kind %q: want %s", doc.Kind, Kind)
	}
	if !idPattern.MatchString(doc.Metadata.Name) {
		add(lineAt(root, "metadata", "name"), "metadata.name %q: want lowercase words joined by - and / (like acme/no-latest-tag)", doc.Metadata.Name)
	}
	s := &doc.Spec
	if s.Mode == "" {
		s.Mode = Audit
	} else if _, err := ParseMode(string(s.Mode)); err != nil {
		add(lineAt(root, "spec", "mode"), "spec.mode: %v", err)
	}
	switch s.OnUpdate {
	case "":
		s.OnUpdate = Always
	case Always, ChangedOnly:
	default:
		add(lineAt(root, "spec", "onUpdate"), "spec.onUpdate %q: want always or changedOnly", s.OnUpdate)
	}
	switch s.FailurePolicy {
	case "":
		s.FailurePolicy = Fail
	case Fail, Ignore:
	default:
		add(lineAt(root, "spec", "failurePolicy"), "spec.failurePolicy %q: want Fail or Ignore", s.FailurePolicy)
	}
	if s.Severity == "" {
		s.Severity = "medium"
	} else if _, err := finding.ParseSeverity(s.Severity); err != nil {
		add(lineAt(root, "spec", "severity"), "spec.severity: %v", err)
	}
	for i, op := range s.MatchResources.Operations {
		switch op {
		case "CREATE", "UPDATE", "DELETE", "CONNECT", "*":
		default:
			add(lineAt(root, "spec", "matchResources", "operations", strconv.Itoa(i)), "operation %q: want CREATE, UPDATE, DELETE, CONNECT or *", op)
		}
	}
	if sel := s.MatchResources.NamespaceSelector; sel != nil {
		for i, r := range sel.MatchExpressions {
			if _, err := r.selectorOp(); err != nil {
				add(lineAt(root, "spec", "matchResources", "namespaceSelector", "matchExpressions", strconv.Itoa(i)), "%v", err)
			}
		}
	}
	if r := s.ParamsRef; r != nil {
		switch {
		case r.Namespace == "" || r.Name == "":
			add(lineAt(root, "spec", "paramsRef"), "spec.paramsRef: needs the ConfigMap's namespace and name")
		case !dnsLabel.MatchString(r.Namespace) || len(r.Namespace) > 63:
			add(lineAt(root, "spec", "paramsRef", "namespace"), "spec.paramsRef.namespace %q is not a namespace name", r.Namespace)
		case !dnsSubdomain.MatchString(r.Name) || len(r.Name) > 253:
			add(lineAt(root, "spec", "paramsRef", "name"), "spec.paramsRef.name %q is not a ConfigMap name", r.Name)
		}
		switch r.ParameterNotFoundAction {
		case "":
			r.ParameterNotFoundAction = DenyAction
		case DenyAction, AllowAction:
		default:
			add(lineAt(root, "spec", "paramsRef", "parameterNotFoundAction"), "spec.paramsRef.parameterNotFoundAction %q: want Deny or Allow", r.ParameterNotFoundAction)
		}
	}
	if len(s.Validations) == 0 {
		add(lineAt(root, "spec"), "spec.validations: a policy needs at least one validation")
	}
	for i := range s.Validations {
		v := &s.Validations[i]
		switch v.Scope {
		case "":
			v.Scope = ScopeObject
		case ScopeObject, ScopeContainer:
		default:
			add(lineAt(root, "spec", "validations", strconv.Itoa(i), "scope"), "scope %q: want object or container", v.Scope)
		}
	}
	names := map[string]bool{}
	for i, v := range s.Variables {
		if !celIdent.MatchString(v.Name) {
			add(lineAt(root, "spec", "variables", strconv.Itoa(i), "name"), "variable name %q is not a CEL identifier", v.Name)
		}
		if names[v.Name] {
			add(lineAt(root, "spec", "variables", strconv.Itoa(i), "name"), "variable %q is defined twice", v.Name)
		}
		names[v.Name] = true
	}
	return errs
}

var (
	celIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// dnsLabel and dnsSubdomain are the names Kubernetes accepts for
	// namespaces and ConfigMaps; a paramsRef that no object can have is a
	// typo to report now, not a missing ConfigMap at admission.
	dnsLabel     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)
