package checks

// CIS Kubernetes Benchmark 5.3.2 and NSA/CISA "Network separation and
// hardening": network policies exist to narrow traffic to the flows a
// workload needs. A rule that admits every source (or destination) on
// every port undoes that for the pods it selects, and overrides any
// default-deny policy of the namespace, since policies only add allowed
// flows; it opens the lateral movement (MITRE ATT&CK TA0008) the policy
// was meant to stop.
//
// A Kubernetes rule admits everything when it has no ports (all ports) and
// either no peers at all ("ingress: [{}]", unlike "ingress: []", which
// admits nothing), or a peer that matches all pods of all namespaces
// (namespaceSelector: {} with no or an empty podSelector), or an ipBlock
// of 0.0.0.0/0 or ::/0 without except. Rules of a direction the policy
// does not apply to (egress rules of an Ingress-only policy) are ignored,
// as the network plugin ignores them. A rule restricted to some ports is
// not reported: "any client on port 443" is how a public service is
// meant to be opened.
//
// Cilium policies are judged by Cilium's rules: an allow rule with no
// toPorts or icmps admits everything when it names the entity all, world
// (every address outside the cluster) or cluster, a CIDR of prefix length 0
// without except, or, in a CiliumClusterwideNetworkPolicy, an empty
// endpoint selector (in a CiliumNetworkPolicy that is the policy's own
// namespace). An empty Cilium rule ("ingress: [{}]") admits nothing, and
// deny rules never admit.

