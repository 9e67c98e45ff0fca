package checks

// A container takes configuration from ConfigMaps and Secrets: single keys
// (env valueFrom configMapKeyRef / secretKeyRef), whole objects (envFrom)
// and volumes (configMap, secret, projected sources, with their items).
// Unless the reference is optional, the kubelet does not start a container
// whose ConfigMap, Secret or key is missing (CreateContainerConfigError,
// or a volume that never mounts), and whoever creates the object later
// decides what the workload reads. A Secret may also come from a
// SealedSecret (bitnami.com) or an ExternalSecret (external-secrets.io) of
// the scanned set, whose keys are not known until it is produced. A
// namespace is judged only where the set holds objects of the kind: a
// chart takes its Secrets as inputs (configSource). A live scan never
// reads Secrets, so it judges ConfigMaps only.
// kube-linter env-value-from.

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// MissingConfigSource reports workloads using a ConfigMap, Secret or key
// that does not exist.
func MissingConfigSource() posture.Check {
	return posture.Check{
		ID:          "missing-config-source",
		Title:       "Workload uses a ConfigMap, Secret or key that does not exist",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "The kubelet does not start a container whose non-optional ConfigMap, Secret or key is missing, and whoever creates that object later decides what the workload reads.",
		Remediation: "Deploy the ConfigMap or Secret (or the SealedSecret or ExternalSecret producing it) with the workload, with every key it reads, in the workload's namespace; mark references that may be absent optional: true.",
		Scope:       posture.ScopeWorkload,
		// New in version 8; version 14 knows the Secrets and ConfigMaps
		// more controllers write (implied: cert-manager, certgen, istiod).
		Versions: impliedVersions(evalMissingConfigSource, 8, 14),
	}
}

// configRef is one reference of a pod spec to a ConfigMap or Secret.
type configRef struct {
	kind, name string
	keys       []string // the keys read; none for a whole object
	via        string   // env, envFrom, volume
	path       []string // below the pod spec
	optional   *bool
}

// evalMissingConfigSource is missing-config-source's evaluation at
// behaviour version v: the objects implied at v exist.
func evalMissingConfigSource(in *posture.Input, v posture.Version) []posture.Result {
	w, o := in.Workload, in.Workload.Object
	ns := kube.AppliedNamespace(o.Meta.Namespace)
	var out []posture.Result
	for _, r := range configRefs(w) {
		if r.name == "" || (r.optional != nil && *r.optional) {
			continue
		}
		present, keys, judged := configSource(in.Inventory, o, ns, r.kind, r.name, v)
		if !judged {
			continue
		}
		subject := o.Ref.Kind + " " + ns + "/" + o.Meta.Name
		if !present {
			out = append(out, posture.Result{Path: spath(in, r.path...),
				Message:  subject + " reads " + r.kind + " " + r.name + " (" + r.via + "), which does not exist in namespace " + ns + " " + scannedSet(o) + ".",
				Evidence: []finding.Evidence{key("kind", r.kind), key("name", r.name), key("via", r.via), ev("problem", "missing")}})
			continue
		}
		if keys == nil {
			continue
		}
		for _, k := range r.keys {
			if _, ok := keys[k]; ok {
				continue
			}
			out = append(out, posture.Result{Path: spath(in, r.path...),
				Message:  subject + " reads key " + k + " of " + r.kind + " " + r.name + " (" + r.via + "), which has no such key (it has " + quoteList(sortedKeys(keys)) + ").",
				Evidence: []finding.Evidence{key("kind", r.kind), key("name", r.name), key("via", r.via), key("key", k), ev("problem", "missing-key")}})
		}
	}
	return out
}

