package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads the configuration file at path and returns it decoded over
// Default and validated. Relative file paths in it (TLS files, the tokens
// file, a SQLite database, posture clusters' kubeconfigs) are taken relative to the file's directory, so
// that the result does not depend on the working directory.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	defer f.Close()
	// Read one byte past the limit so that Parse can tell "at the limit"
	// from "over it" without reading a huge file whole.
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("load config: read %s: %w", path, err)
	}
	c, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	c.resolvePaths(filepath.Dir(path))
	return c, nil
}

// Parse decodes data, the content of the file called name (used only in
// messages; "palisade.yaml" when empty), over Default and validates the
// result. Every error names the file; see Error. Empty data (or only
// comments) yields Default.
func Parse(name string, data []byte) (*Config, error) {
	if name == "" {
		name = "palisade.yaml"
	}
	if len(data) > MaxSize {
		return nil, joinErrors(name, []*Error{{File: name, Msg: fmt.Sprintf("file is larger than the %d MiB limit", MaxSize>>20)}})
	}
	root, perr := parseYAML(name, data)
	if perr != nil {
		return nil, joinErrors(name, []*Error{perr})
	}
	c := Default()
	d := &decoder{src: newSource(name)}
	c.src = d.src
	if root != nil {
		d.config(root, c)
		d.policyAlias(c)
	}
	errs := append(d.errs, c.validate()...)
	if err := joinErrors(name, errs); err != nil {
		return nil, err
	}
	return c, nil
}

// parseYAML parses exactly one YAML document and returns its root node, or
// nil when there is no document or it is null.
func parseYAML(name string, data []byte) (*yaml.Node, *Error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(name, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(name, err)
	default:
		return nil, &Error{File: name, Line: next.Line, Column: next.Column,
			Msg: "found a second YAML document; the configuration is one document (remove the '---' separator)"}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, nil
	}
	return root, nil
}

// syntaxError turns a YAML parser error into an Error with the parser's
// line. go.yaml.in/yaml/v3 (v3.0.6) numbers lines oddly: scanner errors
// 1-based, parser errors 0-based, and an error on the first line not at
// all; this undoes that (TestSyntaxErrorLines pins the behaviour).
func syntaxError(name string, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, after, ok := strings.Cut(rest, ": "); ok {
			if n, convErr := strconv.Atoi(num); convErr == nil {
				line, msg = n, after
				if isParserProblem(msg) {
					line++
				}
			}
		}
	}
	return &Error{File: name, Line: line, Msg: "invalid YAML: " + msg, Err: err}
}

// isParserProblem reports whether msg is one the YAML parser (as opposed
// to its scanner) reports; those carry 0-based line numbers.
func isParserProblem(msg string) bool {
	switch msg {
	case "did not find expected key",
		"did not find expected node content",
		"did not find expected ',' or ']'",
		"did not find expected ',' or '}'",
		"did not find expected '-' indicator",
		"did not find expected <document start>",
		"did not find expected <stream-start>",
		"found duplicate %TAG directive",
		"found duplicate %YAML directive",
		"found incompatible YAML document",
		"found undefined tag handle":
		return true
	}
	return false
}

// resolvePaths makes relative file paths relative to dir.
func (c *Config) resolvePaths(dir string) {
	for _, p := range []*string{&c.Server.TLS.CertFile, &c.Server.TLS.KeyFile, &c.Server.TokensFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	c.Store.resolve(dir)
	c.Admission.resolvePaths(dir)
	c.Posture.resolvePaths(dir)
}
