package policy

import (
	"encoding/json"
	"testing"
)

// BenchmarkBuiltinLibrary measures what the whole built-in library adds to
// an admission request, against the floor of decoding the object's JSON
// (which admission does anyway): b.ReportMetric prints the ratio.
func BenchmarkBuiltinLibrary(b *testing.B) {
	ps, err := Builtin()
	if err != nil {
		b.Fatal(err)
	}
	raw, err := json.Marshal(objectOf(b, deployment(goodSpec+"volumes:\n- {name: tmp, emptyDir: {}}\n")))
	if err != nil {
		b.Fatal(err)
	}
	var decodeNs float64
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeObject(raw); err != nil {
				b.Fatal(err)
			}
		}
		decodeNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("decode+evaluate", func(b *testing.B) {
		for b.Loop() {
			obj, err := DecodeObject(raw)
			if err != nil {
				b.Fatal(err)
			}
			in := &Input{Object: obj, Request: Request{Operation: "CREATE"}}
			for _, p := range ps {
				if _, err := p.Evaluate(b.Context(), in); err != nil {
					b.Fatal(err)
				}
			}
		}
		if decodeNs > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/decodeNs, "x-decode")
		}
	})
}
