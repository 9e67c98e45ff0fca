package peerexceptions

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"maps"

	"github.com/palisade-sec/palisade/internal/sharedtest"
)

// controlsJSON is Kubescape's controls in the peer corpora.
const controlsJSON = "../../../../shared/posture-corpora/regolibrary/controls.json"

// TestControlsMatchCorpus: kubescape-controls.yaml says what the corpus's
// controls.json says (-update rewrites it from there).
func TestControlsMatchCorpus(t *testing.T) {
	data, err := os.ReadFile(controlsJSON)
	if err != nil {
		sharedtest.Missing(t, "peer corpora not found: %v", err)
	}
	var corpus map[string]control
	if err := json.Unmarshal(data, &corpus); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("kubescape-controls.yaml", []byte(controlsYAML(corpus)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ours, err := controls()
	if err != nil {
		t.Fatal(err)
	}
	if len(ours) != len(corpus) {
		t.Errorf("%d controls, the corpus has %d (-update)", len(ours), len(corpus))
	}
	for id, c := range corpus {
		if o := ours[id]; o.Name != c.Name || !slices.Equal(o.Rules, c.Rules) {
			t.Errorf("%s: %+v, the corpus says %+v (-update)", id, o, c)
		}
	}
}

// controlsYAML writes kubescape-controls.yaml: one line per control.
func controlsYAML(cs map[string]control) string {
	var b strings.Builder
	b.WriteString(`# Kubescape's controls (ID, name, the regolibrary rules that implement
# them), from kubescape/regolibrary (Apache-2.0; ../shared/posture-corpora/
# regolibrary/controls.json): an exception names a control by ID or name,
# and peers.yaml maps rules to Palisade checks. TestControlsMatchCorpus
# checks this file against the corpus; -update rewrites it.
controls:
`)
	q := func(s string) string { j, _ := json.Marshal(s); return string(j) } // JSON strings are YAML double-quoted ones
	for _, id := range slices.Sorted(maps.Keys(cs)) {
		rules := make([]string, len(cs[id].Rules))
		for i, r := range cs[id].Rules {
			rules[i] = q(r)
		}
		fmt.Fprintf(&b, "  %s: {name: %s, rules: [%s]}\n", id, q(cs[id].Name), strings.Join(rules, ", "))
	}
	return b.String()
}
