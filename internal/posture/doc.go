// Package posture evaluates Kubernetes objects against a registry of
// versioned checks — workloads, RBAC, network exposure, namespaces, secrets —
// and turns what they find into findings mapped to compliance controls.
//
// A check is data plus a pure function (see Check): the same check flags a
// manifest in CI and a live object in a cluster. Checks live one per file in
// package checks; checks.All lists them; NewRegistry validates the list and
// picks, for a pinned Version, the behaviour each check had then, so a pinned
// policy does not move when a check improves.
package posture
