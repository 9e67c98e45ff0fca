package policy

import (
	"fmt"
	"regexp"
)

// APIVersion and Kind identify a policy document.
const (
	APIVersion = "palisade.dev/v1alpha1"
	Kind       = "Policy"
)

// Mode is what a violation does at admission.
type Mode string

// The modes. Audit is the default: a new policy records before it blocks.
const (
	Enforce Mode = "enforce"
	Warn    Mode = "warn"
	Audit   Mode = "audit"
)

// ParseMode returns the mode named s.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Enforce, Warn, Audit:
		return m, nil
	}
	return "", fmt.Errorf("unknown mode %q (want enforce, warn or audit)", s)
}

// OnUpdate says what an UPDATE is judged on.
type OnUpdate string

// The update behaviours.
const (
	// Always judges the new object as a whole.
	Always OnUpdate = "always"
	// ChangedOnly reports only violations the old object did not already
	// have, so that an existing workload can still be scaled or relabelled
	// while its owners fix it.
	ChangedOnly OnUpdate = "changedOnly"
)

// FailurePolicy says what happens when a policy cannot be evaluated (an
// unguarded missing field, the cost limit, unreadable params), named as in
// ValidatingAdmissionPolicy.
type FailurePolicy string

// The failure policies.
const (
	// Fail denies in enforce mode: the default, since a policy that
	// cannot run must not become a way around it.
	Fail FailurePolicy = "Fail"
	// Ignore admits with a warning: for policies whose outage should not
	// stop deployments.
	Ignore FailurePolicy = "Ignore"
)

// Scope is what one validation judges.
type Scope string

// The scopes.
const (
	// ScopeObject evaluates the expression once per object.
	ScopeObject Scope = "object"
	// ScopeContainer evaluates it once per container (init and ephemeral
	// included) with the variable container bound; violations name the
	// container and its image.
	ScopeContainer Scope = "container"
)

// idPattern is what policy IDs look like: "lp/no-privileged", "acme/no-latest".
var idPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(/[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// Document is a policy file's document as written.
type Document struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   Metadata `yaml:"metadata"`
	Spec       Spec     `yaml:"spec"`
}

// Metadata names a policy.
type Metadata struct {
	// Name is the policy ID: stable, it appears in messages, metrics,
	// exceptions and the modes map of palisade.yaml.
	Name        string            `yaml:"name"`
	Annotations map[string]string `yaml:"annotations"`
}

// Spec is the body of a policy.
type Spec struct {
	Title           string         `yaml:"title"`
	Severity        string         `yaml:"severity"`
	Remediation     string         `yaml:"remediation"`
	Controls        []string       `yaml:"controls"` // "CIS 5.2.1", "NSA pod security"
	Mode            Mode           `yaml:"mode"`
	OnUpdate        OnUpdate       `yaml:"onUpdate"`
	FailurePolicy   FailurePolicy  `yaml:"failurePolicy"`
	MatchResources  MatchResources `yaml:"matchResources"`
	MatchConditions []NamedExpr    `yaml:"matchConditions"`
	Variables       []NamedExpr    `yaml:"variables"`
	Validations     []Validation   `yaml:"validations"`
	Params          any            `yaml:"params"`
	ParamsRef       *ParamsRef     `yaml:"paramsRef"`
}

// MatchResources selects the requests a policy judges. Empty lists match
// everything.
type MatchResources struct {
	APIGroups         []string       `yaml:"apiGroups"`  // "" is the core group; "*" any
	Kinds             []string       `yaml:"kinds"`      // "Deployment"; "*" any
	Operations        []string       `yaml:"operations"` // CREATE, UPDATE; default both
	NamespaceSelector *LabelSelector `yaml:"namespaceSelector"`
	ExcludeNamespaces []string       `yaml:"excludeNamespaces"`
}

// LabelSelector is the subset of metav1.LabelSelector policies use on
// namespace labels.
type LabelSelector struct {
	MatchLabels      map[string]string `yaml:"matchLabels"`
	MatchExpressions []Requirement     `yaml:"matchExpressions"`
}

// Requirement is one matchExpressions entry.
type Requirement struct {
	Key      string   `yaml:"key"`
	Operator string   `yaml:"operator"` // In, NotIn, Exists, DoesNotExist
	Values   []string `yaml:"values"`
}

// NamedExpr is a match condition or a variable.
type NamedExpr struct {
	Name       string `yaml:"name"`
	Expression string `yaml:"expression"`
}

// Validation is one rule of a policy: Expression must be true.
type Validation struct {
	Expression        string `yaml:"expression"`
	Message           string `yaml:"message"`
	MessageExpression string `yaml:"messageExpression"`
	Reason            string `yaml:"reason"`
	Scope             Scope  `yaml:"scope"`
}

// ParamsRef names the ConfigMap whose data become params. Offline, the
// test file supplies params instead.
type ParamsRef struct {
	Namespace string `yaml:"namespace"`
	Name      string `yaml:"name"`
	// ParameterNotFoundAction is what a missing ConfigMap does, as in
	// ValidatingAdmissionPolicy's paramRef: Deny (the default) makes every
	// matching request a violation naming the ConfigMap; Allow skips the
	// policy.
	ParameterNotFoundAction ParameterNotFoundAction `yaml:"parameterNotFoundAction"`
}

// ParameterNotFoundAction is what a policy does when its params ConfigMap
// does not exist.
type ParameterNotFoundAction string

// The actions, spelled as in ValidatingAdmissionPolicyBinding.
const (
	DenyAction  ParameterNotFoundAction = "Deny"
	AllowAction ParameterNotFoundAction = "Allow"
)
