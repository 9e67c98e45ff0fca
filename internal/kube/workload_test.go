package kube

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const podSpec = `containers: [{name: app, image: "x:1"}]`

// TestWorkloadOf extracts the pod spec of every workload kind, including
// API versions the client-go scheme no longer knows and OpenShift's
// DeploymentConfig, and reports where the spec is for line lookups.
func TestWorkloadOf(t *testing.T) {
	tpl := "{metadata: {labels: {a: b}}, spec: {" + podSpec + "}}"
	for _, tc := range []struct {
		kind, apiVersion, body string
		path                   []string
	}{
		{"Pod", "v1", "spec: {" + podSpec + "}", []string{"spec"}},
		{"PodTemplate", "v1", "template: " + tpl, []string{"template", "spec"}},
		{"ReplicationController", "v1", "spec: {template: " + tpl + "}", []string{"spec", "template", "spec"}},
		{"Deployment", "apps/v1", "spec: {template: " + tpl + "}", []string{"spec", "template", "spec"}},
		{"ReplicaSet", "apps/v1", "spec: {template: " + tpl + "}", []string{"spec", "template", "spec"}},
		{"StatefulSet", "apps/v1", "spec: {template: " + tpl + "}", []string{"spec", "template", "spec"}},
		{"DaemonSet", "apps/v1", "spec: {template: " + tpl + "}", []string{"spec", "template", "spec"}},
		{"Job", "batch/v1", "spec: {template: " + tpl + "}", []string{"spec", "template", "spec"}},
		{"CronJob", "batch/v1", "spec: {jobTemplate: {spec: {template: " + tpl + "}}}", []string{"spec", "jobTemplate", "spec", "template", "spec"}},
		{"CronJob", "batch/v1beta1", "spec: {jobTemplate: {spec: {template: " + tpl + "}}}", []string{"spec", "jobTemplate", "spec", "template", "spec"}},
		{"Deployment", "extensions/v1beta1", "spec: {template: " + tpl + "}", []string{"spec", "template", "spec"}},
		{"DeploymentConfig", "apps.openshift.io/v1", "spec: {template: " + tpl + "}", []string{"spec", "template", "spec"}},
	} {
		t.Run(tc.apiVersion+"/"+tc.kind, func(t *testing.T) {
			in := "apiVersion: " + tc.apiVersion + "\nkind: " + tc.kind + "\nmetadata: {name: w, namespace: ns}\n" + tc.body + "\n"
			objs, err := Decode(t.Context(), "w.yaml", []byte(in), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			w := WorkloadOf(objs[0])
			if w == nil {
				t.Fatal("not a workload")
			}
			if len(w.PodSpec.Containers) != 1 || w.PodSpec.Containers[0].Image != "x:1" || w.PodMeta.Namespace != "ns" {
				t.Errorf("workload = %+v", w)
			}
			if diff := cmp.Diff(tc.path, w.SpecPath); diff != "" {
				t.Error(diff)
			}
			if got := w.Line("containers", "0", "image"); got != 4 {
				t.Errorf("image line = %d, want 4", got)
			}
		})
	}
	objs, _ := Decode(t.Context(), "s.yaml", []byte(strings.TrimSpace("apiVersion: v1\nkind: Service\nmetadata: {name: s}")), Limits{})
	if WorkloadOf(objs[0]) != nil {
		t.Error("a Service is not a workload")
	}
}
