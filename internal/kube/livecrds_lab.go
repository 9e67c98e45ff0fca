package kube

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// MinimalCRD returns a CustomResourceDefinition (apiextensions.k8s.io/v1)
// that serves and stores the kind at version, with a structural schema that
// keeps every field: what tests and benchmarks install on a bare API server
// in place of the project's own CRD, whose schemas posture never needs.
func (k CRDKind) MinimalCRD(version string) *unstructured.Unstructured {
	scope := "Cluster"
	if k.Namespaced {
		scope = "Namespaced"
	}
	meta := map[string]any{"name": k.Resource + "." + k.Group}
	if k.Group == "k8s.io" || strings.HasSuffix(k.Group, ".k8s.io") {
		// The API server refuses CRDs in *.k8s.io groups without it; the
		// Gateway API's own CRDs carry this one.
		meta["annotations"] = map[string]any{"api-approved.kubernetes.io": "https://github.com/kubernetes-sigs/gateway-api/pull/1538"}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   meta,
		"spec": map[string]any{
			"group": k.Group,
			"scope": scope,
			"names": map[string]any{
				"kind": k.Kind, "listKind": k.Kind + "List", "plural": k.Resource, "singular": strings.ToLower(k.Kind),
			},
			"versions": []any{map[string]any{
				"name": version, "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object", "x-kubernetes-preserve-unknown-fields": true,
				}},
			}},
		},
	}}
}

// InstallLabCRDs creates MinimalCRD for each kind at its first version
// and waits until discovery serves every one of them: what tests and
// benchmarks do before creating custom objects on a bare API server.
func InstallLabCRDs(ctx context.Context, cfg *rest.Config, kinds []CRDKind) error {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("install CRDs: %w", err)
	}
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	want := map[string]bool{}
	for _, k := range kinds {
		crd := k.MinimalCRD(k.Versions[0])
		if _, err := crds.Create(ctx, crd, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create CRD %s: %w", crd.GetName(), err)
		}
		want[k.Group+"/"+k.Kind] = true
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("install CRDs: %w", err)
	}
	rc := cs.Discovery().RESTClient()
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		served, err := ServedCRDKinds(ctx, rc)
		if err != nil {
			return false, nil
		}
		n := 0
		for _, lk := range served {
			if want[lk.GVK.Group+"/"+lk.GVK.Kind] {
				n++
			}
		}
		return n == len(want), nil
	})
	if err != nil {
		return fmt.Errorf("the CRDs were not served within a minute: %w", err)
	}
	return nil
}
