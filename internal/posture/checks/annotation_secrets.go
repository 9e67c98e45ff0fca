package checks

// NSA/CISA Kubernetes Hardening Guide, "Secrets": credentials belong in
// Secrets, encrypted and separately authorized. An annotation is neither: it
// is read by everyone who may get or list the object, printed by kubectl
// describe and dashboards, copied into exports, and on a pod template
// copied onto every pod.
//
// kubectl.kubernetes.io/last-applied-configuration is not judged as a value
// (it is JSON, not a setting) but looked inside, since it holds the whole
// object as last applied:
//   - On a Secret it copies the Secret's data (stringData in plain text).
//     RBAC grants no extra reader by it: a metadata-only list
//     (PartialObjectMetadata) needs the same get/list on secrets as a full
//     one. But kubectl describe, which hides Secret data, prints annotations,
//     and so do dashboards, metadata informers' caches and logs of object
//     metadata, which treat metadata as safe to show. Reported at medium;
//     kubectl apply --server-side does not write the annotation.
//   - On a ConfigMap the copy says nothing new while it equals the live data
//     (configmap-secrets judges that), so only keys whose applied value
//     differs from the live one are reported: a secret removed from the data
//     by a later patch still sits in the annotation.
//   - The applied annotations are judged like live ones where they differ
//     from them, for the same reason. Other fields of the applied object
//     (env values of a workload) are left to the checks of the live fields.
// A last-applied annotation that is not JSON is left alone: it is kubectl's
// bookkeeping, and the live fields are judged anyway.

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// lastApplied is the annotation client-side kubectl apply keeps the applied
// object in.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// AnnotationSecrets reports secret-looking annotation values on any object
// and pod template, and Secret data copied into last-applied annotations.
// Values are never copied into findings.
func AnnotationSecrets() posture.Check {
	return posture.Check{
		ID:       "annotation-secrets",
		Title:    "Annotation holds secret-looking data",
		Level:    posture.LevelBaseline,
		Severity: finding.SeverityHigh,
		Category: "secrets",
		Rationale: "Annotations are shown to everyone who may read the object, by kubectl describe and dashboards too, and are not a Secret; " +
			"kubectl's last-applied-configuration annotation copies a Secret's data into metadata that those tools print while hiding the data.",
		Remediation: "Move the value into a Secret and reference it; for a Secret, remove the last-applied-configuration annotation and apply it with kubectl apply --server-side or create it from a secret store.",
		Scope:       posture.ScopeInventory,
		// New in behaviour version 4: scans pinned to 1–3 leave it out.
		Versions: []posture.Versioned{
			{MinVersion: 4, Eval: annotationSecrets(judgeSecret)},
			{MinVersion: 12, Eval: annotationSecrets(judgeSecretV12)},
			{MinVersion: 14, Eval: annotationSecrets(judgeSecretV14)},
		},
	}
}

// annotationSecrets reports annotations (and kubectl's last-applied copies)
// that hold, or are placeholders for, a secret as judge sees them.
func annotationSecrets(judge judgeFunc) func(*posture.Input) []posture.Result {
	return func(in *posture.Input) []posture.Result {
		templates := make(map[*kube.Object]*kube.Workload, len(in.Inventory.Workloads))
		for _, w := range in.Inventory.Workloads {
			templates[w.Object] = w
		}
		var out []posture.Result
		for _, o := range in.Inventory.Objects {
			out = append(out, annotationResults(o, []string{"metadata"}, o.Meta.Annotations, nil, judge)...)
			// A Pod's spec path is ["spec"]: its pod metadata is its own.
			if w := templates[o]; w != nil && len(w.SpecPath) > 1 {
				meta := append(slices.Clone(w.SpecPath[:len(w.SpecPath)-1]), "metadata")
				out = append(out, annotationResults(o, meta, w.PodMeta.Annotations, nil, judge)...)
			}
			if raw, ok := o.Meta.Annotations[lastApplied]; ok {
				if applied, err := parseLastApplied(raw); err == nil {
					out = append(out, lastAppliedResults(o, applied, judge)...)
				}
			}
		}
		return out
	}
}

// annotationResults judges annotations, found at meta/annotations of o.
// With live set, the annotations are those of the last-applied copy and
// only those that differ from live are judged.
func annotationResults(o *kube.Object, meta []string, annotations, live map[string]string, judge judgeFunc) []posture.Result {
	var out []posture.Result
	for _, k := range sortedKeys(annotations) {
		v := annotations[k]
		if k == lastApplied {
			continue
		}
		if cur, ok := live[k]; live != nil && ok && cur == v {
			continue
		}
		kind, why := judgeAnnotation(k, v, judge)
		if kind == notSecret {
			continue
		}
		where := "annotation " + k
		path := append(slices.Clone(meta), "annotations", k)
		if live != nil {
			where = "annotation " + lastApplied + " holds annotation " + k + " with a value the object no longer has"
			path = append(slices.Clone(meta), "annotations", lastApplied)
		}
		r := secretResult(kind, path, o.Ref.Kind+" "+o.Ref.Name+": "+where+": "+why+".", key("annotation", k))
		r.Object = o
		if live != nil {
			// Key evidence: the live annotation of that name may be reported too.
			r.Evidence = append(r.Evidence, key("in", lastApplied))
		}
		out = append(out, r)
	}
	return out
}

