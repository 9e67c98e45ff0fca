package checks

// What a container's command line runs. Kubernetes execs command (or the
// image's ENTRYPOINT) with args; the programs that run are argv[0], the
// program a wrapper such as env, exec or nohup starts, and the commands of
// shell code: the script of sh -c "…", and an element that is itself a
// shell line ("sudo printenv" as one element, which no runtime could exec
// as a file name: it was meant as a shell line). Shell code is parsed by a
// real shell parser (mvdan.cc/sh), so `pseudo`, `echo sudo` and quoted
// text are not programs; only the first word of each simple command is.

import (
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"mvdan.cc/sh/v3/syntax"
)

const (
	// maxScript bounds the shell code parsed per element; a longer one is
	// split on separators instead.
	maxScript = 64 << 10
	// maxShellDepth bounds sh -c "sh -c '…'" nesting.
	maxShellDepth = 4
)

// programRun is one program a container's command line runs.
type programRun struct {
	Name  string // as written: "sudo", "/usr/bin/sudo"
	Field string // "command" or "args": where the word, or the shell code holding it, is
	Index int    // its index in Field
	Shell bool   // found inside shell code
}

// wordAt is a word of an argv, or of shell code, with the element of the
// container it comes from.
type wordAt struct {
	text  string
	field string
	index int
	shell bool
}

// containerPrograms returns the programs c's command line runs, as far as
// the spec shows them. Without command, args go to the image's ENTRYPOINT:
// args[0] is counted as a program too, since entrypoint wrappers commonly
// exec "$@".
func containerPrograms(c *corev1.Container) []programRun {
	argv := make([]wordAt, 0, len(c.Command)+len(c.Args))
	for i, w := range c.Command {
		argv = append(argv, wordAt{text: w, field: "command", index: i})
	}
	for i, w := range c.Args {
		argv = append(argv, wordAt{text: w, field: "args", index: i})
	}
	var out []programRun
	programsOf(argv, 0, &out)
	return out
}

// programsOf adds the programs argv runs to out.
func programsOf(argv []wordAt, depth int, out *[]programRun) {
	i := skipWrappers(argv)
	if i >= len(argv) {
		return
	}
	w := argv[i]
	if w.text == "" {
		return // an expansion: the program is not in the spec
	}
	if !w.shell && looksLikeShellLine(w.text) {
		shellPrograms(w, w.text, depth, out)
		return
	}
	*out = append(*out, programRun{Name: w.text, Field: w.field, Index: w.index, Shell: w.shell})
	if isShell(path.Base(w.text)) {
		if script, ok := shellScriptArg(argv[i+1:]); ok {
			shellPrograms(script, script.text, depth, out)
		}
	}
}

// wrapperValueOpts lists, per wrapper that execs another program, its
// options that take a separate value (nice -n 10 cmd).
var wrapperValueOpts = map[string][]string{
	"env": {"-u", "-C", "-S", "--unset", "--chdir"}, "exec": {"-a"}, "nohup": nil, "setsid": nil,
	"command": nil, "builtin": nil, "busybox": nil, "time": {"-f", "-o"}, "nice": {"-n"},
	"stdbuf": {"-i", "-o", "-e"}, "tini": {"-p", "-e"}, "dumb-init": {"-r"}, "catatonit": nil,
	"timeout": {"-s", "-k"}, "chrt": nil, "ionice": {"-c", "-n"}, "taskset": nil,
}

// skipWrappers returns the index of the program argv runs once wrappers
// that exec another program (env, exec, nohup, timeout, tini, …) are
// skipped with their options and, for env, its NAME=VALUE operands.
func skipWrappers(argv []wordAt) int {
	i := 0
	for i < len(argv) {
		name := path.Base(argv[i].text)
		valueOpts, ok := wrapperValueOpts[name]
		if !ok {
			return i
		}
		i++
		for i < len(argv) {
			a := argv[i].text
			switch {
			case a == "--":
				i++
			case strings.HasPrefix(a, "-"):
				i++
				for _, o := range valueOpts {
					if a == o {
						i++ // the option's value
						break
					}
				}
				continue
			case name == "env" && strings.Contains(a, "="):
				i++
				continue
			}
			break
		}
		switch name {
		case "timeout", "chrt", "taskset":
			i++ // the duration, priority or CPU mask before the program
		}
	}
	return i
}

