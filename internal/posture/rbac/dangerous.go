package rbac

import rbacv1 "k8s.io/api/rbac/v1"

// danger is a permission the posture RBAC checks flag (checks/rbac_*.go):
// any of its requests allowed by a rule makes the rule dangerous.
type danger struct {
	name     string
	requests []Request
}

func req(verb, group, resource, sub string) Request {
	return Request{Verb: verb, APIGroup: group, Resource: resource, Subresource: sub}
}

// dangers lists what the RBAC checks flag, in report order.
func dangers() []danger {
	return []danger{
		{"secrets-read", []Request{req("get", "", "secrets", ""), req("list", "", "secrets", ""), req("watch", "", "secrets", "")}},
		{"pods-exec", []Request{req("create", "", "pods", "exec"), req("get", "", "pods", "exec"), req("create", "", "pods", "attach")}},
		{"pod-create", []Request{req("create", "", "pods", ""), req("create", "apps", "deployments", ""), req("create", "apps", "daemonsets", ""),
			req("create", "apps", "statefulsets", ""), req("create", "apps", "replicasets", ""), req("create", "batch", "jobs", ""),
			req("create", "batch", "cronjobs", ""), req("create", "", "replicationcontrollers", "")}},
		{"escalate", []Request{req("bind", "rbac.authorization.k8s.io", "clusterroles", ""), req("bind", "rbac.authorization.k8s.io", "roles", ""),
			req("escalate", "rbac.authorization.k8s.io", "clusterroles", ""), req("escalate", "rbac.authorization.k8s.io", "roles", "")}},
		{"impersonate", []Request{req("impersonate", "", "users", ""), req("impersonate", "", "groups", ""), req("impersonate", "", "serviceaccounts", "")}},
		{"nodes-proxy", []Request{req("get", "", "nodes", "proxy"), req("create", "", "nodes", "proxy")}},
		{"csr-approval", []Request{req("update", "certificates.k8s.io", "certificatesigningrequests", "approval"), req("approve", "certificates.k8s.io", "signers", "")}},
		{"token-create", []Request{req("create", "", "serviceaccounts", "token")}},
	}
}

// Dangerous returns the names of the dangerous permissions rule grants:
// secrets-read, pods-exec, pod-create, escalate, impersonate, nodes-proxy,
// csr-approval, token-create. A rule limited to resourceNames still counts:
// it grants the permission on those objects.
func Dangerous(rule rbacv1.PolicyRule) []string {
	rule.ResourceNames = nil
	var out []string
	for _, d := range dangers() {
		for _, r := range d.requests {
			if RuleAllows(&rule, r) {
				out = append(out, d.name)
				break
			}
		}
	}
	return out
}
