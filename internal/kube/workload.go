package kube

import (
	"iter"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Workload is a pod spec and the object it came from: a Pod, or the pod
// template of a Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
// CronJob, ReplicationController, PodTemplate, or of a custom resource
// whose controller creates Pods from it (CustomWorkloadKinds).
type Workload struct {
	// Object is the object holding the pod spec.
	Object *Object
	// PodMeta is the pod's metadata: the Pod's own, or the template's. Its
	// namespace is the object's, since templates rarely set one.
	PodMeta metav1.ObjectMeta
	// PodSpec is the pod spec; never nil.
	PodSpec *corev1.PodSpec
	// SpecPath is the path from the object's root to the pod spec, such as
	// ["spec", "template", "spec"], for Object.Line.
	SpecPath []string
}

// Line returns the line of the field at path below the pod spec.
func (w *Workload) Line(path ...string) int {
	full := make([]string, 0, len(w.SpecPath)+len(path))
	full = append(full, w.SpecPath...)
	full = append(full, path...)
	return w.Object.Line(full...)
}

// Path returns the path below the pod spec of a container listed by
// AllContainers: ("containers", "0"), ("initContainers", "1"), …
func (c ContainerRef) Path(field ...string) []string {
	return c.AppendPath(make([]string, 0, 2+len(field)), field...)
}

// AppendPath appends Path(field...) to dst.
func (c ContainerRef) AppendPath(dst []string, field ...string) []string {
	return append(append(dst, c.List, strconv.Itoa(c.Index)), field...)
}

// ContainerRef is one container of a pod spec, with where it is listed.
type ContainerRef struct {
	List  string // "containers", "initContainers" or "ephemeralContainers"
	Index int
	// Container is the container; for an ephemeral container, its common part.
	Container *corev1.Container
}

// AllContainers returns the init, regular and ephemeral containers of w, in
// that order.
func (w *Workload) AllContainers() []ContainerRef {
	s := w.PodSpec
	out := make([]ContainerRef, 0, len(s.InitContainers)+len(s.Containers)+len(s.EphemeralContainers))
	return slices.AppendSeq(out, w.Containers())
}

// Containers yields what AllContainers returns, without a slice: a scan
// visits every workload's containers once per container check.
func (w *Workload) Containers() iter.Seq[ContainerRef] {
	return func(yield func(ContainerRef) bool) {
		s := w.PodSpec
		for i := range s.InitContainers {
			if !yield(ContainerRef{List: "initContainers", Index: i, Container: &s.InitContainers[i]}) {
				return
			}
		}
		for i := range s.Containers {
			if !yield(ContainerRef{List: "containers", Index: i, Container: &s.Containers[i]}) {
				return
			}
		}
		for i := range s.EphemeralContainers {
			c := corev1.Container(s.EphemeralContainers[i].EphemeralContainerCommon)
			if !yield(ContainerRef{List: "ephemeralContainers", Index: i, Container: &c}) {
				return
			}
		}
	}
}

// PodKinds are the built-in kinds that run pods, which a live scan lists:
// a check that looks for the pods a selector matches needs every one.
// Checks' kind lists extend it (in this order) with kinds of other APIs.
func PodKinds() []string {
	return []string{"Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicationController"}
}

// WorkloadOf returns the workload o holds, or nil when o is not a workload kind.
func WorkloadOf(o *Object) *Workload {
	if o == nil || o.Typed == nil {
		return nil
	}
	var (
		meta *metav1.ObjectMeta
		spec *corev1.PodSpec
		path []string
	)
	switch t := o.Typed.(type) {
	case *corev1.Pod:
		meta, spec, path = &t.ObjectMeta, &t.Spec, []string{"spec"}
	case *corev1.PodTemplate:
		meta, spec, path = &t.Template.ObjectMeta, &t.Template.Spec, []string{"template", "spec"}
	case *corev1.ReplicationController:
		if t.Spec.Template == nil {
			return nil
		}
		meta, spec, path = &t.Spec.Template.ObjectMeta, &t.Spec.Template.Spec, []string{"spec", "template", "spec"}
	case *appsv1.Deployment:
		meta, spec, path = &t.Spec.Template.ObjectMeta, &t.Spec.Template.Spec, []string{"spec", "template", "spec"}
	case *appsv1.ReplicaSet:
		meta, spec, path = &t.Spec.Template.ObjectMeta, &t.Spec.Template.Spec, []string{"spec", "template", "spec"}
	case *appsv1.StatefulSet:
		meta, spec, path = &t.Spec.Template.ObjectMeta, &t.Spec.Template.Spec, []string{"spec", "template", "spec"}
	case *appsv1.DaemonSet:
		meta, spec, path = &t.Spec.Template.ObjectMeta, &t.Spec.Template.Spec, []string{"spec", "template", "spec"}
	case *batchv1.Job:
		meta, spec, path = &t.Spec.Template.ObjectMeta, &t.Spec.Template.Spec, []string{"spec", "template", "spec"}
	case *batchv1.CronJob:
		tpl := &t.Spec.JobTemplate.Spec.Template
		meta, spec, path = &tpl.ObjectMeta, &tpl.Spec, []string{"spec", "jobTemplate", "spec", "template", "spec"}
	case *unstructured.Unstructured:
		return unstructuredWorkload(o, t)
	default:
		// An older API version of a workload kind (batch/v1beta1 CronJob,
		// extensions/v1beta1 Deployment): same template, other Go type.
		if _, ok := templatePaths[o.Ref.Kind]; !ok || o.Typed == nil {
			return nil
		}
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o.Typed)
		if err != nil {
			return nil
		}
		return unstructuredWorkload(o, &unstructured.Unstructured{Object: m})
	}
	pm := *meta
	pm.Namespace = o.Meta.Namespace
	if pm.Name == "" {
		pm.Name = o.Meta.Name
	}
	return &Workload{Object: o, PodMeta: pm, PodSpec: spec, SpecPath: path}
}

