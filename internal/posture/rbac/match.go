package rbac

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Request is one thing a subject may do: a verb on a resource (with its
// API group, optional subresource and object name) in a namespace ("" for
// cluster-scoped resources and requests across all namespaces), or a verb
// on a non-resource URL Path such as /metrics.
type Request struct {
	Verb        string `json:"verb"`
	APIGroup    string `json:"apiGroup,omitempty"`
	Resource    string `json:"resource,omitempty"`
	Subresource string `json:"subresource,omitempty"`
	Name        string `json:"name,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Path        string `json:"path,omitempty"`
}

// NonResource reports whether r is a request for a non-resource URL.
func (r Request) NonResource() bool { return r.Path != "" }

// String returns "verb resource[/subresource][.group] [name] [in ns]" or
// "verb /path".
func (r Request) String() string {
	if r.NonResource() {
		return r.Verb + " " + r.Path
	}
	s := r.Verb + " " + r.combined()
	if r.APIGroup != "" {
		s += "." + r.APIGroup
	}
	if r.Name != "" {
		s += " " + r.Name
	}
	if r.Namespace != "" {
		s += " in " + r.Namespace
	}
	return s
}

func (r Request) combined() string {
	if r.Subresource == "" {
		return r.Resource
	}
	return r.Resource + "/" + r.Subresource
}

// RuleAllows reports whether rule grants r, exactly as the API server's
// rbac.RuleAllows: wildcards "*" in verbs, apiGroups and resources;
// "*/sub" for a subresource of every resource (but not "res/*");
// resourceNames restricting requests that name an object; non-resource
// URLs matched exactly or by a trailing "*" prefix.
func RuleAllows(rule *rbacv1.PolicyRule, r Request) bool {
	if !verbMatches(rule, r.Verb) {
		return false
	}
	if r.NonResource() {
		return nonResourceURLMatches(rule, r.Path)
	}
	return apiGroupMatches(rule, r.APIGroup) &&
		resourceMatches(rule, r.combined(), r.Subresource) &&
		resourceNameMatches(rule, r.Name)
}

func verbMatches(rule *rbacv1.PolicyRule, verb string) bool {
	return slices.Contains(rule.Verbs, rbacv1.VerbAll) || slices.Contains(rule.Verbs, verb)
}

func apiGroupMatches(rule *rbacv1.PolicyRule, group string) bool {
	return slices.Contains(rule.APIGroups, rbacv1.APIGroupAll) || slices.Contains(rule.APIGroups, group)
}

func resourceMatches(rule *rbacv1.PolicyRule, combined, sub string) bool {
	for _, res := range rule.Resources {
		if res == rbacv1.ResourceAll || res == combined {
			return true
		}
		if sub != "" && len(res) == len(sub)+2 && strings.HasPrefix(res, "*/") && strings.HasSuffix(res, sub) {
			return true
		}
	}
	return false
}

func resourceNameMatches(rule *rbacv1.PolicyRule, name string) bool {
	if len(rule.ResourceNames) == 0 {
		return true
	}
	return slices.Contains(rule.ResourceNames, name)
}

func nonResourceURLMatches(rule *rbacv1.PolicyRule, path string) bool {
	for _, u := range rule.NonResourceURLs {
		if u == rbacv1.NonResourceAll || u == path {
			return true
		}
		if strings.HasSuffix(u, "*") && strings.HasPrefix(path, strings.TrimSuffix(u, "*")) {
			return true
		}
	}
	return false
}
