package checks

import (
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// TestSandboxRuntimeClass covers what the fixtures do not: a configured
// list of RuntimeClasses wins over names and handlers, removed
// RuntimeClass versions are read, and only Agent Sandbox pod templates are
// judged.
func TestSandboxRuntimeClass(t *testing.T) {
	template := func(rc string) string {
		return "apiVersion: extensions.agents.x-k8s.io/v1beta1\nkind: SandboxTemplate\nmetadata: {name: t, namespace: a}\nspec: {podTemplate: {spec: {runtimeClassName: " + rc + ", containers: [{name: c, image: i}]}}}\n"
	}
	for _, tc := range []struct {
		name    string
		docs    []string
		allowed []string
		want    string // runtimeClass evidence of the finding; "" for none
	}{
		{"configured list wins over the name", []string{template("gvisor")}, []string{"secure-vm"}, "gvisor"},
		{"configured list admits a custom name", []string{template("secure-vm")}, []string{"secure-vm"}, ""},
		{"gvisor by name", []string{template("gvisor")}, nil, ""},
		{"kata-fc by name", []string{template("kata-fc")}, nil, ""},
		{"katana is not kata", []string{template("katana")}, nil, "katana"},
		{"v1beta1 RuntimeClass handler", []string{"apiVersion: node.k8s.io/v1beta1\nkind: RuntimeClass\nmetadata: {name: secure-vm}\nhandler: runsc\n", template("secure-vm")}, nil, ""},
		{"v1alpha1 RuntimeClass handler", []string{"apiVersion: node.k8s.io/v1alpha1\nkind: RuntimeClass\nmetadata: {name: secure-vm}\nspec: {runtimeHandler: runc}\n", template("secure-vm")}, nil, "secure-vm"},
		{"pod is not judged", []string{"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i}]}\n"}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := kube.Decode(t.Context(), "s.yaml", []byte(strings.Join(tc.docs, "---\n")), kube.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			inv := kube.NewInventory(objs)
			var got string
			for _, w := range inv.Workloads {
				in := &posture.Input{Workload: w, Object: w.Object, Inventory: inv, Options: &posture.Options{Sandboxes: config.Sandboxes{RuntimeClasses: tc.allowed}}}
				for _, r := range evalSandboxRuntimeClass(in) {
					got = r.Evidence[0].Value
				}
			}
			if got != tc.want {
				t.Errorf("finding for runtime class %q, want %q", got, tc.want)
			}
		})
	}
}