// referenceAnnotationPrefixes are annotation prefixes whose values configure
// secret injection (Vault paths and roles) or hash a Secret (Helm charts'
// checksum/secret rolls pods when the Secret changes): by name they suggest
// secrets, but they never hold one.
var referenceAnnotationPrefixes = []string{"checksum/", "vault.hashicorp.com/", "vault.security.banzaicloud.io/", "palisade.dev/"}

// judgeAnnotation is judge for an annotation: the name is the part
// after the prefix, and a name ending in "secret" names a Secret (ingress
// controllers' auth-secret, auth-tls-secret) rather than holding one. Those
// are still reported when the value is a credential by its form. Failing
// that, a value holding NAME=value words (kubernetes.io/change-cause keeps
// the kubectl command, "set env … DB_PASSWORD=…") is judged word by word.
func judgeAnnotation(k, v string, judge judgeFunc) (secretKind, string) {
	name := k[strings.LastIndexByte(k, '/')+1:]
	ref := strings.HasSuffix(strings.ToLower(name), "secret") || strings.HasSuffix(strings.ToLower(name), "secrets")
	for _, p := range referenceAnnotationPrefixes {
		ref = ref || strings.HasPrefix(k, p)
	}
	if ref {
		if ok, why := credentialValue(strings.TrimSpace(v)); ok {
			return secretLiteral, why
		}
		return notSecret, ""
	}
	if kind, why := judge(name, v); kind != notSecret {
		return kind, why
	}
	if strings.Contains(v, "=") {
		// Only literals: a placeholder in a recorded command says nothing.
		if kind, why := secretLine(strings.Join(assignments(v), "\n"), judge); kind == secretLiteral {
			return kind, "its value " + why[strings.Index(why, "sets "):]
		}
	}
	return notSecret, ""
}

// assignments returns the NAME=value words of v, with kubectl's
// --from-literal= taken off, so secretLine can judge them.
func assignments(v string) []string {
	var out []string
	for _, w := range strings.Fields(v) {
		w = strings.TrimPrefix(w, "--from-literal=")
		if strings.Contains(w, "=") && !strings.HasPrefix(w, "-") {
			out = append(out, w)
		}
	}
	return out
}

// appliedObject is what the secrets checks read of a last-applied
// configuration.
type appliedObject struct {
	Kind        string
	Annotations map[string]string
	Data        map[string]string // a ConfigMap's data, a Secret's data (base64) and stringData
}

// parseLastApplied reads the parts of a last-applied configuration the
// secrets checks judge. Values that are not strings are left out.
func parseLastApplied(s string) (*appliedObject, error) {
	var raw struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Annotations map[string]any `json:"annotations"`
		} `json:"metadata"`
		Data       map[string]any `json:"data"`
		StringData map[string]any `json:"stringData"`
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("read %s: %w", lastApplied, err)
	}
	out := &appliedObject{Kind: raw.Kind, Annotations: stringValues(raw.Metadata.Annotations), Data: stringValues(raw.Data)}
	for k, v := range stringValues(raw.StringData) {
		if out.Data == nil {
			out.Data = map[string]string{}
		}
		out.Data[k] = v
	}
	return out, nil
}

// stringValues returns the string values of m.
func stringValues(m map[string]any) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// lastAppliedResults judges o's last-applied configuration (see the file
// comment).
func lastAppliedResults(o *kube.Object, a *appliedObject, judge judgeFunc) []posture.Result {
	path := []string{"metadata", "annotations", lastApplied}
	var out []posture.Result
	switch o.Ref.Kind {
	case "Secret":
		var keys []string
		for _, k := range sortedKeys(a.Data) {
			if strings.TrimSpace(a.Data[k]) != "" {
				keys = append(keys, k)
			}
		}
		if len(keys) > 0 {
			out = append(out, posture.Result{Object: o, Path: path, Severity: finding.SeverityMedium,
				Message:  "Secret " + o.Ref.Name + ": annotation " + lastApplied + " holds a copy of its data (keys " + strings.Join(keys, ", ") + ").",
				Evidence: []finding.Evidence{key("annotation", lastApplied), ev("keys", strings.Join(keys, ","))}})
		}
	case "ConfigMap":
		var live map[string]string
		if cm, ok := o.Typed.(*corev1.ConfigMap); ok {
			live = cm.Data
		}
		for _, k := range sortedKeys(a.Data) {
			v := a.Data[k]
			if cur, ok := live[k]; ok && cur == v {
				continue
			}
			kind, why := judgeConfigValue(k, v, judge)
			if kind == notSecret {
				continue
			}
			r := secretResult(kind, path, "ConfigMap "+o.Ref.Name+": annotation "+lastApplied+" holds key "+k+", which differs from the live data: "+why+".", key("key", k))
			r.Object = o
			r.Evidence = append(r.Evidence, ev("in", lastApplied))
			out = append(out, r)
		}
	}
	live := o.Meta.Annotations
	if live == nil {
		live = map[string]string{}
	}
	return append(out, annotationResults(o, []string{"metadata"}, a.Annotations, live, judge)...)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
