package checks_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/posture"
)

// TestHardeningChecksPinned checks that linux-hardening and
// exposed-sensitive-interface, new in behaviour version 4, stay out of
// scans pinned to 3.
func TestHardeningChecksPinned(t *testing.T) {
	checkPinned(t, []string{"linux-hardening", "exposed-sensitive-interface"}, 4)
}

// scanYAML loads doc and returns the evidence ("name=value", sorted) of
// each finding check id reports on it, at pin.
func scanYAML(t *testing.T, id string, pin posture.Version, doc string) [][]string {
	t.Helper()
	var got [][]string
	for _, f := range scanDoc(t, id, pin, posture.Options{}, doc) {
		var ev []string
		for _, e := range f.Evidence {
			ev = append(ev, e.Name+"="+e.Value)
		}
		slices.Sort(ev)
		got = append(got, ev)
	}
	return got
}

const tokenPod = `apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop}
spec:
  serviceAccountName: api
  containers:
    - name: api
      image: registry.example.com/shop/api:1.4.2
`

// TestAutomountEvidence checks the bound and tokenPath evidence that lets
// a reader tell a token carrying permissions from an idle one.
func TestAutomountEvidence(t *testing.T) {
	const base = "automountServiceAccountToken=default"
	for _, tc := range []struct {
		name, extra string
		want        []string
	}{
		{"unbound", "", []string{base}},
		{"role binding", `---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: api, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: api}]
`, []string{base, "bound=true"}},
		{"other namespace's account", `---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: api, namespace: blog}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: api}]
`, []string{base}},
		{"user name", `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: api}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: "system:serviceaccount:shop:api"}]
`, []string{base, "bound=true"}},
		{"namespace group", `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: all-shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: Group, apiGroup: rbac.authorization.k8s.io, name: "system:serviceaccounts:shop"}]
`, []string{base, "bound=true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := scanYAML(t, "automount-service-account-token", posture.Latest, tokenPod+tc.extra)
			if len(got) != 1 || !slices.Equal(got[0], tc.want) {
				t.Errorf("evidence %v, want one finding with %v", got, tc.want)
			}
		})
	}
	t.Run("token path", func(t *testing.T) {
		doc := strings.Replace(tokenPod, "      image:", "      volumeMounts: [{name: token, mountPath: /var/run/secrets/kubernetes.io/serviceaccount/}]\n      image:", 1)
		doc += "  volumes: [{name: token, emptyDir: {}}]\n"
		got := scanYAML(t, "automount-service-account-token", posture.Latest, doc)
		if want := []string{base, "tokenPath=mounted"}; len(got) != 1 || !slices.Equal(got[0], want) {
			t.Errorf("evidence %v, want one finding with %v", got, want)
		}
	})
}

// TestNamespaceBoundsPinned checks that version 4's judgement of LimitRange
// and ResourceQuota content stays out of scans pinned to 3, where presence
// alone passed.
func TestNamespaceBoundsPinned(t *testing.T) {
	for _, tc := range []struct {
		check, fixture string
		v3, latest     int // findings
	}{
		{"namespace-limit-range", "testdata/namespace_limit_range/fail/unbounded.yaml", 0, 1},
		{"namespace-resource-quota", "testdata/namespace_resource_quota/fail/counts_only.yaml", 0, 2},
		{"namespace-resource-quota", "testdata/namespace_resource_quota/pass/quota.yaml", 0, 0},
	} {
		t.Run(tc.check+"/"+filepath.Base(tc.fixture), func(t *testing.T) {
			doc, err := os.ReadFile(tc.fixture)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []struct {
				pin  posture.Version
				want int
			}{{3, tc.v3}, {posture.Latest, tc.latest}} {
				if got := scanYAML(t, tc.check, p.pin, string(doc)); len(got) != p.want {
					t.Errorf("pinned to %d: %d findings %v, want %d", p.pin, len(got), got, p.want)
				}
			}
		})
	}
}

// TestResourceQuotaGaps names what a namespace's quotas leave unbounded.
func TestResourceQuotaGaps(t *testing.T) {
	const ns = "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: shop}\nspec:\n  hard: "
	for _, tc := range []struct {
		name, hard string
		want       []string // evidence of the one finding; nil for none
	}{
		{"complete", "{requests.cpu: '1', requests.memory: 1Gi, limits.cpu: '2', limits.memory: 2Gi}", nil},
		{"short names", "{cpu: '1', memory: 1Gi, limits.cpu: '2', limits.memory: 2Gi}", nil},
		{"no limits", "{cpu: '1', memory: 1Gi}", []string{"bounds=incomplete", "incomplete=limits.cpu,limits.memory"}},
		{"no hard", "{}", []string{"bounds=incomplete", "incomplete=limits.cpu,limits.memory,requests.cpu,requests.memory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := scanYAML(t, "namespace-resource-quota", posture.Latest, ns+tc.hard+"\n")
			switch {
			case tc.want == nil && len(got) != 0:
				t.Errorf("got %v, want no finding", got)
			case tc.want != nil && (len(got) != 1 || !slices.Equal(got[0], tc.want)):
				t.Errorf("got %v, want one finding with %v", got, tc.want)
			}
		})
	}
}