// isShell reports whether name is a POSIX-like shell that takes -c.
func isShell(name string) bool {
	switch name {
	case "sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "rbash":
		return true
	}
	return false
}

// shellScriptArg returns the script of a shell's options, as in
// `sh -c SCRIPT` or `bash -euxc SCRIPT`: the first operand after an
// option cluster holding c.
func shellScriptArg(opts []wordAt) (wordAt, bool) {
	hasC := false
	for _, w := range opts {
		if w.text == "--" {
			continue
		}
		if strings.HasPrefix(w.text, "-") && !strings.HasPrefix(w.text, "--") {
			if strings.Contains(w.text[1:], "c") {
				hasC = true
			}
			continue
		}
		if strings.HasPrefix(w.text, "--") || strings.HasPrefix(w.text, "+") {
			continue // --login, +x
		}
		return w, hasC
	}
	return wordAt{}, false
}

// looksLikeShellLine reports whether an argv word holds shell syntax or
// more than one word.
func looksLikeShellLine(s string) bool {
	return strings.ContainsAny(s, " \t\n;&|`()<>")
}

// shellPrograms adds the programs of shell code src, which is the word at.
func shellPrograms(at wordAt, src string, depth int, out *[]programRun) {
	if depth >= maxShellDepth {
		return
	}
	if len(src) > maxScript {
		splitPrograms(at, src, depth, out)
		return
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	if err != nil {
		// Not valid shell: a best effort on its simple commands.
		splitPrograms(at, src, depth, out)
		return
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		call, ok := n.(*syntax.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		argv := make([]wordAt, len(call.Args))
		for i, a := range call.Args {
			argv[i] = wordAt{text: literalWord(a), field: at.field, index: at.index, shell: true}
		}
		programsOf(argv, depth+1, out)
		return true
	})
}

// splitPrograms is the fallback for text the parser refuses: the first
// field of each part between separators.
func splitPrograms(at wordAt, src string, depth int, out *[]programRun) {
	parts := strings.FieldsFunc(src, func(r rune) bool { return strings.ContainsRune(";&|`()\n{}", r) })
	for _, p := range parts {
		fields := strings.Fields(p)
		if len(fields) == 0 {
			continue
		}
		argv := make([]wordAt, len(fields))
		for i, f := range fields {
			argv[i] = wordAt{text: strings.Trim(f, `"'`), field: at.field, index: at.index, shell: true}
		}
		programsOf(argv, depth+1, out)
	}
}

// literalWord returns w's value after quote removal, or "" when it holds
// an expansion whose value the spec cannot show ($VAR, $(cmd), globs).
func literalWord(w *syntax.Word) string {
	var b strings.Builder
	if !appendLiteral(&b, w.Parts, false) {
		return ""
	}
	return b.String()
}

func appendLiteral(b *strings.Builder, parts []syntax.WordPart, quoted bool) bool {
	for _, p := range parts {
		switch p := p.(type) {
		case *syntax.Lit:
			b.WriteString(unescape(p.Value, quoted))
		case *syntax.SglQuoted:
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			if !appendLiteral(b, p.Parts, true) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// unescape removes the shell's backslash quoting from literal text: any
// character outside double quotes (su\do is sudo), only $ ` " \ and
// newline inside them.
func unescape(s string, quoted bool) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (!quoted || strings.IndexByte("$`\"\\\n", s[i+1]) >= 0) {
			i++
			if s[i] == '\n' {
				continue // line continuation
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
