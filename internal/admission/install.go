package admission

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/palisade-sec/palisade/internal/policy"
)

// WebhookTimeoutSeconds is the timeout generated configurations use: long
// waits starve the control plane's lease renewals, and the handler answers
// within its own 2.5s deadline anyway.
const WebhookTimeoutSeconds = 3

// InstallOptions describes where the webhook is reachable.
type InstallOptions struct {
	// URL is the webhook's https URL (outside the cluster, or for tests).
	URL string
	// Service is "namespace/name[:port]" of the in-cluster Service.
	Service string
	// CABundle verifies the webhook's serving certificate (PEM).
	CABundle []byte
	// FailOpen sets failurePolicy Ignore instead of Fail.
	FailOpen bool
	// ExcludeNamespaces are left out by the namespaceSelector, so their
	// requests never reach the webhook at all. Cluster-scoped objects
	// (ClusterRoleBindings, …) have no namespace and are always sent; a
	// Namespace is matched on its own name.
	ExcludeNamespaces []string
	// ExtraRules are added to the validating webhook's workload rules: the
	// resources CEL policies judge (PolicyRules). The digest-pinning
	// webhook only ever changes pod templates and does not get them.
	ExtraRules []admissionregistrationv1.RuleWithOperations
}

// WebhookConfiguration returns the ValidatingWebhookConfiguration that
// routes pod and workload creates and updates to Palisade, and those of
// o.ExtraRules.
func WebhookConfiguration(o InstallOptions) (*admissionregistrationv1.ValidatingWebhookConfiguration, error) {
	c, err := common(o, Path)
	if err != nil {
		return nil, err
	}
	c.Rules = append(c.Rules, o.ExtraRules...)
	return &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: "palisade", Labels: map[string]string{"app.kubernetes.io/name": "palisade"}},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "workloads.palisade.dev", ClientConfig: c.ClientConfig, Rules: c.Rules, NamespaceSelector: c.NamespaceSelector, MatchConditions: c.MatchConditions,
			MatchPolicy: c.MatchPolicy, FailurePolicy: c.FailurePolicy, SideEffects: c.SideEffects, TimeoutSeconds: c.TimeoutSeconds,
			AdmissionReviewVersions: c.AdmissionReviewVersions,
		}},
	}, nil
}

// MutatingWebhookConfiguration returns the configuration of the
// digest-pinning webhook (admission.imageTrust.pinDigests): same rules,
// selectors, timeout and failure policy as the validating one.
// reinvocationPolicy IfNeeded runs it again when another mutating webhook
// adds a container after it, so no tag-only image slips through.
func MutatingWebhookConfiguration(o InstallOptions) (*admissionregistrationv1.MutatingWebhookConfiguration, error) {
	c, err := common(o, MutatePath)
	if err != nil {
		return nil, err
	}
	reinvoke := admissionregistrationv1.IfNeededReinvocationPolicy
	return &admissionregistrationv1.MutatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "MutatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: "palisade", Labels: map[string]string{"app.kubernetes.io/name": "palisade"}},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name: "pin-digests.palisade.dev", ClientConfig: c.ClientConfig, Rules: c.Rules, NamespaceSelector: c.NamespaceSelector, MatchConditions: c.MatchConditions,
			MatchPolicy: c.MatchPolicy, FailurePolicy: c.FailurePolicy, SideEffects: c.SideEffects, TimeoutSeconds: c.TimeoutSeconds,
			AdmissionReviewVersions: c.AdmissionReviewVersions, ReinvocationPolicy: &reinvoke,
		}},
	}, nil
}

