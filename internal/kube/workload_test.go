package kube

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const podSpec = `containers: [{name: app, image: "x:1"}]`

// TestWorkloadOf extracts the pod spec of every workload kind, including
// API versions the client-go scheme no longer knows and OpenShift's
// DeploymentConfig, and reports where the spec is for line lookups.
func TestWorkloadOf(t *testing.T) {
	tpl := "{metadata: {labels: {a: b}}, spec: {" + podSpec + "}}"
	for _, tc := range []struct {
		kind, apiVersion, body string
		path                   []string
	}{
		{"Pod", "v1", "spec: {" + podSpec + "}", []string{"spec"}},
		{"PodTemplate", "v1", "template: " + tpl, []string{"template", "spec"}},
		{"ReplicationController", "v1", "spec: {template: " + tpl + "}", []string{"spec", "template", "spec"}},
		{"Deployment", "apps/v1", "spec: {template: " + tpl + "}", []string{"spec", "template", "spec"}},
		{"ReplicaSet", "apps/v1", "spec: {template: " + tpl + "}", []string{"spec", "template", "spec"}},
		{"StatefulSet", "apps/v1", "spec: {template: " + tpl + "}", []string{"spec", "template", "spec"}},
		{"DaemonSet", "apps/v1", "spec: {template: " + tpl + "}", []string{"spec", "template", "spec"}},
		{"Job", "batch/v1", "spec: {template: " + tpl + "}", []string{"spec", "template", "spec"}},
		{"CronJob", "batch/v1", "spec: {jobTemplate: {spec: {template: " + tpl + "}}}", []string{"spec", "jobTemplate", "spec", "template", "spec"}},
		{"CronJob", "batch/v1beta1", "spec: {jobTemplate: {spec: {template: " + tpl + "}}}", []string{"spec", "jobTemplate", "spec", "template", "spec"}},
		{"Deployment", "extensions/v1beta1", "spec: {template: " + tpl + "}", []string{"spec", "template", "spec"}},
		{"DeploymentConfig", "apps.openshift.io/v1", "spec: {template: " + tpl + "}", []string{"spec", "template", "spec"}},
		{"Sandbox", "agents.x-k8s.io/v1beta1", "spec: {podTemplate: " + tpl + "}", []string{"spec", "podTemplate", "spec"}},
		{"Sandbox", "agents.x-k8s.io/v1alpha1", "spec: {podTemplate: " + tpl + "}", []string{"spec", "podTemplate", "spec"}},
		{"SandboxTemplate", "extensions.agents.x-k8s.io/v1beta1", "spec: {podTemplate: " + tpl + "}", []string{"spec", "podTemplate", "spec"}},
	} {
		t.Run(tc.apiVersion+"/"+tc.kind, func(t *testing.T) {
			in := "apiVersion: " + tc.apiVersion + "\nkind: " + tc.kind + "\nmetadata: {name: w, namespace: ns}\n" + tc.body + "\n"
			objs, err := Decode(t.Context(), "w.yaml", []byte(in), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			w := WorkloadOf(objs[0])
			if w == nil {
				t.Fatal("not a workload")
			}
			if len(w.PodSpec.Containers) != 1 || w.PodSpec.Containers[0].Image != "x:1" || w.PodMeta.Namespace != "ns" {
				t.Errorf("workload = %+v", w)
			}
			if diff := cmp.Diff(tc.path, w.SpecPath); diff != "" {
				t.Error(diff)
			}
			if got := w.Line("containers", "0", "image"); got != 4 {
				t.Errorf("image line = %d, want 4", got)
			}
		})
	}
	for _, doc := range []string{
		"apiVersion: v1\nkind: Service\nmetadata: {name: s}",
		// Custom kinds are matched by group: another project's Sandbox
		// is not Agent Sandbox's, and claims carry no pod template.
		"apiVersion: example.com/v1\nkind: Sandbox\nmetadata: {name: s}\nspec: {podTemplate: {spec: {" + podSpec + "}}}",
		"apiVersion: extensions.agents.x-k8s.io/v1beta1\nkind: SandboxClaim\nmetadata: {name: s}\nspec: {warmPoolRef: {name: p}}",
	} {
		objs, _ := Decode(t.Context(), "s.yaml", []byte(strings.TrimSpace(doc)), Limits{})
		if WorkloadOf(objs[0]) != nil {
			t.Errorf("%s: not a workload", objs[0].Ref)
		}
	}
}

// TestCustomWorkloadOwners tells the objects a custom workload's
// controller creates from its template (judged at the template) from
// those written by hand.
func TestCustomWorkloadOwners(t *testing.T) {
	owner := func(apiVersion, kind string) string {
		return "ownerReferences: [{apiVersion: " + apiVersion + ", kind: " + kind + ", name: o, uid: u1, controller: true}]"
	}
	for _, tc := range []struct {
		name, doc string
		custom    bool // IsCustomWorkload
		created   bool // CreatedFromCustomTemplate
	}{
		{"sandbox pod", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, " + owner("agents.x-k8s.io/v1beta1", "Sandbox") + "}\nspec: {" + podSpec + "}", false, true},
		{"pod of another Sandbox kind", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, " + owner("example.com/v1", "Sandbox") + "}\nspec: {" + podSpec + "}", false, false},
		{"bare pod", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {" + podSpec + "}", false, false},
		{"claimed sandbox", "apiVersion: agents.x-k8s.io/v1beta1\nkind: Sandbox\nmetadata: {name: s, " + owner("extensions.agents.x-k8s.io/v1beta1", "SandboxClaim") + "}\nspec: {podTemplate: {spec: {" + podSpec + "}}}", true, true},
		{"warm pool sandbox", "apiVersion: agents.x-k8s.io/v1alpha1\nkind: Sandbox\nmetadata: {name: s, " + owner("extensions.agents.x-k8s.io/v1alpha1", "SandboxWarmPool") + "}\nspec: {podTemplate: {spec: {" + podSpec + "}}}", true, true},
		{"own sandbox", "apiVersion: agents.x-k8s.io/v1beta1\nkind: Sandbox\nmetadata: {name: s}\nspec: {podTemplate: {spec: {" + podSpec + "}}}", true, false},
		{"deployment", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {" + podSpec + "}}}", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := Decode(t.Context(), "w.yaml", []byte(tc.doc), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			w := WorkloadOf(objs[0])
			if w == nil {
				t.Fatal("not a workload")
			}
			if got := w.IsCustomWorkload(); got != tc.custom {
				t.Errorf("IsCustomWorkload = %v, want %v", got, tc.custom)
			}
			if got := w.CreatedFromCustomTemplate(); got != tc.created {
				t.Errorf("CreatedFromCustomTemplate = %v, want %v", got, tc.created)
			}
		})
	}
}

