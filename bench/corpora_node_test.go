package bench

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/nodecheck"
	"github.com/palisade-sec/palisade/internal/posture/compliance"
)

// Peer checks mapped to node checks (IDs "node/…", peers.d/node.yaml) judge
// node collector output — Kubescape host-sensor objects in a regolibrary
// case's input/*.json, Trivy NodeInfo objects in tests/*.json — which
// `palisade node check --from` reads. Those cases run through the same
// path: every input file together, only the mapped check.

// isNodeCheck reports whether a peer mapping names a node check.
func isNodeCheck(id string) bool { return strings.HasPrefix(id, "node/") }

// knownNodeCheck reports whether id is one of nodecheck.All().
func knownNodeCheck(id string) bool { return nodeCheck(id) != nil }

func nodeCheck(id string) *nodecheck.Check {
	for _, ch := range nodecheck.All() {
		if ch.ID == id {
			return &ch
		}
	}
	return nil
}

// nodeFires runs pc's node check (and its alternatives) on the case's
// collector output. Our verdict is "fail" when the check reports a
// finding, and also when it reports no result but "not evaluated" (the
// facts it needs were not collected): the report then names the check and
// the missing fact, which — like the peer's alert for a sensor that failed
// to read a file — asks the user to act, and is never a pass. A check with
// some results passing and others not evaluated passes (partially).
func nodeFires(t *testing.T, pc compliance.PeerCheck, files []string) (bool, error) {
	var data bytes.Buffer
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return false, err
		}
		data.Write(b)
		data.WriteByte('\n')
	}
	in := []nodecheck.Input{{Name: strings.Join(files, ","), Data: data.Bytes()}}
	for _, alt := range append([]compliance.PeerCheck{pc}, pc.Or...) {
		ch := nodeCheck(alt.Check)
		out, err := nodecheck.RunFacts(t.Context(), []nodecheck.Check{*ch}, in, nodecheck.Options{})
		if err != nil {
			return false, err
		}
		for _, f := range out.Findings {
			if len(alt.Evidence) == 0 || hasEvidence(f, alt.Evidence) {
				return true, nil
			}
		}
		if (out.Coverage == nil || len(out.Coverage.Rules) == 0) && len(out.NotEvaluated) > 0 {
			return true, nil
		}
	}
	return false, nil
}
