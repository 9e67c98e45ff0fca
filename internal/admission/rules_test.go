package admission

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/policy"
)

// matchPolicy is a policy document whose matchResources is mr (flow YAML).
func matchPolicy(t *testing.T, name, mr string) *policy.Policy {
	t.Helper()
	doc := fmt.Sprintf(`apiVersion: palisade.dev/v1alpha1
kind: Policy
metadata: {name: %s}
spec:
  matchResources: %s
  validations:
    - expression: "true"
`, name, mr)
	ps, err := policy.Parse(name+".yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return ps[0]
}

func rule(group string, ops []string, resources ...string) admissionregistrationv1.RuleWithOperations {
	r := admissionregistrationv1.RuleWithOperations{Rule: admissionregistrationv1.Rule{APIGroups: []string{group}, APIVersions: []string{"*"}, Resources: resources}}
	for _, op := range ops {
		r.Operations = append(r.Operations, admissionregistrationv1.OperationType(op))
	}
	return r
}

var createUpdate = []string{"CREATE", "UPDATE"}

func TestPolicyRules(t *testing.T) {
	tests := []struct {
		name        string
		policies    map[string]string // name → matchResources
		want        []admissionregistrationv1.RuleWithOperations
		wantWarning string
		wantErr     []string
	}{
		{
			name:     "workload kinds need no extra rule",
			policies: map[string]string{"a": "{kinds: [Pod, Deployment, CronJob, PodTemplate]}"},
		},
		{
			name:     "service in the core group",
			policies: map[string]string{"a": `{apiGroups: [""], kinds: [Service]}`},
			want:     []admissionregistrationv1.RuleWithOperations{rule("", createUpdate, "services")},
		},
		{
			name: "merged per group and operations, sorted",
			policies: map[string]string{
				"a": "{kinds: [ClusterRoleBinding, Namespace]}",
				"b": "{kinds: [Ingress, RoleBinding], operations: [CREATE]}",
				"c": `{apiGroups: [""], kinds: [Service, Pod]}`,
				"d": "{apiGroups: [rbac.authorization.k8s.io], kinds: [ClusterRoleBinding, Role]}",
			},
			want: []admissionregistrationv1.RuleWithOperations{
				rule("", createUpdate, "namespaces", "services"),
				rule("networking.k8s.io", []string{"CREATE"}, "ingresses"),
				rule("rbac.authorization.k8s.io", []string{"CREATE"}, "rolebindings"),
				rule("rbac.authorization.k8s.io", createUpdate, "clusterrolebindings", "roles"),
			},
		},
		{
			name:     "a kind served by two groups",
			policies: map[string]string{"a": "{kinds: [Event]}"},
			want:     []admissionregistrationv1.RuleWithOperations{rule("", createUpdate, "events"), rule("events.k8s.io", createUpdate, "events")},
		},
		{
			name:        "every kind of a group",
			policies:    map[string]string{"a": "{apiGroups: [apps], kinds: ['*']}", "b": "{kinds: [ControllerRevision]}"},
			want:        []admissionregistrationv1.RuleWithOperations{rule("apps", createUpdate, "*")},
			wantWarning: `policy a matches every kind of API group "apps"`,
		},
		{
			name:        "no kinds is every kind of every group",
			policies:    map[string]string{"a": "{}"},
			want:        []admissionregistrationv1.RuleWithOperations{rule("*", createUpdate, "*")},
			wantWarning: "of every API group",
		},
		{
			name:        "DELETE is never sent",
			policies:    map[string]string{"a": "{kinds: [Secret], operations: [DELETE]}", "b": "{kinds: [ConfigMap], operations: ['*']}"},
			want:        []admissionregistrationv1.RuleWithOperations{rule("", createUpdate, "configmaps")},
			wantWarning: "policy a: operations DELETE are never sent",
		},
		{
			name:     "unknown kind offline",
			policies: map[string]string{"acme/widgets": "{apiGroups: [example.com], kinds: [Widget]}", "b": "{kinds: [Servce]}"},
			wantErr: []string{
				`policy acme/widgets (acme/widgets.yaml:1): kind Widget in group "example.com" is not a built-in Kubernetes kind; run install with --kubeconfig`,
				"policy b (b.yaml:1): kind Servce in any group",
			},
		},
		{
			name:     "kind in the wrong group",
			policies: map[string]string{"a": "{apiGroups: [apps], kinds: [Service]}"},
			wantErr:  []string{`kind Service in group "apps"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var ps []*policy.Policy
			for _, name := range slices.Sorted(maps.Keys(tt.policies)) {
				ps = append(ps, matchPolicy(t, name, tt.policies[name]))
			}
			got, warnings, err := PolicyRules(ps, BuiltinKinds())
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("rules %+v, want an error", got)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
			if tt.wantWarning == "" && len(warnings) > 0 {
				t.Errorf("unexpected warnings %q", warnings)
			}
			if tt.wantWarning != "" && !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, tt.wantWarning) }) {
				t.Errorf("warnings %q lack %q", warnings, tt.wantWarning)
			}
			// The order of the policies does not change the rules.
			slices.Reverse(ps)
			again, _, _ := PolicyRules(ps, BuiltinKinds())
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("rules depend on the policies' order:\n%s", diff)
			}
		})
	}
}

// TestBuiltinLibraryRules pins what the default configuration adds to the
// workload rules: the Helm chart's webhook.extraRules default must be the
// same (deploy's TestChartWebhookMatchesInstall).
func TestBuiltinLibraryRules(t *testing.T) {
	ps, err := LoadPolicies(t.Context(), config.Default().Admission.Policies, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, warnings, err := PolicyRules(ps.Policies, BuiltinKinds())
	if err != nil {
		t.Fatal(err)
	}
	want := []admissionregistrationv1.RuleWithOperations{rule("", createUpdate, "services")}
	if diff := cmp.Diff(want, got); diff != "" || len(warnings) > 0 || len(ps.Warnings) > 0 {
		t.Errorf("built-in library rules (-want +got):\n%s\nwarnings %q %q", diff, warnings, ps.Warnings)
	}
}

// TestWorkloadRulesAreBuiltin checks that every workload rule's resource
// is in the built-in table offline installs resolve kinds with.
func TestWorkloadRulesAreBuiltin(t *testing.T) {
	for _, w := range WorkloadRules() {
		for _, res := range w.Resources {
			if strings.Contains(res, "/") {
				continue
			}
			if !slices.Contains(kube.BuiltinResourceNames(w.APIGroups[0]), res) {
				t.Errorf("workload resource %s/%s is missing from the table", w.APIGroups[0], res)
			}
		}
	}
}
