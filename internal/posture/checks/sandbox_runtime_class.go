package checks

// An Agent Sandbox pod runs untrusted code; without a sandboxed runtime it
// runs on the node's kernel like any container (runc), and one kernel bug
// or a container escape is the node. The project's docs, GKE Sandbox and
// Kubernetes' RuntimeClass docs name the runtimes that put a second kernel
// in between: gVisor (handler runsc; GKE names its RuntimeClass gvisor) and
// Kata Containers (handlers kata, kata-qemu, kata-clh, kata-fc, AKS's
// kata-vm-isolation …).
//
// runtimeClassName names a RuntimeClass object, whose handler picks the
// runtime. So: with posture.sandboxes.runtimeClasses configured, only those
// names count (the cluster admin knows what they installed); otherwise a
// RuntimeClass among the scanned objects is judged by its handler (a class
// named "gvisor" whose handler is runc isolates nothing), and a name with
// no such object by the same name patterns.

import (
	"strings"

	nodev1 "k8s.io/api/node/v1"
	nodev1alpha1 "k8s.io/api/node/v1alpha1"
	nodev1beta1 "k8s.io/api/node/v1beta1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// SandboxRuntimeClass reports Agent Sandbox pod templates that do not run
// under a sandboxed runtime.
func SandboxRuntimeClass() posture.Check {
	return posture.Check{
		ID:          "sandbox-runtime-class",
		Title:       "Agent sandbox does not use a sandboxed runtime",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "workload",
		Rationale:   "Sandboxes run untrusted, often AI-generated code. Under the default runtime it shares the node's kernel with every other pod: a kernel exploit or container escape takes the node. gVisor and Kata Containers put a separate kernel in between.",
		Remediation: "Set spec.podTemplate.spec.runtimeClassName to a RuntimeClass whose handler is gVisor (runsc) or Kata Containers (kata*), such as GKE Sandbox's gvisor; list your cluster's sandboxed classes in posture.sandboxes.runtimeClasses.",
		Scope:       posture.ScopeWorkload,
		Versions:    []posture.Versioned{{MinVersion: 8, Eval: evalSandboxRuntimeClass}}, // new in version 8
	}
}

func evalSandboxRuntimeClass(in *posture.Input) []posture.Result {
	w := in.Workload
	if !w.IsCustomWorkload() {
		return nil
	}
	what := w.Object.Ref.Kind + " " + kube.AppliedNamespace(w.Object.Ref.Namespace) + "/" + w.Object.Ref.Name
	path := spath(in, "runtimeClassName")
	rc := ""
	if w.PodSpec.RuntimeClassName != nil {
		rc = *w.PodSpec.RuntimeClassName
	}
	if rc == "" {
		return []posture.Result{{Path: path,
			Message:  what + " sets no runtimeClassName: its untrusted code runs on the node's kernel under the default runtime.",
			Evidence: []finding.Evidence{key("runtimeClass", "none")}}}
	}
	if allowed := in.Options.Sandboxes.RuntimeClasses; len(allowed) > 0 {
		for _, a := range allowed {
			if a == rc {
				return nil
			}
		}
		return []posture.Result{{Path: path,
			Message:  what + " uses RuntimeClass " + rc + ", which is not among the sandboxed ones of posture.sandboxes.runtimeClasses (" + strings.Join(allowed, ", ") + ").",
			Evidence: []finding.Evidence{key("runtimeClass", rc)}}}
	}
	if handler, found := runtimeClassHandler(in.Inventory, w.Object.Source.Cluster, rc); found {
		if sandboxedRuntime(handler) {
			return nil
		}
		return []posture.Result{{Path: path,
			Message:  what + " uses RuntimeClass " + rc + ", whose handler " + handler + " is not a sandboxed runtime (gVisor runsc, Kata Containers kata*).",
			Evidence: []finding.Evidence{key("runtimeClass", rc), ev("handler", handler)}}}
	}
	if sandboxedRuntime(rc) {
		return nil
	}
	return []posture.Result{{Path: path,
		Message:  what + " uses RuntimeClass " + rc + ", which is not known as a sandboxed runtime (gVisor, Kata Containers); if it is one, list it in posture.sandboxes.runtimeClasses.",
		Evidence: []finding.Evidence{key("runtimeClass", rc)}}}
}

// runtimeClassHandler returns the handler of RuntimeClass name of cluster
// in inv, if inv holds it.
func runtimeClassHandler(inv *kube.Inventory, cluster, name string) (string, bool) {
	if inv == nil {
		return "", false
	}
	for _, o := range inv.OfKind("RuntimeClass") {
		if o.Ref.Name != name || o.Source.Cluster != cluster {
			continue
		}
		switch t := o.Typed.(type) {
		case *nodev1.RuntimeClass:
			return t.Handler, true
		case *nodev1beta1.RuntimeClass: // removed in 1.25, still in manifests
			return t.Handler, true
		case *nodev1alpha1.RuntimeClass:
			return t.Spec.RuntimeHandler, true
		case *unstructured.Unstructured: // a version the scheme does not know
			h, _, _ := unstructured.NestedString(t.Object, "handler")
			if h == "" {
				h, _, _ = unstructured.NestedString(t.Object, "spec", "runtimeHandler") // v1alpha1
			}
			return h, true
		}
	}
	return "", false
}

// sandboxedRuntime reports whether a handler or RuntimeClass name is one of
// gVisor's (runsc, gvisor) or Kata Containers' (kata, kata-*).
func sandboxedRuntime(name string) bool {
	name = strings.ToLower(name)
	for _, p := range []string{"runsc", "gvisor", "kata"} {
		if name == p || strings.HasPrefix(name, p+"-") {
			return true
		}
	}
	return false
}
