package nodecheck

import (
	"bytes"
	"fmt"
	"path"
	"strings"
)

// Flags are the command-line flags of one component, in the order given.
type Flags struct {
	names  []string
	values map[string][]string
}

// boolFlags are the flags pflag parses as booleans: a bare "--flag" means
// true and never takes the next argument as its value.
var boolFlags = map[string]bool{
	"anonymous-auth": true, "profiling": true, "service-account-lookup": true,
	"client-cert-auth": true, "auto-tls": true, "peer-client-cert-auth": true,
	"peer-auto-tls": true, "rotate-certificates": true, "make-iptables-util-chains": true,
	"protect-kernel-defaults": true, "use-service-account-credentials": true,
	"allow-privileged": true, "unsafe-no-fsync": true, "logtostderr": true,
}

// ParseArgs parses command-line arguments the way pflag does for the
// Kubernetes binaries: "--name=value", "--name value" and bare boolean
// flags. Positional arguments are ignored; "--" ends the flags.
func ParseArgs(args []string) Flags {
	f := Flags{values: map[string][]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue
		}
		name := strings.TrimLeft(a, "-")
		value, hasValue := "", false
		if k, v, ok := strings.Cut(name, "="); ok {
			name, value, hasValue = k, v, true
		}
		if name == "" {
			continue
		}
		if !hasValue {
			switch {
			case boolFlags[name]:
				value = "true"
			case i+1 < len(args) && !strings.HasPrefix(args[i+1], "-"):
				i++
				value = args[i]
			default:
				value = "true"
			}
		}
		f.add(name, value)
	}
	return f
}

func (f *Flags) add(name, value string) {
	if f.values == nil {
		f.values = map[string][]string{}
	}
	if _, ok := f.values[name]; !ok {
		f.names = append(f.names, name)
	}
	f.values[name] = append(f.values[name], value)
}

// Get returns the value of a flag and whether it was given; for a flag given
// more than once the last value wins, as in pflag.
func (f Flags) Get(name string) (string, bool) {
	v := f.values[name]
	if len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

// List returns the comma-separated items of a list flag, over every time it
// was given (pflag's string slices append).
func (f Flags) List(name string) []string {
	var out []string
	for _, v := range f.values[name] {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// Names returns the flags given, in order of first appearance.
func (f Flags) Names() []string { return f.names }

// ParseCmdline splits the contents of /proc/<pid>/cmdline (arguments ended
// by NUL bytes) into the program's base name and its flags.
func ParseCmdline(b []byte) (string, Flags) {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return "", Flags{values: map[string][]string{}}
	}
	args := strings.Split(string(b), "\x00")
	return path.Base(args[0]), ParseArgs(args[1:])
}

// ParseBool parses a Kubernetes boolean flag value as strconv.ParseBool does.
func ParseBool(s string) (bool, error) {
	switch strings.TrimSpace(s) {
	case "1", "t", "T", "true", "TRUE", "True":
		return true, nil
	case "0", "f", "F", "false", "FALSE", "False":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", s)
}

// featureGate returns the value of one gate in "--feature-gates=A=true,B=false"
// lists, the last mention winning.
func featureGate(list []string, gate string) (string, bool) {
	val, found := "", false
	for _, item := range list {
		if k, v, ok := strings.Cut(item, "="); ok && strings.TrimSpace(k) == gate {
			val, found = strings.TrimSpace(v), true
		}
	}
	return val, found
}