// templatePaths gives, per workload kind, where the pod template sits. It
// serves objects the client-go scheme does not know: removed API versions
// (extensions/v1beta1 Deployment, batch/v1beta1 CronJob), OpenShift
// DeploymentConfig, and misdeclared ones (a Deployment with apiVersion v1),
// which clusters refuse but manifests still carry.
var templatePaths = map[string][]string{
	"Deployment":            {"spec", "template"},
	"ReplicaSet":            {"spec", "template"},
	"StatefulSet":           {"spec", "template"},
	"DaemonSet":             {"spec", "template"},
	"Job":                   {"spec", "template"},
	"ReplicationController": {"spec", "template"},
	"DeploymentConfig":      {"spec", "template"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template"},
	"PodTemplate":           {"template"},
	"Pod":                   nil,
}

// unstructuredWorkload extracts the pod template of a workload kind the
// scheme does not know, by decoding that part into the core types.
func unstructuredWorkload(o *Object, u *unstructured.Unstructured) *Workload {
	path, ok := customTemplatePath(o.Ref)
	if !ok {
		path, ok = templatePaths[o.Ref.Kind]
	}
	if !ok {
		return nil
	}
	var tpl corev1.PodTemplateSpec
	if path == nil {
		m, _, _ := unstructured.NestedMap(u.Object, "metadata")
		s, found, _ := unstructured.NestedMap(u.Object, "spec")
		if !found {
			return nil
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(map[string]any{"metadata": m, "spec": s}, &tpl); err != nil {
			return nil
		}
	} else {
		m, found, err := unstructured.NestedMap(u.Object, path...)
		if !found || err != nil {
			return nil
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &tpl); err != nil {
			return nil
		}
	}
	pm := tpl.ObjectMeta
	pm.Namespace = o.Meta.Namespace
	if pm.Name == "" {
		pm.Name = o.Meta.Name
	}
	applyControllerDefaults(o.Ref, &pm, &tpl.Spec)
	return &Workload{Object: o, PodMeta: pm, PodSpec: &tpl.Spec, SpecPath: append(append([]string{}, path...), "spec")}
}
