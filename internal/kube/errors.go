package kube

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// InputError is bad input in a manifest: it names the file and, when known,
// the line, so that a user can fix it. Decoding never panics on input; every
// problem becomes an InputError.
type InputError struct {
	File string
	Line int // 0 when unknown
	Err  error
}

func (e *InputError) Error() string {
	loc := quoteFile(e.File)
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	return loc + ": " + e.Err.Error()
}

func (e *InputError) Unwrap() error { return e.Err }

// SplitErrors returns the leaves of an errors.Join tree, such as the
// error of Decode or Load (one per bad document or file), or nil.
func SplitErrors(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, SplitErrors(e)...)
	}
	return out
}

// quoteFile prints a file name as is unless it holds characters that could
// forge output (control characters, newlines); those are quoted.
func quoteFile(name string) string {
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '"' {
			return strconv.Quote(name)
		}
	}
	return name
}

// ErrNotObject marks a document that is not a Kubernetes object (a scalar,
// or a mapping without apiVersion and kind): package.json, CI pipelines
// and Helm values files sit next to manifests in repositories.
var ErrNotObject = errors.New("not a Kubernetes object")

// notObject is a document that is not a Kubernetes object, with the
// message that says why.
type notObject struct{ msg string }

func (e notObject) Error() string        { return e.msg }
func (e notObject) Is(target error) bool { return target == ErrNotObject }

func notObjectErr(file string, line int, msg string) error {
	return &InputError{File: file, Line: line, Err: notObject{msg}}
}

func inputErr(file string, line int, format string, args ...any) error {
	return &InputError{File: file, Line: line, Err: fmt.Errorf(format, args...)}
}

// yamlErrLine extracts the line number from a go.yaml.in/yaml/v3 error
// message ("yaml: line 7: mapping values are not allowed here"), 0 when absent.
func yamlErrLine(msg string) int {
	i := strings.Index(msg, "line ")
	if i < 0 {
		return 0
	}
	rest := msg[i+len("line "):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(rest[:j])
	if err != nil {
		return 0
	}
	return n
}

// Abbreviate joins the first n items with "; " and says how many more
// there are, for a log line that names a few of many inputs.
func Abbreviate(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:n], "; ") + fmt.Sprintf("; and %d more", len(items)-n)
}
