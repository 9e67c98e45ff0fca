package versions

// AKSNodeLabel is set by AKS on every node of its clusters. AKS runs
// upstream builds, so its gitVersion has no suffix to tell it apart.
const AKSNodeLabel = "kubernetes.azure.com/cluster"

// NodeDistribution returns the distribution a Node's labels reveal, or ""
// when they reveal none (then the gitVersion suffix decides). Only the AKS
// label counts: a providerID of azure:// is also what self-managed clusters
// on Azure VMs (Cluster API, aks-engine) have, and they follow upstream
// dates, not AKS's.
func NodeDistribution(labels map[string]string) string {
	if _, ok := labels[AKSNodeLabel]; ok {
		return AKS
	}
	return ""
}
