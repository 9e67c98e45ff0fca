package render

import (
	"bytes"
	"path"
	"strings"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/palisade-sec/palisade/internal/kube"
)

// templateSources returns the source of every template of ch and its
// dependencies, by the name Helm's engine renders it under
// ("chart/charts/sub/templates/x.yaml", Chart.ChartFullPath).
func templateSources(ch *chartv2.Chart) map[string][]byte {
	out := map[string][]byte{}
	var walk func(c *chartv2.Chart)
	walk = func(c *chartv2.Chart) {
		for _, t := range c.Templates {
			if t != nil {
				out[path.Join(c.ChartFullPath(), t.Name)] = t.Data
			}
		}
		for _, d := range c.Dependencies() {
			walk(d)
		}
	}
	walk(ch)
	return out
}

// placeInTemplate gives the objects rendered from one template the lines
// of the template itself, so that a finding points at the line of the
// template file it names (which is what SARIF viewers and editors open),
// not at a line of Helm's output. The template is read as YAML with its
// actions blanked out (blankActions): a key the template writes has its
// line, and a field an action writes ({{ toYaml .Values.securityContext
// | nindent 12 }}) has the line of the nearest key above it that the
// template writes. The i-th object goes to the template's i-th document
// when the counts and kinds agree, else to the only document of its kind.
// One that cannot be matched — a template whose blanked text does not
// parse, or that writes its objects through includes of named templates
// only — is placed at the template's first line: the lines of Helm's
// output are no lines of the template, and past its end for a short
// template that includes long ones (a SARIF viewer cannot show those).
func placeInTemplate(objs []*kube.Object, source []byte, file string) {
	if len(objs) == 0 {
		return
	}
	docs, err := kube.DocumentLines(file, blankActions(source))
	if err != nil {
		docs = nil // which document an object is from is not known
	}
	sameShape := len(docs) == len(objs)
	top := &kube.Object{Source: kube.Source{File: file, Line: 1}}
	for i, o := range objs {
		if sameShape && ofKind(docs[i], o.Ref.Kind) {
			o.Relocate(docs[i])
		} else if d := onlyOfKind(docs, o.Ref.Kind); d != nil {
			o.Relocate(d)
		} else {
			o.Relocate(top)
		}
	}
}

// ofKind reports whether the template document d may have made an object
// of kind: it writes that kind, or an action writes its kind (kind: {{
// ternary "StatefulSet" "Deployment" … }}, blanked to x's).
func ofKind(d *kube.Object, kind string) bool {
	return d.Ref.Kind == kind || (d.Ref.Kind != "" && strings.Trim(d.Ref.Kind, "x") == "")
}

// onlyOfKind returns the one document of docs that may have made an
// object of kind (ofKind), or nil.
func onlyOfKind(docs []*kube.Object, kind string) *kube.Object {
	var found *kube.Object
	for _, d := range docs {
		if ofKind(d, kind) {
			if found != nil {
				return nil
			}
			found = d
		}
	}
	return found
}

// blankActions returns a template's text with its actions, {{ … }}
// (which may span lines), blanked out, line breaks kept: what is left is
// the YAML the template writes itself, at its lines and columns. On a
// line that holds nothing but actions ({{- if … }}, {{- include … |
// nindent 4 }}) they become spaces, so the line is blank; in a line with
// text of the template's own they become x's, so that a value an action
// fills (image: {{ .Values.image }}, a port inside a URL) or a key it
// names reads as a plain word rather than as nothing, and the line still
// parses.
func blankActions(src []byte) []byte {
	out := bytes.Clone(src)
	action := make([]bool, len(src))
	for i := 0; i < len(src); {
		start := bytes.Index(src[i:], []byte("{{"))
		if start < 0 {
			break
		}
		start += i
		end := bytes.Index(src[start+2:], []byte("}}"))
		if end < 0 {
			end = len(src) // an unclosed action: Helm would not have rendered it
		} else {
			end += start + 4
		}
		for j := start; j < end; j++ {
			action[j] = true
		}
		i = end
	}
	for lo := 0; lo < len(src); {
		hi := bytes.IndexByte(src[lo:], '\n')
		if hi < 0 {
			hi = len(src)
		} else {
			hi += lo
		}
		last := -1 // the last byte of the template's own text on the line
		for j := lo; j < hi; j++ {
			if !action[j] && src[j] != ' ' && src[j] != '\t' && src[j] != '\r' {
				last = j
			}
		}
		for j := lo; j < hi; j++ {
			if !action[j] {
				continue
			}
			// Spaces on a line of actions only, and after a key whose
			// value an action writes as a block below it (labels: {{-
			// include … | nindent 4 }}, then more labels); not after a
			// colon inside a value (url: http://host:{{ .port }}).
			if last < 0 || (j > last && src[last] == ':' && last+1 < hi && !action[last+1]) {
				out[j] = ' '
			} else {
				out[j] = 'x'
			}
		}
		lo = hi + 1
	}
	return out
}
