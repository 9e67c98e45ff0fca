package nodecheck

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ParseStaticPod reads a static pod manifest and returns the program of its
// first container and that container's flags (command and args together, as
// the kubelet runs them).
func ParseStaticPod(b []byte) (string, Flags, error) {
	var pod struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Containers []struct {
				Command []string `yaml:"command"`
				Args    []string `yaml:"args"`
			} `yaml:"containers"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &pod); err != nil {
		return "", Flags{}, fmt.Errorf("parse static pod: %w", err)
	}
	if pod.Kind != "" && pod.Kind != "Pod" {
		return "", Flags{}, fmt.Errorf("parse static pod: kind is %q, not Pod", pod.Kind)
	}
	if len(pod.Spec.Containers) == 0 {
		return "", Flags{}, fmt.Errorf("parse static pod: no containers")
	}
	c := pod.Spec.Containers[0]
	argv := append(append([]string{}, c.Command...), c.Args...)
	if len(argv) == 0 {
		return "", ParseArgs(nil), nil
	}
	prog := path.Base(argv[0])
	if strings.HasPrefix(argv[0], "-") {
		// Only args: the image's entrypoint is the program.
		return "", ParseArgs(argv), nil
	}
	return prog, ParseArgs(argv[1:]), nil
}

// unit is what the kubelet systemd unit and its drop-ins say.
type unit struct {
	env       map[string]string
	envFiles  []string // EnvironmentFile= paths, "-" prefix removed
	execStart string   // the last non-empty ExecStart=
}

// parseUnit adds one unit or drop-in file to u, in the order systemd reads
// them: later assignments win, and an empty ExecStart= resets it.
func (u *unit) parse(b []byte) {
	if u.env == nil {
		u.env = map[string]string{}
	}
	var cont strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasSuffix(line, "\\") {
			cont.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		if cont.Len() > 0 {
			line = cont.String() + line
			cont.Reset()
		}
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "Environment":
			for _, w := range splitWords(val) {
				if k, v, ok := strings.Cut(w, "="); ok {
					u.env[k] = v
				}
			}
		case "EnvironmentFile":
			u.envFiles = append(u.envFiles, strings.TrimPrefix(strings.TrimSpace(val), "-"))
		case "ExecStart":
			u.execStart = strings.TrimSpace(val)
		}
	}
}

// parseEnvFile adds the KEY=value lines of an EnvironmentFile.
func (u *unit) parseEnvFile(b []byte) {
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			if w := splitWords(v); len(w) == 1 {
				v = w[0]
			}
			u.env[strings.TrimSpace(k)] = v
		}
	}
}

// flags expands the environment into ExecStart and parses the result.
func (u *unit) flags() Flags {
	cmd := strings.TrimLeft(u.execStart, "@-:+!")
	words := splitWords(cmd)
	var args []string
	for i, w := range words {
		if i == 0 {
			continue
		}
		switch {
		case strings.HasPrefix(w, "${") && strings.HasSuffix(w, "}"):
			args = append(args, strings.Fields(u.env[w[2:len(w)-1]])...)
		case strings.HasPrefix(w, "$"):
			args = append(args, strings.Fields(u.env[w[1:]])...)
		default:
			args = append(args, w)
		}
	}
	return ParseArgs(args)
}

// splitWords splits on white space, keeping double- or single-quoted
// strings together without their quotes, as systemd does.
func splitWords(s string) []string {
	var (
		out   []string
		cur   strings.Builder
		quote rune
		in    bool
	)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// ParseKubeletConfig parses a KubeletConfiguration file into a tree that
// lookup reads by field path.
func ParseKubeletConfig(b []byte) (map[string]any, error) {
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse kubelet config: %w", err)
	}
	if m == nil {
		m = map[string]any{}
	}
	if k, ok := m["kind"]; ok && k != "KubeletConfiguration" {
		return nil, fmt.Errorf("parse kubelet config: kind is %v, not KubeletConfiguration", k)
	}
	return m, nil
}

// lookup returns the value at a dotted path ("authentication.anonymous.enabled")
// as flag text: lists joined by commas.
func lookup(m map[string]any, dotted string) (string, bool) {
	var cur any = m
	for _, part := range strings.Split(dotted, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		if cur, ok = mm[part]; !ok || cur == nil {
			return "", false
		}
	}
	switch v := cur.(type) {
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, ","), true
	case map[string]any:
		return "", false
	default:
		return fmt.Sprint(v), true
	}
}

// EncryptionProviders returns, for each resources entry of an
// EncryptionConfiguration, its resources and the provider that encrypts
// new writes (the first one listed).
func EncryptionProviders(b []byte) ([]ResourceProvider, error) {
	var cfg struct {
		Kind      string `yaml:"kind"`
		Resources []struct {
			Resources []string         `yaml:"resources"`
			Providers []map[string]any `yaml:"providers"`
		} `yaml:"resources"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("parse encryption configuration: %w", err)
	}
	if cfg.Kind != "EncryptionConfiguration" {
		return nil, fmt.Errorf("parse encryption configuration: kind is %q, not EncryptionConfiguration", cfg.Kind)
	}
	var out []ResourceProvider
	for i, r := range cfg.Resources {
		if len(r.Providers) == 0 {
			return nil, fmt.Errorf("parse encryption configuration: resources[%d] has no providers", i)
		}
		if len(r.Providers[0]) != 1 {
			return nil, fmt.Errorf("parse encryption configuration: resources[%d].providers[0] names %d providers, want 1", i, len(r.Providers[0]))
		}
		var name string
		for k := range r.Providers[0] {
			name = k
		}
		out = append(out, ResourceProvider{Resources: r.Resources, Provider: name})
	}
	return out, nil
}

// ResourceProvider is the write provider of one resources entry.
type ResourceProvider struct {
	Resources []string
	Provider  string
}
