package rbac

import (
	"fmt"
	"slices"
	"strings"
)

// The subject kinds of RoleBinding subjects.
const (
	KindUser           = "User"
	KindGroup          = "Group"
	KindServiceAccount = "ServiceAccount"
)

// The implicit groups the API server's authenticators add.
const (
	GroupAuthenticated   = "system:authenticated"
	GroupUnauthenticated = "system:unauthenticated"
	GroupServiceAccounts = "system:serviceaccounts"
	anonymousUser        = "system:anonymous"
	saUserPrefix         = "system:serviceaccount:"
)

// Subject is a user, group or service account, as named on the command line
// ("user:alice", "group:dev", "sa:shop:ci") or in a binding.
type Subject struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// String returns the subject in ParseSubject's syntax.
func (s Subject) String() string {
	switch s.Kind {
	case KindUser:
		return "user:" + s.Name
	case KindGroup:
		return "group:" + s.Name
	case KindServiceAccount:
		return "sa:" + s.Namespace + ":" + s.Name
	}
	return s.Kind + ":" + s.Name
}

// ParseSubject parses "user:NAME", "group:NAME" or "sa:NAMESPACE:NAME"
// (also "serviceaccount:"). A user named system:serviceaccount:NS:NAME is
// the service account, as the API server sees it.
func ParseSubject(s string) (Subject, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return Subject{}, fmt.Errorf("subject %q: want user:NAME, group:NAME or sa:NAMESPACE:NAME", s)
	}
	switch strings.ToLower(kind) {
	case "user", "u":
		if ns, name, ok := strings.Cut(strings.TrimPrefix(rest, saUserPrefix), ":"); ok && strings.HasPrefix(rest, saUserPrefix) && ns != "" && name != "" && !strings.Contains(name, ":") {
			return Subject{Kind: KindServiceAccount, Namespace: ns, Name: name}, nil
		}
		return Subject{Kind: KindUser, Name: rest}, nil
	case "group", "g":
		return Subject{Kind: KindGroup, Name: rest}, nil
	case "sa", "serviceaccount":
		ns, name, ok := strings.Cut(rest, ":")
		if !ok || ns == "" || name == "" || strings.Contains(name, ":") {
			return Subject{}, fmt.Errorf("subject %q: a service account is sa:NAMESPACE:NAME", s)
		}
		return Subject{Kind: KindServiceAccount, Namespace: ns, Name: name}, nil
	}
	return Subject{}, fmt.Errorf("subject %q: unknown kind %q; want user, group or sa", s, kind)
}

// Identity is what the authorizer sees of a request's sender: a user name
// and groups. Name is empty for "any member of a group".
type Identity struct {
	Name   string   `json:"name,omitempty"`
	Groups []string `json:"groups"`
}

// IdentityOf returns the identity an authenticated request of s carries:
// a user with system:authenticated (system:anonymous with
// system:unauthenticated instead), a service account with
// system:serviceaccounts, system:serviceaccounts:<ns> and
// system:authenticated, and for a group a nameless member of that group only.
func IdentityOf(s Subject) Identity {
	switch s.Kind {
	case KindUser:
		if s.Name == anonymousUser {
			return Identity{Name: s.Name, Groups: []string{GroupUnauthenticated}}
		}
		return Identity{Name: s.Name, Groups: []string{GroupAuthenticated}}
	case KindServiceAccount:
		return Identity{
			Name:   saUserPrefix + s.Namespace + ":" + s.Name,
			Groups: []string{GroupServiceAccounts, GroupServiceAccounts + ":" + s.Namespace, GroupAuthenticated},
		}
	case KindGroup:
		return Identity{Groups: []string{s.Name}}
	}
	return Identity{}
}

// covers reports whether binding subject s (of a binding in namespace
// bindingNS) applies to id, as the RBAC authorizer's appliesToUser does.
func covers(s Subject, bindingNS string, id Identity) bool {
	switch s.Kind {
	case KindUser:
		return id.Name != "" && s.Name == id.Name
	case KindGroup:
		return slices.Contains(id.Groups, s.Name)
	case KindServiceAccount:
		ns := s.Namespace
		if ns == "" {
			ns = bindingNS
		}
		return id.Name != "" && id.Name == saUserPrefix+ns+":"+s.Name
	}
	return false
}
