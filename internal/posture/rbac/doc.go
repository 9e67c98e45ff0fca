// Package rbac computes effective Kubernetes RBAC permissions from Roles,
// ClusterRoles, RoleBindings and ClusterRoleBindings, read from manifests or
// listed from a live cluster: which rules a subject holds (through its own
// name, its groups and the implicit groups every identity has) and which
// subjects can perform a request. It follows the kube-apiserver's RBAC
// authorizer (k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac) rule for
// rule, including aggregated ClusterRoles, so its answers agree with a
// SubjectAccessReview; it never talks to a cluster itself.
package rbac