import (
	"net/netip"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// NetworkAllowAll reports NetworkPolicy rules that admit all traffic.
func NetworkAllowAll() posture.Check {
	return posture.Check{
		ID:          "network-allow-all",
		Title:       "NetworkPolicy rule admits all traffic",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "network",
		Rationale:   "A rule that admits every peer on every port isolates nothing, and since policies only add allowed flows it cancels the namespace's default-deny policy for the pods it selects.",
		Remediation: "Replace the rule with peers (podSelector, namespaceSelector with labels, narrow ipBlock) and ports the workload actually needs; to allow nothing, leave the direction's rule list empty.",
		Scope:       posture.ScopeObject,
		Kinds:       []string{"NetworkPolicy", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"},
		Versions:    []posture.Versioned{{MinVersion: 4, Eval: evalAllowAll}}, // new in version 4
	}
}

func evalAllowAll(in *posture.Input) []posture.Result {
	o := in.Object
	if o.Ref.Kind != "NetworkPolicy" {
		return ciliumAllowAll(o)
	}
	np := networkPolicyOf(o)
	if np == nil {
		return nil
	}
	ingress, egress := policyDirections(np)
	selects := "the pods it selects"
	if len(np.Spec.PodSelector.MatchLabels) == 0 && len(np.Spec.PodSelector.MatchExpressions) == 0 {
		selects = "every pod of namespace " + kube.AppliedNamespace(o.Ref.Namespace)
	}
	var out []posture.Result
	report := func(dir, field, peersField string, i int, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) {
		if len(ports) > 0 {
			return
		}
		peer, j := allPeer(peers)
		if peer == "" {
			return
		}
		path := []string{"spec", field, itoa(i)}
		what := "from"
		if dir == "egress" {
			what = "to"
		}
		var msg string
		if j < 0 {
			path = append(path, peersField)
			msg = "NetworkPolicy " + o.Ref.Name + " " + dir + " rule " + itoa(i) + " has no " + peersField + " and no ports: it admits all " + dir + " traffic " + what + " anywhere, on every port, for " + selects + "."
		} else {
			path = append(path, peersField, itoa(j))
			msg = "NetworkPolicy " + o.Ref.Name + " " + dir + " rule " + itoa(i) + " admits traffic " + what + " " + peerText(peer) + " on every port, for " + selects + "."
		}
		out = append(out, posture.Result{
			Path:     path,
			Message:  msg,
			Evidence: []finding.Evidence{key("direction", dir), key("rule", itoa(i)), ev("peer", peer)},
		})
	}
	if ingress {
		for i, r := range np.Spec.Ingress {
			report("ingress", "ingress", "from", i, r.From, r.Ports)
		}
	}
	if egress {
		for i, r := range np.Spec.Egress {
			report("egress", "egress", "to", i, r.To, r.Ports)
		}
	}
	return out
}

// allPeer returns what makes peers admit everything, and the index of the
// peer that does (-1 when the list is empty, which means every peer); ""
// when no peer does.
func allPeer(peers []networkingv1.NetworkPolicyPeer) (string, int) {
	if len(peers) == 0 {
		return "any", -1
	}
	for j, p := range peers {
		if p.NamespaceSelector != nil && emptySelector(p.NamespaceSelector) && (p.PodSelector == nil || emptySelector(p.PodSelector)) {
			return "all-namespaces", j
		}
		if p.IPBlock != nil && len(p.IPBlock.Except) == 0 {
			if pfx, ok := zeroPrefix(p.IPBlock.CIDR); ok {
				return pfx, j
			}
		}
	}
	return "", 0
}

func emptySelector(s *metav1.LabelSelector) bool {
	return len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0
}

func peerText(peer string) string {
	switch peer {
	case "all-namespaces":
		return "every pod of every namespace (namespaceSelector: {})"
	case "0.0.0.0/0":
		return "every IPv4 address (0.0.0.0/0)"
	case "::/0":
		return "every IPv6 address (::/0)"
	case "entity all":
		return "every endpoint and address (entity all)"
	case "entity world":
		return "every address outside the cluster (entity world)"
	case "entity cluster":
		return "every endpoint of the cluster (entity cluster)"
	case "all-endpoints":
		return "every endpoint of every namespace (endpoint selector {})"
	}
	return peer
}

// ciliumAllowAll reports the allow rules of a CiliumNetworkPolicy or
// CiliumClusterwideNetworkPolicy ("spec" and each of "specs") that admit
// every peer on every port.
func ciliumAllowAll(o *kube.Object) []posture.Result {
	u, ok := o.Typed.(*unstructured.Unstructured)
	if !ok {
		return nil
	}
	clusterwide := o.Ref.Kind == "CiliumClusterwideNetworkPolicy"
	type located struct {
		rule map[string]any
		path []string
		spec string // index in specs, "" for spec
	}
	var rules []located
	if spec, ok := u.Object["spec"].(map[string]any); ok {
		rules = append(rules, located{spec, []string{"spec"}, ""})
	}
	if specs, ok := u.Object["specs"].([]any); ok {
		for i, sp := range specs {
			if m, ok := sp.(map[string]any); ok {
				rules = append(rules, located{m, []string{"specs", itoa(i)}, itoa(i)})
			}
		}
	}
	var out []posture.Result
	for _, r := range rules {
		for _, d := range []struct{ dir, prefix, what string }{{"ingress", "from", "from"}, {"egress", "to", "to"}} {
			list, _ := r.rule[d.dir].([]any)
			for i, e := range list {
				m, ok := e.(map[string]any)
				if !ok {
					continue
				}
				peer, field := ciliumAllPeer(m, d.prefix, clusterwide)
				if peer == "" {
					continue
				}
				path := append(append([]string{}, r.path...), d.dir, itoa(i), field)
				where := ""
				evs := []finding.Evidence{key("direction", d.dir), key("rule", itoa(i)), ev("peer", peer)}
				if r.spec != "" {
					where = " specs[" + r.spec + "]"
					evs = append(evs, key("spec", r.spec))
				}
				out = append(out, posture.Result{
					Path:     path,
					Message:  o.Ref.Kind + " " + o.Ref.Name + where + " " + d.dir + " rule " + itoa(i) + " admits traffic " + d.what + " " + peerText(peer) + " on every port, for the endpoints it selects.",
					Evidence: evs,
				})
			}
		}
	}
	return out
}

// ciliumAllPeer returns what makes Cilium allow rule m (prefix "from" for
// ingress, "to" for egress) admit every peer on every port, and the field
// that says so; "" when it does not.
func ciliumAllPeer(m map[string]any, prefix string, clusterwide bool) (string, string) {
	for _, f := range []string{"toPorts", "icmps", prefix + "Requires"} {
		if l, _ := m[f].([]any); len(l) > 0 {
			return "", ""
		}
	}
	entities, _ := m[prefix+"Entities"].([]any)
	for _, want := range []string{"all", "world", "cluster"} {
		for _, e := range entities {
			if s, ok := e.(string); ok && strings.EqualFold(s, want) {
				return "entity " + want, prefix + "Entities"
			}
		}
	}
	cidrs, _ := m[prefix+"CIDR"].([]any)
	for _, c := range cidrs {
		if s, ok := c.(string); ok {
			if p, ok := zeroPrefix(s); ok {
				return p, prefix + "CIDR"
			}
		}
	}
	sets, _ := m[prefix+"CIDRSet"].([]any)
	for _, c := range sets {
		cs, ok := c.(map[string]any)
		if !ok {
			continue
		}
		if except, _ := cs["except"].([]any); len(except) > 0 {
			continue
		}
		if s, ok := cs["cidr"].(string); ok {
			if p, ok := zeroPrefix(s); ok {
				return p, prefix + "CIDRSet"
			}
		}
	}
	if clusterwide {
		eps, _ := m[prefix+"Endpoints"].([]any)
		for _, e := range eps {
			if sel, ok := e.(map[string]any); ok && emptyUnstructuredSelector(sel) {
				return "all-endpoints", prefix + "Endpoints"
			}
		}
	}
	return "", ""
}

// zeroPrefix reports whether s is a CIDR of prefix length 0, returning it
// masked ("0.0.0.0/0", "::/0").
func zeroPrefix(s string) (string, bool) {
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Bits() != 0 {
		return "", false
	}
	return p.Masked().String(), true
}

// emptyUnstructuredSelector reports whether a selector read from YAML has
// no labels and no expressions.
func emptyUnstructuredSelector(sel map[string]any) bool {
	ml, _ := sel["matchLabels"].(map[string]any)
	me, _ := sel["matchExpressions"].([]any)
	return len(ml) == 0 && len(me) == 0
}
