package config

import (
	"path"
	"strings"
)

// IsTrusted reports whether repository repo (registry host and path, with
// no tag or digest, such as "ghcr.io/acme/app") matches a Trusted pattern.
// With no patterns every repository is trusted. Docker Hub short names are
// not expanded here; callers pass the normalized name
// ("docker.io/library/nginx"). Docker Hub's two host names are one
// registry: go-containerregistry names it "index.docker.io", people and
// posture write "docker.io", and a pattern in either form must match a
// repository in either, or admission and posture would disagree.
func (r Registries) IsTrusted(repo string) bool {
	if len(r.Trusted) == 0 {
		return true
	}
	repo = canonicalHub(repo)
	for _, p := range r.Trusted {
		if ok, err := path.Match(canonicalHub(p), repo); err == nil && ok {
			return true
		}
	}
	return false
}

// canonicalHub writes Docker Hub's registry host as "docker.io".
func canonicalHub(s string) string {
	if rest, ok := strings.CutPrefix(s, "index.docker.io/"); ok {
		return "docker.io/" + rest
	}
	return s
}

// IsFloatingTag reports whether tag is one of FloatingTags. Tags are
// case-sensitive, as registries treat them.
func (r Registries) IsFloatingTag(tag string) bool {
	for _, t := range r.FloatingTags {
		if t == tag {
			return true
		}
	}
	return false
}
