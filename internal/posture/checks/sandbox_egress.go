package checks

// Agent Sandbox (sigs.k8s.io/agent-sandbox) runs untrusted code, often
// written by an AI agent, in Pods made from a SandboxTemplate. What those
// Pods may reach is the template's to declare: with networkPolicyManagement
// Managed (the default) the template controller writes one NetworkPolicy
// for all its sandboxes, selecting them, with policyTypes Ingress and
// Egress and the template's spec.networkPolicy rules — or, when
// spec.networkPolicy is omitted, its "secure default", whose egress allows
// every public IPv4 and IPv6 address on every port (only RFC 1918,
// link-local/metadata and IPv6 private ranges are blocked). With Unmanaged
// it writes none and leaves egress to other policies (Cilium, a
// namespace default-deny). OWASP's agentic-AI guidance and the project's
// own docs call for allow-listed egress: code that can reach anywhere can
// exfiltrate whatever it reads and fetch its next stage.
//
// The verdicts follow the NetworkPolicy the controller writes and what the
// API server does with it: an egress rule with no "to" (or an empty list)
// allows every destination; an ipBlock of 0.0.0.0/0 or ::/0 every address
// (except its exceptions); an empty namespaceSelector every pod of every
// namespace and an empty podSelector every pod of the template's namespace,
// other sandboxes included. A peer naming nothing makes the API server
// refuse the whole NetworkPolicy ("must specify a peer"), so the sandboxes
// get none. A template the CRD schema refuses (a management value other than
// Managed or Unmanaged, a networkPolicy that is not an object, an ipBlock
// without cidr) never exists: it is reported at low severity, since the
// restriction it means to declare is not in force anywhere.

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// SandboxEgress reports Agent Sandbox templates whose sandboxes may open
// connections to any destination.
func SandboxEgress() posture.Check {
	return posture.Check{
		ID:          "sandbox-egress",
		Title:       "Agent sandbox egress is not restricted",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "network",
		Rationale:   "Sandboxes run untrusted, often AI-generated code. Egress to any address lets it exfiltrate what it reads, fetch payloads and reach services it was never meant to see; the template's NetworkPolicy is the only network boundary the sandbox controller gives it.",
		Remediation: "Declare spec.networkPolicy.egress in the SandboxTemplate with rules whose 'to' names the destinations the agent needs (CIDRs, namespaces or pods selected by labels) and the ports; with networkPolicyManagement Unmanaged, add a NetworkPolicy that selects the sandbox pods and restricts egress.",
		Scope:       posture.ScopeInventory,
		Kinds:       []string{"SandboxTemplate"},
		Versions:    []posture.Versioned{{MinVersion: 8, Eval: evalSandboxEgress}}, // new in version 8
	}
}

func evalSandboxEgress(in *posture.Input) []posture.Result {
	var out []posture.Result
	// Built for the first Unmanaged template: the policies, and the
	// templates' pod labels.
	var policies *policyIndex
	var templates map[*kube.Object]*kube.Workload
	for _, o := range in.Inventory.OfKind("SandboxTemplate") {
		u, ok := o.Typed.(*unstructured.Unstructured)
		if !ok || !strings.HasPrefix(o.Ref.APIVersion, kube.AgentSandboxExtensionsGroup+"/") {
			continue
		}
		j := sandboxEgressJudge{o: o}
		spec, _ := u.Object["spec"].(map[string]any)
		mgmt, set := spec["networkPolicyManagement"]
		switch {
		case !set || mgmt == "Managed":
			j.managed(spec)
		case mgmt == "Unmanaged":
			if policies == nil {
				policies = indexPolicies(in.Inventory)
				templates = sandboxTemplateWorkloads(in.Inventory)
			}
			w := templates[o]
			if w == nil { // no pod template: labels unknown, only podSelector {} matches
				w = &kube.Workload{Object: o, PodSpec: &corev1.PodSpec{}}
			}
			j.unmanaged(w, policies)
		default:
			j.invalid([]string{"spec", "networkPolicyManagement"}, fmt.Sprintf("networkPolicyManagement %v is neither Managed nor Unmanaged", mgmt))
		}
		out = append(out, j.out...)
	}
	return out
}

