package checks

import "strings"

// imageRef is an image reference split into its parts.
type imageRef struct {
	Repo   string // registry host and path, normalized: docker.io/library/nginx
	Tag    string
	Digest string
}

// parseImage splits ref. Docker Hub short names are normalized
// ("nginx" → "docker.io/library/nginx"). It never fails: odd references
// give odd parts, which the checks then report.
func parseImage(ref string) imageRef {
	var r imageRef
	ref = strings.TrimSpace(ref)
	if i := strings.Index(ref, "@"); i >= 0 {
		r.Digest = ref[i+1:]
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		r.Tag = ref[i+1:]
		ref = ref[:i]
	}
	first, rest, hasSlash := strings.Cut(ref, "/")
	switch {
	case !hasSlash:
		ref = "docker.io/library/" + ref
	case !strings.ContainsAny(first, ".:") && first != "localhost":
		ref = "docker.io/" + first + "/" + rest
	case first == "index.docker.io":
		ref = "docker.io/" + rest
	}
	r.Repo = ref
	return r
}
