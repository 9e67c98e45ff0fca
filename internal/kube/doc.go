// Package kube reads Kubernetes objects — from manifest files (multi-document
// YAML or JSON, List kinds, directories, stdin) or from a live cluster — into
// an Inventory that posture checks evaluate. Every object decoded from a file
// remembers the file and line it starts at, and can give the line of a nested
// field, so a finding points at the line to change. Pod specs are extracted
// from every workload kind into Workloads.
package kube
