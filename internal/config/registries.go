package config

import "path"

// IsTrusted reports whether repository repo (registry host and path, with
// no tag or digest, such as "ghcr.io/acme/app") matches a Trusted pattern.
// With no patterns every repository is trusted. Docker Hub short names are
// not expanded here; callers pass the normalized name
// ("docker.io/library/nginx").
func (r Registries) IsTrusted(repo string) bool {
	if len(r.Trusted) == 0 {
		return true
	}
	for _, p := range r.Trusted {
		if ok, err := path.Match(p, repo); err == nil && ok {
			return true
		}
	}
	return false
}
