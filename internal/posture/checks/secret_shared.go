package checks

// CIS Kubernetes Benchmark 5.4.2 ("Consider external secret storage":
// access to each secret authenticated and audited) and least privilege: a
// Secret that many workloads mount is readable from any of them, so one
// compromised container leaks a credential that every other workload uses
// too, and rotating it means redeploying all of them. Each workload should
// hold its own credential.
//
// Workloads are counted, not pods: a Deployment with 50 replicas is one, and
// a ReplicaSet, Job or Pod that a controller owns counts as its owner (an
// export of a live cluster holds all three). PodTemplates run nothing and
// are left out. imagePullSecrets and CSI nodePublishSecretRef are used by
// the kubelet, not by the containers, and are not mounts.

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// maxSecretWorkloads is how many workloads may share one Secret before it
// is reported. A constant, not an option: Options holds no thresholds yet,
// and three covers the usual legitimate sharing (an app, its worker and its
// migration job).
const maxSecretWorkloads = 3

// SecretShared reports Secrets that more than maxSecretWorkloads workloads
// take in, by volume, projected volume, env or envFrom.
func SecretShared() posture.Check {
	return posture.Check{
		ID:          "secret-shared",
		Title:       "Secret is used by many workloads",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "secrets",
		Rationale:   "A Secret mounted into many workloads is exposed by a compromise of any one of them, and cannot be rotated or revoked for one without the others.",
		Remediation: "Give each workload its own credential in its own Secret (or its own identity in an external secret store), readable only by that workload.",
		Scope:       posture.ScopeInventory,
		// New in behaviour version 4: scans pinned to 1–3 leave it out.
		Versions: []posture.Versioned{{MinVersion: 4, Eval: secretShared}},
	}
}

// secretUse is who uses one Secret.
type secretUse struct {
	ref       kube.Ref
	workloads []string // "Kind name", in inventory order
	seen      map[string]bool
	first     *kube.Object
}

func secretShared(in *posture.Input) []posture.Result {
	inv := in.Inventory
	owners := ownerIndex(inv)
	uses := map[kube.Ref]*secretUse{}
	var order []kube.Ref
	for _, w := range inv.Workloads {
		if w.Object.Ref.Kind == "PodTemplate" {
			continue
		}
		id := topOwner(w.Object, owners)
		for _, name := range secretsUsed(w.PodSpec) {
			ref := kube.Ref{APIVersion: "v1", Kind: "Secret", Namespace: w.Object.Ref.Namespace, Name: name}
			u := uses[ref]
			if u == nil {
				u = &secretUse{ref: ref, seen: map[string]bool{}, first: w.Object}
				uses[ref] = u
				order = append(order, ref)
			}
			if !u.seen[id] {
				u.seen[id] = true
				u.workloads = append(u.workloads, id)
			}
		}
	}
	secrets := map[kube.Ref]*kube.Object{}
	for _, o := range inv.OfKind("Secret") {
		secrets[kube.Ref{APIVersion: "v1", Kind: "Secret", Namespace: o.Ref.Namespace, Name: o.Ref.Name}] = o
	}
	var out []posture.Result
	for _, ref := range order {
		u := uses[ref]
		n := len(u.workloads)
		if n <= maxSecretWorkloads {
			continue
		}
		shown := u.workloads
		if len(shown) > 5 {
			shown = append(shown[:5:5], "…")
		}
		r := posture.Result{
			Message: "Secret " + ref.Name + " is used by " + itoa(n) + " workloads (" + strings.Join(shown, ", ") +
				"); more than " + itoa(maxSecretWorkloads) + " share it.",
			Evidence: []finding.Evidence{ev("workloads", itoa(n))},
		}
		if o := secrets[ref]; o != nil {
			r.Object = o
		} else {
			r.Ref, r.At = ref, u.first
		}
		out = append(out, r)
	}
	return out
}

// secretsUsed returns the names of the Secrets spec's volumes and containers
// take in, each once, in the order they appear.
func secretsUsed(spec *corev1.PodSpec) []string {
	var out []string
	add := func(name string) {
		if name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			add(v.Secret.SecretName)
		}
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.Secret != nil {
					add(s.Secret.Name)
				}
			}
		}
	}
	containers := func(cs []corev1.Container) {
		for _, c := range cs {
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					add(e.ValueFrom.SecretKeyRef.Name)
				}
			}
			for _, f := range c.EnvFrom {
				if f.SecretRef != nil {
					add(f.SecretRef.Name)
				}
			}
		}
	}
	containers(spec.InitContainers)
	containers(spec.Containers)
	for _, e := range spec.EphemeralContainers {
		containers([]corev1.Container{corev1.Container(e.EphemeralContainerCommon)})
	}
	return out
}

// ownerIndex indexes the inventory's objects by namespace/Kind/name, to
// follow controller references.
func ownerIndex(inv *kube.Inventory) map[string]*kube.Object {
	idx := make(map[string]*kube.Object, len(inv.Objects))
	for _, o := range inv.Objects {
		idx[o.Ref.Namespace+"/"+o.Ref.Kind+"/"+o.Ref.Name] = o
	}
	return idx
}

// topOwner names the workload o belongs to, "Kind name": o itself, or the
// controller that owns it, followed up while the owner is in the inventory
// (a Pod to its ReplicaSet to its Deployment).
func topOwner(o *kube.Object, owners map[string]*kube.Object) string {
	kind, name, cur := o.Ref.Kind, o.Ref.Name, o
	for range 4 { // Pod → ReplicaSet → Deployment; deeper chains are custom controllers
		m, ok := cur.Typed.(metav1.Object)
		if !ok {
			break
		}
		c := metav1.GetControllerOfNoCopy(m)
		if c == nil {
			break
		}
		kind, name = c.Kind, c.Name
		if cur = owners[o.Ref.Namespace+"/"+c.Kind+"/"+c.Name]; cur == nil {
			break
		}
	}
	return kind + " " + name
}
