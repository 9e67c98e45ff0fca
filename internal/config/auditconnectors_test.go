package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAuditConnectors(t *testing.T) {
	t.Parallel()
	const head = "audit:\n  connectors:\n"
	tests := []struct {
		name, yaml string
		want       []AuditConnector
		err        string // substring of the error; empty: parses
	}{
		{"all three", head +
			"  - {type: cloudwatch, cluster: eks-prod, region: eu-west-1, pollInterval: 10s}\n" +
			"  - {type: pubsub, cluster: gke-prod, project: acme, subscription: gke-audit}\n" +
			"  - {type: eventhubs, cluster: aks-prod, namespace: acme.servicebus.windows.net, eventHub: insights-logs-kube-audit}\n",
			[]AuditConnector{
				{Type: "cloudwatch", Cluster: "eks-prod", Region: "eu-west-1", PollInterval: Duration(10e9)},
				{Type: "pubsub", Cluster: "gke-prod", Project: "acme", Subscription: "gke-audit"},
				{Type: "eventhubs", Cluster: "aks-prod", Namespace: "acme.servicebus.windows.net", EventHub: "insights-logs-kube-audit"},
			}, ""},
		{"unknown type", head + "  - {type: kinesis, cluster: x}\n", nil, `c.yaml:3:5: audit.connectors[0]: unknown connector type "kinesis"`},
		{"no cluster", head + "  - {type: pubsub, project: p, subscription: s}\n", nil, "audit.connectors[0].cluster: a connector needs the cluster's name"},
		{"bad cluster", head + "  - {type: pubsub, cluster: 'a b', project: p, subscription: s}\n", nil, `got "a b"`},
		{"no region", head + "  - {type: cloudwatch, cluster: x}\n", nil, "needs the region"},
		{"no subscription", head + "  - {type: pubsub, cluster: x, project: p}\n", nil, "needs project and subscription"},
		{"both credentials", head + "  - {type: eventhubs, cluster: x, eventHub: h, namespace: n, connectionStringEnv: E}\n", nil, "one of them"},
		{"no hub", head + "  - {type: eventhubs, cluster: x, namespace: n}\n", nil, "needs eventHub"},
		{"twice", head + "  - {type: pubsub, cluster: x, project: p, subscription: s}\n  - {type: pubsub, cluster: x, project: p, subscription: t}\n", nil, "a second pubsub connector for cluster \"x\" (also audit.connectors[0])"},
		{"unknown key", head + "  - {type: pubsub, cluster: x, project: p, subscription: s, topic: t}\n", nil, "topic"},
		{"not a list", head[:len(head)-1] + " {type: pubsub}\n", nil, "want a list of connectors"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse("c.yaml", []byte(tc.yaml))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, c.Audit.Connectors); diff != "" {
				t.Errorf("audit.connectors (-want +got):\n%s", diff)
			}
		})
	}
}
