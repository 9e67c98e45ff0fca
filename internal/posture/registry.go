package posture

import (
	"errors"
	"fmt"
	"regexp"
)

var checkIDPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// Registry is a validated list of checks, each resolved to the behaviour
// of the pinned version.
type Registry struct {
	checks []resolved
	pin    Version
}

type resolved struct {
	check *Check
	eval  func(*Input) []Result
}

// NewRegistry validates all (unique, well-formed IDs; a title, severity,
// scope and kinds where needed; at least one version, MinVersion strictly
// increasing; an Eval for each) and resolves each check for pin (Latest for
// the newest behaviour). Checks that did not exist yet at pin are left out.
func NewRegistry(all []Check, pin Version) (*Registry, error) {
	if pin < 0 {
		return nil, fmt.Errorf("build check registry: negative version pin %d", pin)
	}
	var errs []error
	seen := make(map[string]bool, len(all))
	r := &Registry{pin: pin}
	for i := range all {
		c := &all[i]
		if err := validate(c); err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[c.ID] {
			errs = append(errs, fmt.Errorf("check %q: duplicate ID", c.ID))
			continue
		}
		seen[c.ID] = true
		var eval func(*Input) []Result
		for _, v := range c.Versions {
			if pin == Latest || v.MinVersion <= pin {
				eval = v.Eval
			}
		}
		if eval != nil {
			r.checks = append(r.checks, resolved{check: c, eval: eval})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("build check registry: %w", err)
	}
	return r, nil
}

func validate(c *Check) error {
	if !checkIDPattern.MatchString(c.ID) {
		return fmt.Errorf("check %q: ID must be lowercase words joined by '-'", c.ID)
	}
	if c.Title == "" || c.Rationale == "" || c.Remediation == "" || c.Category == "" {
		return fmt.Errorf("check %q: title, category, rationale and remediation are required", c.ID)
	}
	if c.Level != LevelBaseline && c.Level != LevelRestricted {
		return fmt.Errorf("check %q: unknown level %q", c.ID, c.Level)
	}
	if c.Severity.String() == "unknown" || c.Severity < 0 || c.Severity > 5 {
		return fmt.Errorf("check %q: severity must be info to critical", c.ID)
	}
	switch c.Scope {
	case ScopeWorkload, ScopeInventory:
	case ScopeObject:
		if len(c.Kinds) == 0 {
			return fmt.Errorf("check %q: object check without kinds", c.ID)
		}
	default:
		return fmt.Errorf("check %q: unknown scope %d", c.ID, c.Scope)
	}
	if len(c.Versions) == 0 {
		return fmt.Errorf("check %q: no versions", c.ID)
	}
	for i, v := range c.Versions {
		if v.Eval == nil {
			return fmt.Errorf("check %q: version %d has no Eval", c.ID, v.MinVersion)
		}
		if v.MinVersion < 1 {
			return fmt.Errorf("check %q: MinVersion must be ≥ 1, got %d", c.ID, v.MinVersion)
		}
		if i > 0 && v.MinVersion <= c.Versions[i-1].MinVersion {
			return fmt.Errorf("check %q: MinVersion %d does not increase after %d", c.ID, v.MinVersion, c.Versions[i-1].MinVersion)
		}
	}
	return nil
}

// Checks returns the checks of the registry, in registration order.
func (r *Registry) Checks() []*Check {
	out := make([]*Check, len(r.checks))
	for i, rc := range r.checks {
		out[i] = rc.check
	}
	return out
}

// Check returns the check with id, or nil.
func (r *Registry) Check(id string) *Check {
	for _, rc := range r.checks {
		if rc.check.ID == id {
			return rc.check
		}
	}
	return nil
}

// Pin returns the version the registry was resolved for.
func (r *Registry) Pin() Version { return r.pin }
