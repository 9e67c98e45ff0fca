package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// decodeJSONStream decodes data as a stream of JSON values when the YAML
// parser refused it. Objects get the line their value starts at, but no
// lines for nested fields.
func decodeJSONStream(ctx context.Context, file string, data []byte, d *docDecoder) ([]*Object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		if err := ctx.Err(); err != nil {
			return d.objs, fmt.Errorf("decode %s: %w", quoteFile(file), err)
		}
		off := int(dec.InputOffset())
		for off < len(data) && (data[off] == ' ' || data[off] == '\t' || data[off] == '\r' || data[off] == '\n') {
			off++
		}
		start := lineAt(data, off)
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := lineAt(data, int(dec.InputOffset()))
			d.errs = append(d.errs, inputErr(file, line, "parse JSON: %v", err))
			break
		}
		d.jsonValue(raw, start, 0)
		if d.tooMany {
			break
		}
	}
	return d.objs, errors.Join(d.errs...)
}

func (d *docDecoder) jsonValue(raw json.RawMessage, line, depth int) {
	d.docs++
	if d.docs > d.lim.MaxDocuments {
		d.errs = append(d.errs, inputErr(d.file, line, "more than %d documents", d.lim.MaxDocuments))
		d.tooMany = true
		return
	}
	var head struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Items      []json.RawMessage `json:"items"`
	}
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' && depth == 0 {
		var arr []json.RawMessage
		if err := json.Unmarshal(raw, &arr); err != nil {
			d.errs = append(d.errs, inputErr(d.file, line, "parse JSON: %v", err))
			return
		}
		for _, it := range arr {
			d.jsonValue(it, line, depth+1)
		}
		return
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		d.errs = append(d.errs, inputErr(d.file, line, "document is not a Kubernetes object: %v", err))
		return
	}
	if head.Kind == "" || head.APIVersion == "" {
		d.errs = append(d.errs, notObjectErr(d.file, line, "document has no apiVersion or kind"))
		return
	}
	if len(head.Items) > 0 && len(head.Kind) > 4 && head.Kind[len(head.Kind)-4:] == "List" && depth < 4 {
		for _, it := range head.Items {
			d.jsonValue(it, line, depth+1)
		}
		return
	}
	obj, err := decodeTyped(head.APIVersion, head.Kind, raw)
	if err != nil {
		d.errs = append(d.errs, &InputError{File: d.file, Line: line, Err: err})
		return
	}
	o := newObject(obj, head.APIVersion, head.Kind)
	o.Source = Source{File: d.file, Line: line}
	d.objs = append(d.objs, o)
}

// lineAt returns the 1-based line of byte offset off in data.
func lineAt(data []byte, off int) int {
	if off > len(data) {
		off = len(data)
	}
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}
