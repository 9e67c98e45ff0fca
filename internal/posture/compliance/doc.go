// Package compliance holds Palisade's compliance mappings as reviewed data:
// mapping.yaml relates controls of the CIS Kubernetes Benchmark, the
// NSA/CISA Kubernetes Hardening Guide and MITRE ATT&CK for Containers to
// posture check IDs; peers.yaml relates other tools' check IDs to ours, for
// the corpus comparison in bench/.
package compliance
