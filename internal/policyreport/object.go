package policyreport

import (
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/palisade-sec/palisade/internal/finding"
)

func newReport(ns string) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": GVR.GroupVersion().String(),
		"kind":       "PolicyReport",
		"metadata": map[string]any{
			"name":      ReportName,
			"namespace": ns,
			"labels":    map[string]any{"app.kubernetes.io/managed-by": "palisade"},
		},
	}}
	return obj
}

// merge returns the report's results after adding fresh ones: existing
// results (from earlier flushes, possibly by another replica) are kept
// unless a fresh result has the same key, and the newest max are kept.
func merge(existing *unstructured.Unstructured, fresh map[key]Result, max int) []Result {
	byKey := map[key]Result{}
	if existing != nil {
		items, _, _ := unstructured.NestedSlice(existing.Object, "results")
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				if r, ok := fromObject(m); ok {
					byKey[r.key()] = r
				}
			}
		}
	}
	for k, r := range fresh {
		byKey[k] = r
	}
	out := make([]Result, 0, len(byKey))
	for _, r := range byKey {
		out = append(out, r)
	}
	sortNewestFirst(out)
	if len(out) > max {
		out = out[:max]
	}
	return out
}

func setResults(obj *unstructured.Unstructured, rs []Result) {
	items := make([]any, 0, len(rs))
	summary := map[string]any{Pass: int64(0), Fail: int64(0), Warn: int64(0), Error: int64(0), Skip: int64(0)}
	for i := range rs {
		items = append(items, toObject(&rs[i]))
		if n, ok := summary[rs[i].Status].(int64); ok {
			summary[rs[i].Status] = n + 1
		}
	}
	obj.Object["results"] = items
	obj.Object["summary"] = summary
}

func toObject(r *Result) map[string]any {
	m := map[string]any{
		"source":  "palisade",
		"policy":  r.Policy,
		"result":  r.Status,
		"scored":  true,
		"message": r.Message,
		"timestamp": map[string]any{
			"seconds": r.Time.Unix(),
			"nanos":   int64(r.Time.Nanosecond()),
		},
		"resources": []any{map[string]any{
			"apiVersion": r.Resource.APIVersion, "kind": r.Resource.Kind,
			"namespace": r.Resource.Namespace, "name": r.Resource.Name, "uid": r.Resource.UID,
		}},
	}
	if r.Rule != "" {
		m["rule"] = r.Rule
	}
	if s := severityName(r.Severity); s != "" {
		m["severity"] = s
	}
	if len(r.Properties) > 0 {
		props := map[string]any{}
		for k, v := range r.Properties {
			props[k] = v
		}
		m["properties"] = props
	}
	return m
}

func fromObject(m map[string]any) (Result, bool) {
	str := func(k string) string { s, _ := m[k].(string); return s }
	r := Result{Policy: str("policy"), Rule: str("rule"), Message: str("message"), Status: str("result")}
	if r.Policy == "" {
		return r, false
	}
	if ts, ok := m["timestamp"].(map[string]any); ok {
		r.Time = time.Unix(toInt(ts["seconds"]), toInt(ts["nanos"]))
	}
	var sev finding.Severity
	if s := str("severity"); s != "" && sev.UnmarshalText([]byte(s)) == nil {
		r.Severity = sev
	}
	if res, ok := m["resources"].([]any); ok && len(res) > 0 {
		if o, ok := res[0].(map[string]any); ok {
			s := func(k string) string { v, _ := o[k].(string); return v }
			r.Resource = Resource{APIVersion: s("apiVersion"), Kind: s("kind"), Namespace: s("namespace"), Name: s("name"), UID: s("uid")}
		}
	}
	if props, ok := m["properties"].(map[string]any); ok {
		r.Properties = map[string]string{}
		for k, v := range props {
			if s, ok := v.(string); ok {
				r.Properties[k] = s
			}
		}
	}
	return r, true
}

func toInt(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	case int:
		return int64(n)
	}
	return 0
}

// severityName maps our severities onto the PolicyReport enumeration,
// which has no "unknown".
func severityName(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical, finding.SeverityHigh, finding.SeverityMedium, finding.SeverityLow, finding.SeverityInfo:
		return s.String()
	}
	return ""
}
