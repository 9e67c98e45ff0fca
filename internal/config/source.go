package config

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// source remembers where each field of a decoded Config was written, so
// that errors found after decoding (by Validate) can still name the line.
type source struct {
	file string
	pos  map[string]position // field path → its key (or sequence item); "" → the root
	bad  map[string]bool     // field paths whose value did not decode
	// policySection is the name the image policy was written under:
	// "imagePolicy", or "baseline" (deprecated) when the file used that.
	policySection string
}

type position struct{ line, col int }

func newSource(file string) *source {
	return &source{file: file, pos: map[string]position{}, bad: map[string]bool{}, policySection: "imagePolicy"}
}

func (s *source) record(path string, n *yaml.Node) {
	s.pos[path] = position{n.Line, n.Column}
}

// errorAt builds an Error for path, placed at the path or, when the path
// was not written in the file (a required field left out), at the nearest
// enclosing field that was. A nil source gives an Error with no place.
func (s *source) errorAt(path, msg string, cause error) *Error {
	e := &Error{Path: path, Msg: msg, Err: cause}
	if s == nil {
		return e
	}
	e.File = s.file
	for p := path; ; p = parentPath(p) {
		if at, ok := s.pos[p]; ok {
			e.Line, e.Column = at.line, at.col
			break
		}
		if p == "" {
			break
		}
	}
	return e
}

// isBad reports whether path or a field enclosing it failed to decode; such
// fields hold defaults, and judging them would only repeat the error.
func (s *source) isBad(path string) bool {
	if s == nil {
		return false
	}
	for p := path; p != ""; p = parentPath(p) {
		if s.bad[p] {
			return true
		}
	}
	return false
}

// parentPath strips the last element: "a.b[2]" → "a.b", "a.b" → "a".
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// policyPath is the path of the image policy section as the file wrote it,
// so that problems in it point at the right line.
func (s *source) policyPath() string {
	if s == nil {
		return "imagePolicy"
	}
	return s.policySection
}