// sandboxEgressJudge collects the results about one SandboxTemplate.
type sandboxEgressJudge struct {
	o   *kube.Object
	out []posture.Result
}

func (j *sandboxEgressJudge) report(sev finding.Severity, problem string, path []string, msg string, evs ...finding.Evidence) {
	j.out = append(j.out, posture.Result{
		Object: j.o, Path: path, Severity: sev,
		Message:  "SandboxTemplate " + kube.AppliedNamespace(j.o.Ref.Namespace) + "/" + j.o.Ref.Name + ": " + msg,
		Evidence: append([]finding.Evidence{key("problem", problem)}, evs...),
	})
}

// invalid reports what the CRD schema refuses: the template cannot be
// created, so the egress restriction it declares is nowhere in force.
func (j *sandboxEgressJudge) invalid(path []string, what string) {
	j.report(finding.SeverityLow, "invalid", path, what+": the API server refuses this SandboxTemplate, so the egress restriction it means to declare is not in force.")
}

// managed judges the NetworkPolicy the controller writes for spec.
func (j *sandboxEgressJudge) managed(spec map[string]any) {
	np, set := spec["networkPolicy"]
	if !set || np == nil {
		j.report(finding.SeverityMedium, "default-policy", []string{"spec", "networkPolicy"},
			"no spec.networkPolicy, so the controller applies its default policy: egress to every public IPv4 and IPv6 address on every port (only private, link-local and metadata ranges are blocked).")
		return
	}
	npm, ok := np.(map[string]any)
	if !ok {
		j.invalid([]string{"spec", "networkPolicy"}, "spec.networkPolicy is not an object")
		return
	}
	egress, set := npm["egress"]
	if !set || egress == nil {
		return // policyTypes include Egress: no rules deny all egress
	}
	rules, ok := egress.([]any)
	if !ok {
		j.invalid([]string{"spec", "networkPolicy", "egress"}, "spec.networkPolicy.egress is not a list")
		return
	}
	for i, r := range rules {
		j.rule(i, r)
	}
}

// rule judges egress rule i.
func (j *sandboxEgressJudge) rule(i int, r any) {
	path := []string{"spec", "networkPolicy", "egress", itoa(i)}
	rule, ok := r.(map[string]any)
	if !ok {
		j.invalid(path, "egress rule "+itoa(i)+" is not an object")
		return
	}
	to, isList := rule["to"].([]any)
	if rule["to"] != nil && !isList {
		j.invalid(append(path, "to"), "egress rule "+itoa(i)+" 'to' is not a list")
		return
	}
	if len(to) == 0 {
		j.report(finding.SeverityHigh, "any-destination", path,
			"egress rule "+itoa(i)+" has no 'to', so it allows every destination"+portsOf(rule)+", the cloud metadata server and cluster services included.", ev("rule", itoa(i)))
		return
	}
	for k, p := range to {
		j.peer(i, k, rule, p)
	}
}

// peer judges peer k of egress rule i.
func (j *sandboxEgressJudge) peer(i, k int, rule map[string]any, p any) {
	path := []string{"spec", "networkPolicy", "egress", itoa(i), "to", itoa(k)}
	where := "egress rule " + itoa(i) + " peer " + itoa(k)
	peer, ok := p.(map[string]any)
	if !ok {
		j.invalid(path, where+" is not an object")
		return
	}
	ipBlock, hasIP := peer["ipBlock"]
	nsSel, hasNS := peer["namespaceSelector"]
	podSel, hasPod := peer["podSelector"]
	switch {
	case !hasIP && !hasNS && !hasPod:
		j.report(finding.SeverityHigh, "refused-policy", path,
			where+" names no podSelector, namespaceSelector or ipBlock: the API server refuses the NetworkPolicy the controller writes from it (\"must specify a peer\"), so the sandboxes get no policy and may connect anywhere.", ev("rule", itoa(i)))
	case hasIP:
		j.ipBlock(path, where, rule, ipBlock)
	case hasNS && emptyYAMLSelector(nsSel) && (!hasPod || emptyYAMLSelector(podSel)):
		j.report(finding.SeverityMedium, "all-pods", path,
			where+" has an empty namespaceSelector: it allows every pod of every namespace"+portsOf(rule)+".", ev("rule", itoa(i)))
	case !hasNS && emptyYAMLSelector(podSel):
		j.report(finding.SeverityMedium, "all-pods", path,
			where+" has an empty podSelector: it allows every pod of the template's namespace"+portsOf(rule)+", other sandboxes included.", ev("rule", itoa(i)))
	}
}

