package kube

import "strings"

// HelmHookAnnotation names the Helm hooks an object is: Helm creates it
// for those events only (install, upgrade, delete, rollback, test), apart
// from the release's objects, and deletes it as its hook-delete-policy
// says. `helm template` renders hooks with everything else.
const HelmHookAnnotation = "helm.sh/hook"

// HelmHooks returns the hook events of o's helm.sh/hook annotation
// ("pre-install", "test", …), trimmed and lower-cased; nil when o is not
// a hook.
func HelmHooks(o *Object) []string {
	v, ok := o.Meta.Annotations[HelmHookAnnotation]
	if !ok {
		return nil
	}
	var out []string
	for h := range strings.SplitSeq(v, ",") {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			out = append(out, h)
		}
	}
	return out
}

// IsHelmHook reports whether o is a Helm hook of any event.
func IsHelmHook(o *Object) bool { return len(HelmHooks(o)) > 0 }

// IsHelmTest reports whether o is a chart's test, run by `helm test` only:
// a hook "test" (Helm 2's "test-success" and "test-failure" too, which
// charts still carry). `helm template --skip-tests` leaves these out.
func IsHelmTest(o *Object) bool {
	for _, h := range HelmHooks(o) {
		switch h {
		case "test", "test-success", "test-failure":
			return true
		}
	}
	return false
}