// common builds the parts the validating and mutating webhooks share,
// with the client config pointing at path.
func common(o InstallOptions, path string) (*admissionregistrationv1.ValidatingWebhook, error) {
	cc := admissionregistrationv1.WebhookClientConfig{CABundle: o.CABundle}
	switch {
	case o.URL != "" && o.Service != "":
		return nil, errors.New("give either a URL or a Service, not both")
	case o.URL != "":
		u, err := url.Parse(o.URL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("webhook URL %q: want https://host[:port]", o.URL)
		}
		full := strings.TrimSuffix(o.URL, "/") + path
		cc.URL = &full
	case o.Service != "":
		ns, rest, ok := strings.Cut(o.Service, "/")
		if !ok || ns == "" || rest == "" {
			return nil, fmt.Errorf("service %q: want namespace/name[:port]", o.Service)
		}
		name, portStr, _ := strings.Cut(rest, ":")
		port := int32(443)
		if portStr != "" {
			if _, err := fmt.Sscanf(portStr, "%d", &port); err != nil || port <= 0 || port > 65535 {
				return nil, fmt.Errorf("service %q: bad port", o.Service)
			}
		}
		cc.Service = &admissionregistrationv1.ServiceReference{Namespace: ns, Name: name, Port: &port, Path: &path}
	default:
		return nil, errors.New("give the webhook's URL or Service")
	}
	if len(o.CABundle) == 0 {
		return nil, errors.New("a CA bundle is required: the API server must verify the webhook")
	}
	policy := admissionregistrationv1.Fail
	if o.FailOpen {
		policy = admissionregistrationv1.Ignore
	}
	none := admissionregistrationv1.SideEffectClassNone
	timeout := int32(WebhookTimeoutSeconds)
	equivalent := admissionregistrationv1.Equivalent
	return &admissionregistrationv1.ValidatingWebhook{
		ClientConfig: cc,
		Rules:        WorkloadRules(),
		NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
			Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: o.ExcludeNamespaces,
		}}},
		// No matchCondition skips controller-owned pods: ownerReferences
		// are set by whoever creates the pod, so such a shortcut would let
		// anyone bypass the webhook by forging one. Only updates that
		// change nothing a policy can judge are kept away.
		MatchConditions:         []admissionregistrationv1.MatchCondition{SkipUnchangedUpdates},
		MatchPolicy:             &equivalent,
		FailurePolicy:           &policy,
		SideEffects:             &none,
		TimeoutSeconds:          &timeout,
		AdmissionReviewVersions: []string{"v1"},
	}, nil
}

// SkipUnchangedUpdates keeps updates that leave an object's spec, labels,
// annotations, owners and finalizers as they were off the webhook: what is
// left (resourceVersion, managedFields, generation) is bookkeeping no policy
// judges, and rollouts and controllers send many such writes. Objects
// without a spec (RBAC, ConfigMaps) are always sent, since their content is
// elsewhere. The API server evaluates it before calling the webhook, so
// a skipped request costs no round trip at all.
var SkipUnchangedUpdates = admissionregistrationv1.MatchCondition{
	Name: "changed-or-not-an-update",
	Expression: `request.operation != 'UPDATE' ||
oldObject == null ||
!has(object.spec) ||
object.spec != oldObject.spec ||
(has(object.metadata.labels) ? object.metadata.labels : {}) != (has(oldObject.metadata.labels) ? oldObject.metadata.labels : {}) ||
(has(object.metadata.annotations) ? object.metadata.annotations : {}) != (has(oldObject.metadata.annotations) ? oldObject.metadata.annotations : {}) ||
(has(object.metadata.ownerReferences) ? object.metadata.ownerReferences : []) != (has(oldObject.metadata.ownerReferences) ? oldObject.metadata.ownerReferences : []) ||
(has(object.metadata.finalizers) ? object.metadata.finalizers : []) != (has(oldObject.metadata.finalizers) ? oldObject.metadata.finalizers : [])`,
}

// ParamsRBAC returns, for each params ConfigMap, a Role that may read
// exactly that ConfigMap (resourceNames: list and watch with a
// metadata.name field selector are authorized by them too) and a
// RoleBinding granting it to serviceAccount ("namespace/name"), the
// identity palisade serve runs as.
func ParamsRBAC(refs []policy.ConfigMapRef, serviceAccount string) ([]runtime.Object, error) {
	ns, name, ok := strings.Cut(serviceAccount, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("service account %q: want namespace/name", serviceAccount)
	}
	labels := map[string]string{"app.kubernetes.io/name": "palisade"}
	var out []runtime.Object
	for _, ref := range refs {
		meta := metav1.ObjectMeta{Name: "palisade-params-" + ref.Name, Namespace: ref.Namespace, Labels: labels}
		out = append(out,
			&rbacv1.Role{
				TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
				ObjectMeta: meta,
				Rules: []rbacv1.PolicyRule{{
					APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{ref.Name},
					Verbs: []string{"get", "list", "watch"},
				}},
			},
			&rbacv1.RoleBinding{
				TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
				ObjectMeta: meta,
				RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: meta.Name},
				Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: ns, Name: name}},
			})
	}
	return out, nil
}
