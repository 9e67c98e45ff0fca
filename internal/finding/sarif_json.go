package finding

import (
	"slices"
	"strconv"
)

// sarifResultJSON appends res to dst as encoding/json's indented encoding
// of a sarifResult (newJSONEncoder with prefix, without the final newline)
// would write it, as findingJSON does for findings: a SARIF log of 100,000
// results spent most of its writing time re-scanning encoding/json's
// output to indent it. TestSARIFResultJSONMatchesEncodingJSON compares the
// two on results of every shape.
func sarifResultJSON(dst []byte, prefix string, res *sarifResult) ([]byte, error) {
	o := jsonObject{dst: dst, prefix: prefix}
	o.open()
	o.str("ruleId", res.RuleID)
	o.key("ruleIndex")
	o.dst = strconv.AppendInt(o.dst, int64(res.RuleIndex), 10)
	o.str("level", res.Level)
	o.key("message")
	o.text(res.Message)
	if len(res.Locations) > 0 {
		o.key("locations")
		o.openArray()
		for i := range res.Locations {
			o.elem()
			o.location(&res.Locations[i])
		}
		o.closeArray()
	}
	o.key("partialFingerprints")
	if res.PartialFingerprints == nil {
		o.dst = append(o.dst, "null"...)
	} else {
		o.open()
		var buf [8]string
		for _, k := range sortedKeys(res.PartialFingerprints, buf[:0]) {
			o.str(k, res.PartialFingerprints[k])
		}
		o.close()
	}
	if len(res.Suppressions) > 0 {
		o.key("suppressions")
		o.openArray()
		for i := range res.Suppressions {
			s := &res.Suppressions[i]
			o.elem()
			o.open()
			o.str("kind", s.Kind)
			o.str("status", s.Status)
			o.strOmit("justification", s.Justification)
			if len(s.Properties) > 0 {
				o.key("properties")
				o.anyMap(s.Properties)
			}
			o.close()
		}
		o.closeArray()
	}
	if len(res.Properties) > 0 {
		o.key("properties")
		o.anyMap(res.Properties)
	}
	o.close()
	if o.err != nil {
		return dst, o.err
	}
	return o.dst, nil
}

// location writes a SARIF location object.
func (o *jsonObject) location(loc *sarifLocation) {
	o.open()
	if p := loc.PhysicalLocation; p != nil {
		o.key("physicalLocation")
		o.open()
		o.key("artifactLocation")
		o.open()
		o.str("uri", p.ArtifactLocation.URI)
		o.strOmit("uriBaseId", p.ArtifactLocation.URIBaseID)
		o.close()
		if r := p.Region; r != nil {
			o.key("region")
			o.open()
			o.key("startLine")
			o.dst = strconv.AppendInt(o.dst, int64(r.StartLine), 10)
			o.intOmit("startColumn", r.StartColumn)
			o.close()
		}
		o.close()
	}
	if len(loc.LogicalLocations) > 0 {
		o.key("logicalLocations")
		o.openArray()
		for _, l := range loc.LogicalLocations {
			o.elem()
			o.open()
			o.str("fullyQualifiedName", l.FullyQualifiedName)
			o.str("kind", l.Kind)
			o.close()
		}
		o.closeArray()
	}
	o.close()
}

// sarifFindingJSON appends the SARIF result of f (rule ruleIndex) to dst,
// the bytes sarifResultJSON writes for sarifResultOf(f, ruleIndex)
// (TestSARIFFindingJSONMatchesResult), without building the result and its
// maps first: a scan's 100,000s of open findings take this path, the few
// excepted ones (with their suppressions) the general one.
func sarifFindingJSON(dst []byte, prefix string, f *Finding, ruleIndex int) ([]byte, error) {
	if !f.Open() {
		res := sarifResultOf(f, ruleIndex)
		return sarifResultJSON(dst, prefix, &res)
	}
	o := jsonObject{dst: dst, prefix: prefix}
	o.open()
	o.str("ruleId", f.RuleID)
	o.key("ruleIndex")
	o.dst = strconv.AppendInt(o.dst, int64(ruleIndex), 10)
	o.str("level", sarifLevel(f.Severity))
	o.key("message")
	o.text(sarifText{Text: messageOf(f)})
	key := f.Resource.objectKey()
	if loc, ok := sarifLocationOf(f.Resource, key); ok {
		o.key("locations")
		o.openArray()
		o.elem()
		o.location(&loc)
		o.closeArray()
	}
	o.key("partialFingerprints")
	o.open()
	o.str(sarifFingerprintKey, f.ID)
	o.close()
	// The properties sarifResultOf sets, in encoding/json's (sorted) order.
	o.key("properties")
	o.open()
	o.strOmit("category", f.Category)
	if len(f.Controls) > 0 {
		o.key("controls")
		o.anyValue(sarifControls(f.Controls))
	}
	o.strOmit("resource", key)
	o.str("severity", f.Severity.String())
	o.close()
	o.close()
	return o.dst, o.err
}

// text writes a SARIF message object.
func (o *jsonObject) text(t sarifText) {
	o.open()
	o.str("text", t.Text)
	o.close()
}

// anyMap writes m with its keys sorted, as encoding/json writes a map.
func (o *jsonObject) anyMap(m map[string]any) {
	o.open()
	var buf [8]string
	for _, k := range sortedKeys(m, buf[:0]) {
		o.key(k)
		o.anyValue(m[k])
	}
	o.close()
}

// sortedKeys appends the keys of m to keys, sorted: with a small array
// behind keys, the few keys of a result's maps are sorted without
// allocating.
func sortedKeys[V any](m map[string]V, keys []string) []string {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// anyValue writes v: strings and string lists here, anything else (the
// exposed workloads of a run's properties, say) by encoding/json, indented
// where it stands.
func (o *jsonObject) anyValue(v any) {
	switch v := v.(type) {
	case string:
		o.value(v)
	case sarifControls:
		o.openArray()
		for _, c := range v {
			o.elem()
			o.dst = appendJSONString(o.dst, c.Framework+"/"+c.ID)
		}
		o.closeArray()
	case []string:
		if v == nil {
			o.dst = append(o.dst, "null"...)
			return
		}
		o.openArray()
		for _, s := range v {
			o.elem()
			o.value(s)
		}
		o.closeArray()
	default:
		prefix := o.prefix
		for range o.depth {
			prefix += "  "
		}
		b, err := encodedJSON(func(int) any { return v })(nil, prefix, 0)
		if err != nil && o.err == nil {
			o.err = err
		}
		o.dst = append(o.dst, b...)
	}
}
