package checks

import (
	"testing"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// TestDefaultNamespaceObjects checks which objects of a manifest are
// reported: an explicit default at low severity, no namespace at info, the
// control plane's own objects and the namespace's guards never.
func TestDefaultNamespaceObjects(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want finding.Severity // SeverityUnknown: no finding
	}{
		{"apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n", finding.SeverityLow},
		{"apiVersion: v1\nkind: Service\nmetadata: {name: kubernetes, namespace: default}\n", finding.SeverityUnknown},
		{"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: default}\n", finding.SeverityUnknown},
		{"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ci, namespace: default}\n", finding.SeverityLow},
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-root-ca.crt, namespace: default}\n", finding.SeverityUnknown},
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n", finding.SeverityInfo},
		{"apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: team-a}\n", finding.SeverityUnknown},
		{"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: kubernetes-spoof, namespace: default, labels: {kubernetes.io/service-name: kubernetes}}\naddressType: IPv4\n", finding.SeverityLow},
		{"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\n", finding.SeverityInfo},
		{"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: default}\nspec: {podSelector: {}}\n", finding.SeverityUnknown},
		{"apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: default}\n", finding.SeverityUnknown},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			fs := scanDoc(t, DefaultNamespaceObjects(), posture.Latest, tc.doc)
			got := finding.SeverityUnknown
			if len(fs) == 1 {
				got = fs[0].Severity
			} else if len(fs) > 1 {
				t.Fatalf("%d findings, want at most 1", len(fs))
			}
			if got != tc.want {
				t.Errorf("severity %v, want %v", got, tc.want)
			}
		})
	}
}
