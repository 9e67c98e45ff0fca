package config

import (
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// The audit connector types.
const (
	ConnectorCloudWatch = "cloudwatch"
	ConnectorPubSub     = "pubsub"
	ConnectorEventHubs  = "eventhubs"
)

// AuditConnector pulls audit events of one managed cluster from its cloud's
// log service. Credentials are never written here: each SDK's default chain
// is used (AWS: environment, shared files, web identity, IMDS; Google:
// Application Default Credentials; Azure: DefaultAzureCredential), or for
// Event Hubs ConnectionStringEnv names a variable holding a connection string.
type AuditConnector struct {
	Type    string // cloudwatch, pubsub or eventhubs
	Cluster string // Palisade's name for the cluster

	// CloudWatch Logs (EKS).
	Region       string
	LogGroup     string // default /aws/eks/<cluster>/cluster
	StreamPrefix string // default kube-apiserver-audit-
	Endpoint     string // a VPC endpoint; default the SDK's
	PollInterval Duration

	// Pub/Sub (GKE): a subscription fed by a Cloud Logging sink.
	Project      string
	Subscription string

	// Event Hubs (AKS): the hub that diagnostic settings stream to.
	Namespace           string // <name>.servicebus.windows.net
	EventHub            string
	ConsumerGroup       string // default $Default
	ConnectionStringEnv string
}

// clusterName is what the bus subject and checkpoint names accept.
var clusterName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func (d *decoder) auditConnectors(path string, n *yaml.Node, dst *[]AuditConnector) {
	if n = d.value(path, n); n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(path, nil, "want a list of connectors ({type, cluster, …}), got %s", describe(n))
		return
	}
	out := make([]AuditConnector, len(n.Content))
	seen := map[string]int{}
	for i, item := range n.Content {
		p := path + "[" + strconv.Itoa(i) + "]"
		d.src.record(p, item)
		c := &out[i]
		before := len(d.errs)
		d.mapping(p, item, map[string]fieldFunc{
			"type":                func(p string, v *yaml.Node) { d.str(p, v, &c.Type) },
			"cluster":             func(p string, v *yaml.Node) { d.str(p, v, &c.Cluster) },
			"region":              func(p string, v *yaml.Node) { d.str(p, v, &c.Region) },
			"logGroup":            func(p string, v *yaml.Node) { d.str(p, v, &c.LogGroup) },
			"streamPrefix":        func(p string, v *yaml.Node) { d.str(p, v, &c.StreamPrefix) },
			"endpoint":            func(p string, v *yaml.Node) { d.str(p, v, &c.Endpoint) },
			"pollInterval":        func(p string, v *yaml.Node) { d.duration(p, v, &c.PollInterval) },
			"project":             func(p string, v *yaml.Node) { d.str(p, v, &c.Project) },
			"subscription":        func(p string, v *yaml.Node) { d.str(p, v, &c.Subscription) },
			"namespace":           func(p string, v *yaml.Node) { d.str(p, v, &c.Namespace) },
			"eventHub":            func(p string, v *yaml.Node) { d.str(p, v, &c.EventHub) },
			"consumerGroup":       func(p string, v *yaml.Node) { d.str(p, v, &c.ConsumerGroup) },
			"connectionStringEnv": func(p string, v *yaml.Node) { d.str(p, v, &c.ConnectionStringEnv) },
		})
		if len(d.errs) > before {
			continue
		}
		if !clusterName.MatchString(c.Cluster) {
			d.fail(p+".cluster", nil, "a connector needs the cluster's name (letters, digits, . _ -), got %s", quote(c.Cluster))
			continue
		}
		if msg := c.missing(); msg != "" {
			d.fail(p, nil, "%s", msg)
			continue
		}
		key := c.Type + "/" + c.Cluster
		if first, dup := seen[key]; dup {
			d.fail(p, nil, "a second %s connector for cluster %s (also %s[%d]); they would share a checkpoint", c.Type, quote(c.Cluster), path, first)
			continue
		}
		seen[key] = i
	}
	*dst = out
}

// missing names what a connector of its type lacks, or returns "".
func (c *AuditConnector) missing() string {
	switch c.Type {
	case ConnectorCloudWatch:
		if c.Region == "" {
			return "a cloudwatch connector needs the region of the log group"
		}
		if c.PollInterval < 0 {
			return "pollInterval must not be negative"
		}
	case ConnectorPubSub:
		if c.Project == "" || c.Subscription == "" {
			return "a pubsub connector needs project and subscription"
		}
	case ConnectorEventHubs:
		if c.EventHub == "" {
			return "an eventhubs connector needs eventHub"
		}
		if (c.Namespace == "") == (c.ConnectionStringEnv == "") {
			return "an eventhubs connector needs namespace (Azure credentials) or connectionStringEnv (one of them)"
		}
	default:
		return "unknown connector type " + quote(c.Type) + " (want cloudwatch, pubsub or eventhubs)"
	}
	return ""
}
