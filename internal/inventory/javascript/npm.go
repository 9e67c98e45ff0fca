// Package javascript holds what the npm extractors share.
package javascript

import (
	"strings"

	"github.com/palisade-sec/palisade/internal/inventory"
)

// Package returns an npm package with its purl; name may be scoped
// ("@babel/core").
func Package(name, version string) inventory.Package {
	u := inventory.PURL{Type: "npm", Name: name, Version: version}
	if scope, rest, ok := strings.Cut(name, "/"); ok && strings.HasPrefix(scope, "@") {
		u.Namespace, u.Name = scope, rest
	}
	return inventory.Package{Ecosystem: "npm", Name: name, Version: version, Type: "npm", PURL: u.String()}
}

// NameFromPath returns the package name a node_modules path installs:
// "node_modules/a/node_modules/@s/b" → "@s/b". ok is false when the path
// does not end in a node_modules entry.
func NameFromPath(p string) (string, bool) {
	i := strings.LastIndex(p, "node_modules/")
	if i < 0 {
		return "", false
	}
	name := p[i+len("node_modules/"):]
	parts := strings.Split(name, "/")
	switch {
	case len(parts) == 1 && parts[0] != "" && !strings.HasPrefix(parts[0], "@"):
		return name, true
	case len(parts) == 2 && strings.HasPrefix(parts[0], "@") && len(parts[0]) > 1 && parts[1] != "":
		return name, true
	}
	return "", false
}
