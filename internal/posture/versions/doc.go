// Package versions holds what Palisade knows of Kubernetes releases: an
// embedded, dated table of minor versions with their newest patch and
// end-of-life dates per distribution (upstream, EKS, GKE, AKS), refreshed by
// `palisade db update` from endoflife.date, and the table of deprecated and
// removed API versions. The cluster version checks read both.
package versions
