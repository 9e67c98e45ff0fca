package checks

import (
	"fmt"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
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

// TestChartNamespaceAssumed: objects Helm put in default only because the
// chart was rendered without --namespace are reported as setting none
// (info) from version 10, and as in default (low) by scans pinned to 9.
func TestChartNamespaceAssumed(t *testing.T) {
	docs := map[string]string{
		"default-namespace":         "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: app, image: nginx}]}\n",
		"default-namespace-objects": "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n",
	}
	for _, tc := range []struct {
		check   posture.Check
		pin     posture.Version
		assumed bool
		want    finding.Severity
	}{
		{DefaultNamespace(), posture.Latest, true, finding.SeverityInfo},
		{DefaultNamespace(), posture.Latest, false, finding.SeverityLow},
		{DefaultNamespace(), 9, true, finding.SeverityLow},
		{DefaultNamespaceObjects(), posture.Latest, true, finding.SeverityInfo},
		{DefaultNamespaceObjects(), posture.Latest, false, finding.SeverityLow},
		{DefaultNamespaceObjects(), 9, true, finding.SeverityLow},
	} {
		name := fmt.Sprintf("%s/pin=%d/assumed=%v", tc.check.ID, tc.pin, tc.assumed)
		t.Run(name, func(t *testing.T) {
			objs, err := kube.Decode(t.Context(), "chart/templates/web.yaml", []byte(docs[tc.check.ID]), kube.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				o.Source.NamespaceAssumed = tc.assumed
			}
			reg, err := posture.NewRegistry([]posture.Check{tc.check}, tc.pin)
			if err != nil {
				t.Fatal(err)
			}
			out, err := posture.NewScanner(reg, nil).Scan(t.Context(), kube.NewInventory(objs), posture.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Findings) != 1 || out.Findings[0].Severity != tc.want {
				t.Fatalf("findings %+v, want one at %v", out.Findings, tc.want)
			}
			if tc.want == finding.SeverityInfo && !strings.Contains(out.Findings[0].Message, "without --namespace") {
				t.Errorf("message %q does not say the chart was rendered without --namespace", out.Findings[0].Message)
			}
		})
	}
}
