package config

import (
	"path/filepath"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Policies selects the policy-as-code (CEL) policies the admission webhook
// runs, under admission.policies. `palisade policy list` shows the
// built-in library.
type Policies struct {
	// Builtin lists the built-in policy IDs to run. nil (the default,
	// written "all") runs the whole library; empty (written "none" or [])
	// runs none.
	Builtin []string
	// Disabled policy IDs are not run, whatever their source.
	Disabled []string
	// Files are policy files or directories of them; relative paths are
	// relative to the configuration file.
	Files []string
	// ConfigMaps hold policy files, one per data key; the webhook reloads
	// them when they change.
	ConfigMaps []ConfigMapRef
	// Modes override a policy's own mode: policy ID → enforce, warn or audit.
	Modes map[string]string
}

// ConfigMapRef names a ConfigMap.
type ConfigMapRef struct {
	Namespace string
	Name      string
}

func (d *decoder) policies(path string, n *yaml.Node, ps *Policies) {
	d.mapping(path, n, map[string]fieldFunc{
		"builtin": func(p string, v *yaml.Node) {
			var ids []string
			before := len(d.errs)
			d.strings(p, v, &ids, true)
			switch {
			case len(d.errs) > before:
			case slices.Equal(ids, []string{"all"}):
				ps.Builtin = nil
			case slices.Equal(ids, []string{"none"}):
				ps.Builtin = []string{}
			default:
				ps.Builtin = ids
			}
		},
		"disabled": func(p string, v *yaml.Node) { d.strings(p, v, &ps.Disabled, false) },
		"files": func(p string, v *yaml.Node) {
			d.strings(p, v, &ps.Files, false)
			// Relative to the file that names them, like the other paths of
			// the configuration; "-" and "" (no file) leave them as written.
			if dir := filepath.Dir(d.src.file); d.src.file != "" && d.src.file != "-" {
				for i, f := range ps.Files {
					if f != "" && !filepath.IsAbs(f) {
						ps.Files[i] = filepath.Join(dir, f)
					}
				}
			}
		},
		"configMaps": func(p string, v *yaml.Node) { d.configMapRefs(p, v, &ps.ConfigMaps) },
		"modes": func(p string, v *yaml.Node) {
			d.stringMap(p, v, &ps.Modes)
			for id, m := range ps.Modes {
				switch m {
				case "enforce", "warn", "audit":
				default:
					d.fail(joinPath(p, id), nil, "unknown mode %s (want enforce, warn or audit)", quote(m))
				}
			}
		},
	})
}

func (d *decoder) configMapRefs(path string, n *yaml.Node, dst *[]ConfigMapRef) {
	if n = d.value(path, n); n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(path, nil, "want a list of {namespace, name}, got %s", describe(n))
		return
	}
	out := make([]ConfigMapRef, len(n.Content))
	for i, item := range n.Content {
		p := path + "[" + strconv.Itoa(i) + "]"
		d.src.record(p, item)
		r := &out[i]
		d.mapping(p, item, map[string]fieldFunc{
			"namespace": func(p string, v *yaml.Node) { d.str(p, v, &r.Namespace) },
			"name":      func(p string, v *yaml.Node) { d.str(p, v, &r.Name) },
		})
		if r.Namespace == "" || r.Name == "" {
			d.fail(p, nil, "a ConfigMap needs a namespace and a name")
		}
	}
	*dst = out
}