// ipBlock judges an ipBlock peer.
func (j *sandboxEgressJudge) ipBlock(path []string, where string, rule map[string]any, v any) {
	b, _ := v.(map[string]any)
	cidr, _ := b["cidr"].(string)
	if cidr == "" {
		j.invalid(append(path, "ipBlock"), where+" has an ipBlock without cidr")
		return
	}
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil {
		j.report(finding.SeverityHigh, "refused-policy", append(path, "ipBlock", "cidr"),
			where+" cidr "+cidr+" is not a CIDR: the API server refuses the NetworkPolicy the controller writes from it, so the sandboxes get no policy and may connect anywhere.")
		return
	}
	if prefix.Bits() != 0 {
		return
	}
	except, _ := b["except"].([]any)
	if len(except) == 0 {
		included := "private and link-local addresses included"
		if prefix.Addr().Is4() {
			included = "the cloud metadata server (169.254.169.254) and private addresses included"
		}
		j.report(finding.SeverityHigh, "all-addresses", append(path, "ipBlock", "cidr"),
			where+" allows every "+ipFamily(prefix)+" address ("+cidr+")"+portsOf(rule)+", "+included+".", ev("cidr", cidr))
		return
	}
	j.report(finding.SeverityMedium, "all-addresses", append(path, "ipBlock", "cidr"),
		where+" allows every "+ipFamily(prefix)+" address ("+cidr+") but "+itoa(len(except))+" excepted ranges"+portsOf(rule)+": the whole internet.", ev("cidr", cidr))
}

// unmanaged judges a template whose NetworkPolicy the controller leaves
// to others: some policy must isolate its pods' egress.
func (j *sandboxEgressJudge) unmanaged(w *kube.Workload, idx *policyIndex) {
	ns := kube.AppliedNamespace(j.o.Ref.Namespace)
	if _, egress := idx.isolation(j.o.Source.Cluster, ns, w); egress {
		return
	}
	j.report(finding.SeverityHigh, "unmanaged", []string{"spec", "networkPolicyManagement"},
		"networkPolicyManagement is Unmanaged, so the controller writes no NetworkPolicy, and no policy in namespace "+ns+" restricts the egress of its pods (labels "+labelString(w.PodMeta.Labels)+"): they may connect anywhere.")
}

// sandboxTemplateWorkloads indexes the workloads of SandboxTemplates by
// their object.
func sandboxTemplateWorkloads(inv *kube.Inventory) map[*kube.Object]*kube.Workload {
	out := map[*kube.Object]*kube.Workload{}
	for _, w := range inv.Workloads {
		if w.Object.Ref.Kind == "SandboxTemplate" && w.IsCustomWorkload() {
			out[w.Object] = w
		}
	}
	return out
}

// emptyYAMLSelector reports whether a label selector (as decoded YAML) selects
// everything: no matchLabels and no matchExpressions.
func emptyYAMLSelector(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return v == nil
	}
	return emptyUnstructuredSelector(m)
}

// portsOf says which ports an egress rule allows.
func portsOf(rule map[string]any) string {
	if ports, _ := rule["ports"].([]any); len(ports) > 0 {
		return " on the rule's ports"
	}
	return " on every port"
}

func ipFamily(p netip.Prefix) string {
	if p.Addr().Is4() {
		return "IPv4"
	}
	return "IPv6"
}
