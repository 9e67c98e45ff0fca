package posture

import (
	"testing"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
)

// TestAnnotationExceptionsTemplateFirstSeenWithoutWorkload: an exception in
// a Deployment's pod template applies even when the first finding on the
// Deployment comes from a check that passes no Workload (object and
// inventory checks), since reasons are cached per object.
func TestAnnotationExceptionsTemplateFirstSeenWithoutWorkload(t *testing.T) {
	const doc = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {palisade.dev/exceptions: "run-as-root: vendor image, ticket SEC-12"}
    spec: {containers: [{name: app, image: web:1}]}
`
	objs, err := kube.Decode(t.Context(), "web.yaml", []byte(doc), kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	o := objs[0]
	w := kube.WorkloadOf(o)
	a := newAnnotationExceptions(false)
	var first, second finding.Finding
	a.apply("internet-exposed-workload", o, nil, &first) // no Workload, caches o's reasons
	a.apply("run-as-root", o, w, &second)
	if first.Status == finding.StatusExcepted {
		t.Errorf("internet-exposed-workload excepted: %+v", first.Exception)
	}
	if second.Status != finding.StatusExcepted {
		t.Errorf("run-as-root not excepted by the pod template's annotation")
	}
	var third finding.Finding
	b := newAnnotationExceptions(false)
	b.apply("run-as-root", o, nil, &third)
	if third.Status != finding.StatusExcepted {
		t.Errorf("run-as-root on the Deployment without a Workload not excepted by its template")
	}
}
