package checks

// What common controllers make from the objects they are given, for
// implied: the Prometheus operator's pods and kubelet Service, and the
// Secrets kube-webhook-certgen and contour certgen write, and istiod's CA
// ConfigMap. Labels and flags as the operator
// (pkg/prometheus/server, pkg/alertmanager, pkg/thanos, pkg/kubelet) and
// certgen (ingress-nginx' kube-webhook-certgen) set and read them.

import (
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/nodecheck"
)

// prometheusOperatorKind is a custom resource the Prometheus operator runs
// pods for (a StatefulSet, or a DaemonSet for a PrometheusAgent), and the
// labels it gives them besides app.kubernetes.io/instance and
// managed-by.
type prometheusOperatorKind struct {
	kind, app  string
	nameLabels []string // labels set to the resource's name
	sharded    bool     // operator.prometheus.io/shard: one StatefulSet per shard, "0" first
}

var prometheusOperatorKinds = []prometheusOperatorKind{
	{kind: "Prometheus", app: "prometheus", nameLabels: []string{"prometheus", "operator.prometheus.io/name"}, sharded: true},
	{kind: "PrometheusAgent", app: "prometheus-agent", nameLabels: []string{"operator.prometheus.io/name"}, sharded: true},
	{kind: "Alertmanager", app: "alertmanager", nameLabels: []string{"alertmanager"}},
	{kind: "ThanosRuler", app: "thanos-ruler", nameLabels: []string{"thanos-ruler"}},
}

// podLabels returns the labels of the pods the operator runs for o: those
// of spec.podMetadata, overridden by the operator's own.
func (k prometheusOperatorKind) podLabels(o *kube.Object) labels.Set {
	set := labels.Set{}
	if u, ok := o.Typed.(*unstructured.Unstructured); ok {
		if m, found, _ := unstructured.NestedStringMap(u.Object, "spec", "podMetadata", "labels"); found {
			maps.Copy(set, m)
		}
	}
	set["app.kubernetes.io/name"] = k.app
	set["app.kubernetes.io/managed-by"] = "prometheus-operator"
	set["app.kubernetes.io/instance"] = o.Meta.Name
	for _, l := range k.nameLabels {
		set[l] = o.Meta.Name
	}
	if k.sharded {
		set["operator.prometheus.io/shard"] = "0"
	}
	return set
}

// kubeletServiceLabels are the labels of the Service the operator keeps
// the kubelets' addresses in.
var kubeletServiceLabels = labels.Set{"k8s-app": "kubelet", "app.kubernetes.io/name": "kubelet", "app.kubernetes.io/managed-by": "prometheus-operator"}

// operatorKubeletService returns the Service a Prometheus operator
// container keeps the kubelets in: its --kubelet-service=NAMESPACE/NAME.
func operatorKubeletService(c *corev1.Container) (ns, name string, ok bool) {
	if !slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--kubelet-service") }) {
		return "", "", false // most containers: no flags parsed
	}
	v, ok := nodecheck.ParseArgs(c.Args).Get("kubelet-service")
	if !ok {
		return "", "", false
	}
	ns, name, ok = strings.Cut(v, "/")
	return ns, name, ok && ns != "" && name != ""
}

// certgenSecret returns the Secret a kube-webhook-certgen container's
// "create" command writes the webhook's certificate into
// (--secret-name in --namespace). ingress-nginx' and
// kube-prometheus-stack's charts run it as a hook Job, and mount the
// Secret in the webhook's Deployment.
func certgenSecret(c *corev1.Container) (ns, name string, ok bool) {
	if !strings.Contains(c.Image, "kube-webhook-certgen") || len(c.Args) == 0 || c.Args[0] != "create" {
		return "", "", false
	}
	flags := nodecheck.ParseArgs(c.Args)
	name, _ = flags.Get("secret-name")
	ns, _ = flags.Get("namespace")
	return ns, name, name != "" && ns != ""
}

// istioRootCertConfigMap is the ConfigMap istiod writes its root
// certificate into in every namespace, which sidecars and gateways mount
// (Istio's global.trustBundleName, by default).
const istioRootCertConfigMap = "istio-ca-root-cert"

// istiod reports whether c is Istio's control plane: the pilot image
// running "discovery".
func istiod(c *corev1.Container) bool {
	return len(c.Args) > 0 && c.Args[0] == "discovery" && strings.Contains(c.Image, "/pilot")
}

// contourCertgenSecrets returns the Secrets "contour certgen --kube"
// writes its certificates into (contourcert and envoycert; cacert too in
// the legacy format), in --namespace: projectcontour when absent, the
// pod's own when it is an env reference (charts pass $(CONTOUR_NAMESPACE)
// from the pod's metadata.namespace).
func contourCertgenSecrets(c *corev1.Container, podNS string) (ns string, names []string) {
	if !slices.Contains(c.Args, "certgen") && !slices.Contains(c.Command, "certgen") {
		return "", nil // most containers: no copy made
	}
	argv := append(slices.Clone(c.Command), c.Args...)
	i := slices.Index(argv, "certgen")
	if i < 1 || !strings.HasSuffix(argv[i-1], "contour") {
		return "", nil
	}
	flags := nodecheck.ParseArgs(argv[i+1:])
	if v, _ := flags.Get("kube"); v != "true" {
		return "", nil
	}
	ns, ok := flags.Get("namespace")
	switch {
	case !ok:
		ns = "projectcontour"
	case strings.HasPrefix(ns, "$("):
		ns = podNS
	}
	names = []string{"contourcert", "envoycert"}
	if f, _ := flags.Get("secrets-format"); f != "compact" {
		names = append(names, "cacert")
	}
	return ns, names
}

// argocdRedisSecret returns where "argocd admin redis-initial-password"
// writes the Secret argocd-redis, which Argo CD's components read the
// Redis password from: its redis Deployment runs it as an init container,
// in the pod's namespace unless --namespace (-n) names another.
func argocdRedisSecret(c *corev1.Container, podNS string) (ns string, ok bool) {
	argv := append(slices.Clone(c.Command), c.Args...)
	i := slices.Index(argv, "redis-initial-password")
	if i < 2 || argv[i-1] != "admin" || !strings.HasSuffix(argv[i-2], "argocd") {
		return "", false
	}
	flags := nodecheck.ParseArgs(argv[i+1:])
	if v, ok := flags.Get("namespace"); ok {
		return v, true
	}
	if v, ok := flags.Get("n"); ok {
		return v, true
	}
	return podNS, true
}
