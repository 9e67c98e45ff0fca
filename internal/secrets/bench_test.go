package secrets

import (
	"strings"
	"testing"
)

// benchText is prose and config lines with common keyword-like words and
// no secrets: the case the keyword index must make cheap.
func benchText(n int) string {
	lines := []string{
		"# the server passes the tokenizer output to the upstream worker\n",
		"listen = 8080\n",
		"password = \"${DB_PASSWORD}\"\n",
		"access to the secret_name path is restricted; see the compass docs\n",
		"func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {\n",
	}
	var sb strings.Builder
	for i := 0; sb.Len() < n; i++ {
		sb.WriteString(lines[i%len(lines)])
	}
	return sb.String()
}

func BenchmarkScanText(b *testing.B) {
	text := []byte(benchText(1 << 20))
	e := newEngine(Default(), DefaultMaxFileSize)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		e.scanText(text)
	}
}

func BenchmarkKeywordIndex(b *testing.B) {
	text := []byte(benchText(1 << 20))
	e := newEngine(Default(), DefaultMaxFileSize)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		for i := range e.occ {
			e.occ[i] = e.occ[i][:0]
		}
		e.index.find(text, e.occ)
	}
}
