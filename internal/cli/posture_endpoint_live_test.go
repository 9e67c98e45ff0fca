package cli

import (
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

// TestPostureScanProbesEndpoint: `posture scan --kubeconfig` runs the
// anonymous-auth probe serve runs and reports it through the registry's
// endpoint checks, with remediation and CIS 1.2.1. A lab with anonymous
// authentication off answers 401 (nothing to report), one with it on 403
// (anonymous-auth-enabled) and, once RBAC lets anonymous users list
// namespaces, 200 (anonymous-api-access). Scans pinned to checks version 5
// see none of it.
func TestPostureScanProbesEndpoint(t *testing.T) {
	endpointFindings := func(t *testing.T, args ...string) []finding.Finding {
		t.Helper()
		code, out, errOut := run(t, append([]string{"posture", "scan", "-o", "json", "--fail-on", "none"}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		rep := decodeReport(t, out)
		if rep.Partial {
			t.Errorf("report is partial: %v", rep.Errors)
		}
		var fs []finding.Finding
		for _, f := range rep.Findings {
			if strings.HasPrefix(f.RuleID, "posture/anonymous-") || f.RuleID == "posture/public-api-endpoint" {
				fs = append(fs, f)
			}
		}
		return fs
	}
	rules := func(fs []finding.Finding) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.RuleID+" "+f.Resource.Kind+" "+f.Severity.String())
		}
		return out
	}

	t.Run("anonymous auth off", func(t *testing.T) {
		c := kubelabtest.Start(t, kubelab.Options{})
		if got := endpointFindings(t, "--kubeconfig", c.Kubeconfig); len(got) != 0 {
			t.Errorf("endpoint findings on a 401 endpoint: %v", rules(got))
		}
	})

	t.Run("anonymous auth on", func(t *testing.T) {
		c := kubelabtest.Start(t, kubelab.Options{AnonymousAuth: true})
		got := endpointFindings(t, "--kubeconfig", c.Kubeconfig)
		if want := []string{"posture/anonymous-auth-enabled Cluster medium"}; !slices.Equal(rules(got), want) {
			t.Errorf("refused anonymous request: %v, want %v", rules(got), want)
		}
		if got := endpointFindings(t, "--kubeconfig", c.Kubeconfig, "--checks-version", "5"); len(got) != 0 {
			t.Errorf("a scan pinned to version 5 reports endpoint findings: %v", rules(got))
		}

		cs := kubernetes.NewForConfigOrDie(c.Config)
		ctx := t.Context()
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "ns-reader"},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"list"}}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "anonymous-ns"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "ns-reader"},
			Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "system:anonymous"}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		got = endpointFindings(t, "--kubeconfig", c.Kubeconfig)
		if want := []string{"posture/anonymous-api-access Cluster critical"}; !slices.Equal(rules(got), want) {
			t.Fatalf("anonymous read: %v, want %v", rules(got), want)
		}
		f := got[0]
		if f.Remediation == "" || !slices.Contains(f.Controls, finding.Control{Framework: "CIS-K8s-1.9", ID: "1.2.1"}) || f.Resource.Cluster == "" {
			t.Errorf("anonymous-api-access finding lacks remediation, CIS 1.2.1 or its cluster: %+v", f)
		}
	})
}
