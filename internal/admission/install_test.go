package admission

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/palisade-sec/palisade/internal/policy"
)

func TestWebhookConfiguration(t *testing.T) {
	ca := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	tests := []struct {
		name    string
		o       InstallOptions
		wantErr string
	}{
		{name: "url", o: InstallOptions{URL: "https://palisade.example:8443", CABundle: ca}},
		{name: "service", o: InstallOptions{Service: "palisade/palisade:8443", CABundle: ca, FailOpen: true}},
		{name: "plain http refused", o: InstallOptions{URL: "http://x", CABundle: ca}, wantErr: "want https"},
		{name: "both", o: InstallOptions{URL: "https://x", Service: "a/b", CABundle: ca}, wantErr: "not both"},
		{name: "neither", o: InstallOptions{CABundle: ca}, wantErr: "URL or Service"},
		{name: "no CA", o: InstallOptions{URL: "https://x"}, wantErr: "CA bundle"},
		{name: "bad service", o: InstallOptions{Service: "nonamespace", CABundle: ca}, wantErr: "namespace/name"},
		{name: "bad port", o: InstallOptions{Service: "a/b:99999", CABundle: ca}, wantErr: "bad port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vwc, err := WebhookConfiguration(tt.o)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := vwc.Webhooks[0]
			if *w.TimeoutSeconds != 3 || len(w.Rules) != 3 || w.SideEffects == nil {
				t.Errorf("webhook = %+v", w)
			}
			if got := string(*w.FailurePolicy); got != map[bool]string{true: "Ignore", false: "Fail"}[tt.o.FailOpen] {
				t.Errorf("failurePolicy %s with FailOpen=%v", got, tt.o.FailOpen)
			}
		})
	}
}

func TestMutatingWebhookConfiguration(t *testing.T) {
	ca := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	extra := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
		Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"*"}, Resources: []string{"services"}},
	}}
	o := InstallOptions{Service: "palisade/palisade:8443", CABundle: ca, ExcludeNamespaces: []string{"kube-system"}, ExtraRules: extra}
	mwc, err := MutatingWebhookConfiguration(o)
	if err != nil {
		t.Fatal(err)
	}
	vwc, err := WebhookConfiguration(o)
	if err != nil {
		t.Fatal(err)
	}
	m, v := mwc.Webhooks[0], vwc.Webhooks[0]
	if *m.ClientConfig.Service.Path != MutatePath || *v.ClientConfig.Service.Path != Path {
		t.Errorf("paths %s, %s", *m.ClientConfig.Service.Path, *v.ClientConfig.Service.Path)
	}
	if m.ReinvocationPolicy == nil || *m.ReinvocationPolicy != "IfNeeded" || *m.TimeoutSeconds != 3 {
		t.Errorf("mutating webhook = %+v", m)
	}
	// Pinning changes pod templates only; the policies' kinds are the
	// validating webhook's alone.
	if diff := cmp.Diff(WorkloadRules(), m.Rules); diff != "" {
		t.Errorf("mutating rules (-workloads +mutating):\n%s", diff)
	}
	if diff := cmp.Diff(append(WorkloadRules(), extra...), v.Rules); diff != "" {
		t.Errorf("validating rules (-workloads and extra +validating):\n%s", diff)
	}
	if diff := cmp.Diff(v.NamespaceSelector, m.NamespaceSelector); diff != "" {
		t.Errorf("selectors differ (-validating +mutating):\n%s", diff)
	}
	if _, err := MutatingWebhookConfiguration(InstallOptions{URL: "http://x", CABundle: ca}); err == nil {
		t.Error("plain http accepted")
	}
}

func TestParamsRBAC(t *testing.T) {
	refs := []policy.ConfigMapRef{{Namespace: "palisade", Name: "limits"}, {Namespace: "shop", Name: "allowed-registries"}}
	objs, err := ParamsRBAC(refs, "palisade/palisade")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 4 {
		t.Fatalf("%d objects, want a Role and a RoleBinding per ConfigMap", len(objs))
	}
	role, ok := objs[2].(*rbacv1.Role)
	if !ok {
		t.Fatalf("objs[2] is %T", objs[2])
	}
	want := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"allowed-registries"}, Verbs: []string{"get", "list", "watch"}}}
	if role.Namespace != "shop" || !cmp.Equal(role.Rules, want) {
		t.Errorf("role %s/%s rules %+v, want exactly the one ConfigMap", role.Namespace, role.Name, role.Rules)
	}
	rb := objs[3].(*rbacv1.RoleBinding)
	if rb.RoleRef.Name != role.Name || rb.Subjects[0].Namespace != "palisade" || rb.Subjects[0].Name != "palisade" || rb.Subjects[0].Kind != "ServiceAccount" {
		t.Errorf("binding %+v", rb)
	}
	for _, bad := range []string{"", "palisade", "/x", "a/b/c"} {
		if _, err := ParamsRBAC(refs, bad); err == nil || !strings.Contains(err.Error(), "namespace/name") {
			t.Errorf("service account %q: err = %v", bad, err)
		}
	}
}
