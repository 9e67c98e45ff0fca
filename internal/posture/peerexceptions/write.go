package peerexceptions

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// Write writes t as palisade.yaml's exceptions list, each entry headed by
// comments that name its source and its notes, owned by owner and expiring
// at expires (YYYY-MM-DD) unless the peer gave its own expiry; what was
// skipped follows as comments. The output parses as a configuration file
// (TestWriteParses).
func Write(w io.Writer, t *Translation, from, owner, expires string) error {
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	for _, e := range t.Entries {
		match := mapping()
		if len(e.Rules) > 0 { // none: every finding of the resource
			rules := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, r := range e.Rules {
				rules.Content = append(rules.Content, scalar(r))
			}
			match.Content = append(match.Content, scalar("rule"), rules)
		}
		for _, f := range [][2]string{{"namespace", e.Namespace}, {"kind", e.Kind}, {"name", e.Name}, {"labels", e.Labels}} {
			if f[1] != "" {
				match.Content = append(match.Content, scalar(f[0]), scalar(f[1]))
			}
		}
		exp := expires
		if e.Expires != "" {
			exp = e.Expires
		}
		entry := mapping()
		lines := []string{oneLine(e.Source)}
		for _, n := range e.Notes {
			lines = append(lines, oneLine(n))
		}
		entry.HeadComment = strings.Join(lines, "\n")
		entry.Content = append(entry.Content,
			scalar("match"), match,
			scalar("owner"), scalar(owner),
			scalar("reason"), scalar(e.Reason),
			scalar("expires"), &yaml.Node{Kind: yaml.ScalarNode, Value: exp}) // a date, checked by the caller
		seq.Content = append(seq.Content, entry)
	}
	doc := mapping()
	doc.HeadComment = "Exceptions translated by 'palisade posture exceptions import' from " + oneLine(from) + ".\n" +
		"Review every entry before adding it to palisade.yaml: owner and expiry are yours to decide,\n" +
		"and the notes say where an entry covers more than the original."
	doc.Content = append(doc.Content, scalar("exceptions"), seq)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write exceptions: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("write exceptions: %w", err)
	}
	if len(t.Skipped) > 0 {
		buf.WriteString("# Not translated:\n")
		for _, s := range t.Skipped {
			// One line each: a newline in a peer's name must not end the comment.
			fmt.Fprintf(&buf, "#   %s: %s\n", oneLine(s.Source), oneLine(s.Why))
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

// scalar is s as a string: "0" or "true" as a name stays a name.
func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// oneLine makes s fit one comment line: valid UTF-8, no control
// characters (a peer file's names and IDs are the peer's to choose).
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return strings.Join(strings.Fields(s), " ")
}
