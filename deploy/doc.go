// Package deploy holds Palisade's Helm chart (deploy/helm/palisade). The
// package has no code of its own: its tests render the chart, check that
// Palisade's own posture checks find nothing to fix in it, that its webhook
// matches what `palisade admission install` generates, and that a real
// kube-apiserver accepts every object.
package deploy
