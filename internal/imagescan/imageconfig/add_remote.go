package imageconfig

// CIS Docker Benchmark 4.9, "Ensure that COPY is used instead of ADD in
// Dockerfiles": ADD fetches remote URLs (and unpacks archives) at build
// time, with no checksum unless one is given, so what the image holds
// depends on a server at build time. Only ADD of a URL is flagged here:
// that is the part an image's history can prove.

import (
	"context"
	"fmt"
	"regexp"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
)

// addURL matches an ADD instruction with a remote source, as the legacy
// builder ("/bin/sh -c #(nop) ADD …") and BuildKit ("ADD … # buildkit")
// record it in history.
var addURL = regexp.MustCompile(`(?i)^\s*(?:/bin/sh -c #\(nop\)\s*)?ADD\s(?:.*?\s)?((?:https?|ftp)://\S+)`)

// AddRemote flags ADD instructions that fetch a URL.
func AddRemote() *Check {
	return &Check{
		ID:          "image/add-remote-url",
		Title:       "ADD fetches a remote URL",
		Severity:    finding.SeverityMedium,
		CIS:         "4.9",
		Rationale:   "ADD of a URL downloads content at build time without verifying it (unless --checksum is given), so a compromised or changed server changes the image.",
		Remediation: "Download in a RUN step that verifies a pinned checksum (curl -fsSLo f URL && echo 'SHA256  f' | sha256sum -c), or use ADD --checksum=sha256:…; use COPY for local files.",
		Config: func(_ context.Context, in *Input) ([]Problem, error) {
			var out []Problem
			for i, h := range in.Metadata.History {
				m := addURL.FindStringSubmatch(h.CreatedBy)
				if m == nil {
					continue
				}
				p := Problem{
					Message:  fmt.Sprintf("history entry %d fetches %s with ADD", i, m[1]),
					Layer:    historyLayer(in, i),
					Evidence: []finding.Evidence{{Name: "url", Value: m[1], Key: true}, {Name: "history", Value: fmt.Sprint(i)}},
				}
				if p.Layer == nil || p.Layer.CreatedBy == "" {
					p.Evidence = append(p.Evidence, finding.Evidence{Name: EvCreatedBy, Value: h.CreatedBy})
				}
				out = append(out, p)
			}
			return out, nil
		},
	}
}

// historyLayer returns the layer history entry i produced, or nil when
// it produced none (EmptyLayer) or the history does not line up with the
// layers. It maps as image.Open does: every non-empty entry made the next
// layer.
func historyLayer(in *Input, i int) *image.Layer {
	h := in.Metadata.History
	if i >= len(h) || h[i].EmptyLayer {
		return nil
	}
	n := 0
	for _, e := range h[:i] {
		if !e.EmptyLayer {
			n++
		}
	}
	if n >= len(in.Layers) {
		return nil
	}
	l := in.Layers[n]
	return &l
}
