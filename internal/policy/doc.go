// Package policy is Palisade's rule engine for least-privilege policy as
// code: policies are CEL programs over a Kubernetes object, written in a
// YAML format close to ValidatingAdmissionPolicy (the variables object,
// oldObject, request, namespaceObject and params mean what they mean there),
// plus podSpec and containers so that one policy covers every workload kind.
//
// The package is pure: it parses and compiles policies and evaluates them
// against an Input. The admission webhook (internal/admission) and
// `palisade policy test` (internal/cli) both call it, so CI and admission
// reach the same verdicts.
package policy
