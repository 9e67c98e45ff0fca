package falco

import (
	"encoding/json"
	"strconv"
	"strings"
)

// repos strips tags and digests from image references.
func repos(images []string) []string {
	out := make([]string, len(images))
	for i, im := range images {
		if j := strings.IndexByte(im, '@'); j >= 0 {
			im = im[:j]
		}
		if j := strings.LastIndexByte(im, ':'); j > strings.LastIndexByte(im, '/') {
			im = im[:j]
		}
		out[i] = im
	}
	return out
}

func first(v []string) []string {
	if len(v) > 1 {
		return v[:1]
	}
	return v
}

func list(m map[string]any, keys ...string) []any {
	var cur any = m
	for _, k := range keys {
		mm, _ := cur.(map[string]any)
		cur = mm[k]
	}
	return listOf(cur)
}

func listOf(v any) []any { l, _ := v.([]any); return l }

func mapsOf(l []any) []map[string]any {
	out := make([]map[string]any, 0, len(l))
	for _, v := range l {
		if m, ok := v.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func str(m map[string]any, keys ...string) ([]string, bool) {
	var cur any = m
	for _, k := range keys {
		mm, _ := cur.(map[string]any)
		cur = mm[k]
	}
	s, ok := cur.(string)
	return []string{s}, ok
}

// each returns the scalar at keys of every element of l.
func each[T any](l []T, keys ...string) ([]string, bool) {
	var out []string
	for _, v := range l {
		var cur any = v
		for _, k := range keys {
			mm, _ := cur.(map[string]any)
			cur = mm[k]
		}
		if cur != nil {
			out = append(out, scalar(cur))
		}
	}
	return out, len(out) > 0
}

// flat concatenates the string lists at key of every element of l.
func flat(l []any, key string) ([]string, bool) {
	var out []string
	for _, v := range l {
		m, _ := v.(map[string]any)
		for _, s := range listOf(m[key]) {
			out = append(out, scalar(s))
		}
	}
	return out, len(out) > 0
}

func eachJSON(l []any) ([]string, bool) {
	var out []string
	for _, v := range l {
		s, _ := jsonOf(v)
		out = append(out, s...)
	}
	return out, len(out) > 0
}

func jsonOf(v any) ([]string, bool) {
	if v == nil {
		return nil, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	return []string{string(b)}, true
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return boolStr(x)
	}
	s, _ := jsonOf(v)
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