// configSource looks up a ConfigMap or Secret for a reference of o: whether
// it exists, its keys (nil when unknown), and whether the scan can judge
// it at all. A namespace is judged only where the scanned set holds
// objects of the kind (or, for Secrets, objects producing them): Secrets
// are kept out of repositories on purpose and charts take them as inputs,
// so a set without any says nothing about whether one exists. An object
// the set does not hold but implies at version v exists with unknown keys: the ConfigMap
// kube-root-ca.crt of every namespace, a Secret a SealedSecret,
// ExternalSecret, Certificate or certgen Job produces. A live scan never
// reads Secrets.
func configSource(inv *kube.Inventory, o *kube.Object, ns, kind, name string, v posture.Version) (present bool, keys map[string]string, judged bool) {
	if liveObject(o) && kind == "Secret" {
		return false, nil, false
	}
	im := impliedBy(inv)
	// Before version 14 kube-root-ca.crt was taken for granted before
	// looking in the set, so a live scan never judged its keys.
	if v < 14 && kind == "ConfigMap" && im.has(o, kind, ns, name, v) {
		return true, nil, true
	}
	idx := objectsNamed(inv, kind)
	if found := idx.get(o, ns, name); found != nil {
		return true, dataKeys(found), true
	}
	if im.has(o, kind, ns, name, v) {
		return true, nil, true
	}
	return false, nil, idx.any(o, ns) || im.madeIn(o, kind, ns, v)
}

// dataKeys returns the keys a ConfigMap or Secret holds, nil when unknown.
func dataKeys(o *kube.Object) map[string]string {
	keys := map[string]string{}
	switch t := o.Typed.(type) {
	case *corev1.ConfigMap:
		for k := range t.Data {
			keys[k] = ""
		}
		for k := range t.BinaryData {
			keys[k] = ""
		}
	case *corev1.Secret:
		for k := range t.Data {
			keys[k] = ""
		}
		for k := range t.StringData {
			keys[k] = ""
		}
	default:
		return nil
	}
	return keys
}

// configRefs lists w's references to ConfigMaps and Secrets.
func configRefs(w *kube.Workload) []configRef {
	var out []configRef
	for _, c := range w.AllContainers() {
		for i, e := range c.Container.Env {
			if e.ValueFrom == nil {
				continue
			}
			p := c.Path("env", itoa(i), "valueFrom")
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				out = append(out, configRef{"ConfigMap", r.Name, []string{r.Key}, "env", field(p, "configMapKeyRef"), r.Optional})
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				out = append(out, configRef{"Secret", r.Name, []string{r.Key}, "env", field(p, "secretKeyRef"), r.Optional})
			}
		}
		for i, e := range c.Container.EnvFrom {
			p := c.Path("envFrom", itoa(i))
			if r := e.ConfigMapRef; r != nil {
				out = append(out, configRef{"ConfigMap", r.Name, nil, "envFrom", field(p, "configMapRef"), r.Optional})
			}
			if r := e.SecretRef; r != nil {
				out = append(out, configRef{"Secret", r.Name, nil, "envFrom", field(p, "secretRef"), r.Optional})
			}
		}
	}
	items := func(ks []corev1.KeyToPath) []string {
		var keys []string
		for _, k := range ks {
			keys = append(keys, k.Key)
		}
		return keys
	}
	for i, v := range w.PodSpec.Volumes {
		p := []string{"volumes", itoa(i)}
		if r := v.ConfigMap; r != nil {
			out = append(out, configRef{"ConfigMap", r.Name, items(r.Items), "volume", field(p, "configMap"), r.Optional})
		}
		if r := v.Secret; r != nil {
			out = append(out, configRef{"Secret", r.SecretName, items(r.Items), "volume", field(p, "secret"), r.Optional})
		}
		if v.Projected == nil {
			continue
		}
		for j, s := range v.Projected.Sources {
			pp := field(p, "projected", "sources", itoa(j))
			if r := s.ConfigMap; r != nil {
				out = append(out, configRef{"ConfigMap", r.Name, items(r.Items), "volume", field(pp, "configMap"), r.Optional})
			}
			if r := s.Secret; r != nil {
				out = append(out, configRef{"Secret", r.Name, items(r.Items), "volume", field(pp, "secret"), r.Optional})
			}
		}
	}
	return out
}

// field returns path extended by more, in a new slice.
func field(path []string, more ...string) []string {
	return append(append(make([]string, 0, len(path)+len(more)), path...), more...)
}
