package posture

import (
	"fmt"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
)

// ExceptionAnnotation lets a resource's owner accept a check's risk on the
// resource itself. Its value holds one entry per line (or separated by ';'):
//
//	palisade.dev/exceptions: "host-network,host-port: CNI agent needs the host network"
//
// check IDs joined by ',', then ':' and the reason, which is required. On a
// workload, the object's and the pod template's annotations both count.
// Options.IgnoreAnnotationExceptions switches the annotation off.
const ExceptionAnnotation = "palisade.dev/exceptions"

type annotationExceptions struct {
	off      bool
	parsed   map[*kube.Object]map[string]string
	warned   map[*kube.Object]bool
	warnings []string
}

func newAnnotationExceptions(off bool) *annotationExceptions {
	return &annotationExceptions{off: off, parsed: map[*kube.Object]map[string]string{}, warned: map[*kube.Object]bool{}}
}

// apply marks f excepted when o (or, for a workload, its pod template)
// excepts check id.
func (a *annotationExceptions) apply(id string, o *kube.Object, w *kube.Workload, f *finding.Finding) {
	if a.off || o == nil {
		return
	}
	reasons, ok := a.parsed[o]
	if !ok {
		var errs []string
		reasons, errs = ParseExceptionAnnotation(o.Meta.Annotations[ExceptionAnnotation])
		// The reasons are cached per object, so the pod template's must be
		// read whichever check reports on o first: an object or inventory
		// check reporting on a workload passes no Workload.
		if w == nil || w.Object != o {
			w = kube.WorkloadOf(o)
		}
		if w != nil && w.Object == o {
			more, errs2 := ParseExceptionAnnotation(w.PodMeta.Annotations[ExceptionAnnotation])
			for k, v := range more {
				if _, dup := reasons[k]; !dup {
					reasons[k] = v
				}
			}
			errs = append(errs, errs2...)
		}
		a.parsed[o] = reasons
		if len(errs) > 0 && !a.warned[o] {
			a.warned[o] = true
			for _, e := range errs {
				a.warnings = append(a.warnings, fmt.Sprintf("%s: annotation %s: %s (ignored)", o.Ref, ExceptionAnnotation, e))
			}
		}
	}
	reason, ok := reasons[id]
	if !ok {
		return
	}
	f.Status = finding.StatusExcepted
	f.Exception = &finding.ExceptionRef{
		ID:     "annotation:" + id,
		Owner:  "annotation " + ExceptionAnnotation + " on " + o.Ref.String(),
		Reason: reason,
	}
}

// ParseExceptionAnnotation parses the value of ExceptionAnnotation into
// check ID → reason. Entries without a reason or check ID are returned as
// problems, not applied: an exception must say why.
func ParseExceptionAnnotation(v string) (map[string]string, []string) {
	out := map[string]string{}
	if strings.TrimSpace(v) == "" {
		return out, nil
	}
	var problems []string
	for _, entry := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == ';' }) {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		ids, reason, found := strings.Cut(entry, ":")
		reason = strings.TrimSpace(reason)
		if !found || reason == "" {
			problems = append(problems, fmt.Sprintf("entry %q has no reason (want \"check-id[,check-id]: reason\")", entry))
			continue
		}
		for _, id := range strings.Split(ids, ",") {
			id = strings.TrimPrefix(strings.TrimSpace(id), RulePrefix)
			if !checkIDPattern.MatchString(id) {
				problems = append(problems, fmt.Sprintf("entry %q: %q is not a check ID", entry, id))
				continue
			}
			out[id] = reason
		}
	}
	return out, problems
}
