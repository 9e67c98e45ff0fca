package falcoevents

import (
	_ "embed"
	"fmt"

	"github.com/google/cel-go/cel"

	"github.com/palisade-sec/palisade/internal/audit"
)

//go:embed correlation.yaml
var correlationYAML []byte

// Rules compiles the built-in sequences that join audit events with Falco
// events; palisade serve merges them into the audit engine's rule set.
func Rules(env *cel.Env) (*audit.RuleSet, error) {
	set, err := audit.LoadRules(env, "builtin:falco-correlation.yaml", correlationYAML)
	if err != nil {
		return nil, fmt.Errorf("load falco correlation rules: %w", err)
	}
	return set, nil
}