// TestSandboxTemplateDefaults checks that a SandboxTemplate's pod spec
// gets what the Agent Sandbox controller sets on the sandboxes it makes
// from it (no service-account token unless asked for), and a Sandbox's
// does not.
func TestSandboxTemplateDefaults(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want string // automountServiceAccountToken: "nil", "true", "false"
	}{
		{"apiVersion: extensions.agents.x-k8s.io/v1beta1\nkind: SandboxTemplate\nmetadata: {name: t}\nspec: {podTemplate: {spec: {" + podSpec + "}}}", "false"},
		{"apiVersion: extensions.agents.x-k8s.io/v1beta1\nkind: SandboxTemplate\nmetadata: {name: t}\nspec: {podTemplate: {spec: {automountServiceAccountToken: true, " + podSpec + "}}}", "true"},
		{"apiVersion: agents.x-k8s.io/v1beta1\nkind: Sandbox\nmetadata: {name: s}\nspec: {podTemplate: {spec: {" + podSpec + "}}}", "nil"},
	} {
		objs, err := Decode(t.Context(), "w.yaml", []byte(tc.doc), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		got := "nil"
		if a := WorkloadOf(objs[0]).PodSpec.AutomountServiceAccountToken; a != nil {
			got = strconv.FormatBool(*a)
		}
		if got != tc.want {
			t.Errorf("%s: automountServiceAccountToken %s, want %s", objs[0].Ref, got, tc.want)
		}
	}
	// The template's pods carry the controller's label: FNV-1a of the
	// template's name, as Agent Sandbox's NameHash writes it.
	objs, err := Decode(t.Context(), "w.yaml", []byte("apiVersion: extensions.agents.x-k8s.io/v1beta1\nkind: SandboxTemplate\nmetadata: {name: coder}\nspec: {podTemplate: {metadata: {labels: {app: a}}, spec: {"+podSpec+"}}}"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"app": "a", SandboxTemplateRefHashLabel: "cecdd6f2"}
	if diff := cmp.Diff(want, WorkloadOf(objs[0]).PodMeta.Labels); diff != "" {
		t.Errorf("template pod labels (-want +got):\n%s", diff)
	}
}
