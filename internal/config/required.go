package config

import (
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"
)

// RequiredKey is a label or annotation every workload must carry
// (posture.requiredLabels, posture.requiredAnnotations): an owner, a
// contact, a cost centre. Without one, an alert cannot be routed to whoever
// runs the workload.
type RequiredKey struct {
	// Key is the label or annotation key.
	Key string
	// Value is a regular expression (RE2) the whole value must match;
	// empty means any value, the empty one included.
	Value string
	re    *regexp.Regexp
}

// Matches reports whether v is a value the key accepts.
func (k RequiredKey) Matches(v string) bool {
	if k.Value == "" {
		return true
	}
	re := k.re
	if re == nil {
		var err error
		if re, err = regexp.Compile(anchored(k.Value)); err != nil {
			return false // validate refuses such a configuration
		}
	}
	return re.MatchString(v)
}

func anchored(expr string) string { return `^(?:` + expr + `)$` }

// requiredKeys decodes a list of {key, value}.
func (d *decoder) requiredKeys(path string, n *yaml.Node, dst *[]RequiredKey) {
	if n = d.value(path, n); n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(path, nil, "want a list of {key, value}, got %s", describe(n))
		return
	}
	out := make([]RequiredKey, len(n.Content))
	for i, item := range n.Content {
		ip := path + "[" + strconv.Itoa(i) + "]"
		d.src.record(ip, item)
		k := &out[i]
		d.mapping(ip, item, map[string]fieldFunc{
			"key":   func(p string, v *yaml.Node) { d.str(p, v, &k.Key) },
			"value": func(p string, v *yaml.Node) { d.str(p, v, &k.Value) },
		})
	}
	*dst = out
}

// validateRequired checks keys and compiles values.
func validateRequired(v *validator, path string, keys []RequiredKey) {
	for i := range keys {
		k := &keys[i]
		kp := path + "[" + strconv.Itoa(i) + "]"
		if errs := validation.IsQualifiedName(k.Key); len(errs) > 0 {
			v.add(kp+".key", "%s is not a label or annotation key: %s", quote(k.Key), errs[0])
		}
		if k.Value == "" {
			continue
		}
		re, err := regexp.Compile(anchored(k.Value))
		if err != nil {
			v.add(kp+".value", "%s is not a regular expression: %v", quote(k.Value), err)
			continue
		}
		k.re = re
	}
}
