package admission

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	// requests never reach the webhook at all.
	ExcludeNamespaces []string
}

// WebhookConfiguration returns the ValidatingWebhookConfiguration that
// routes pod and workload creates and updates to Palisade.
func WebhookConfiguration(o InstallOptions) (*admissionregistrationv1.ValidatingWebhookConfiguration, error) {
	c, err := common(o, Path)
	if err != nil {
		return nil, err
	}
	return &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: "palisade", Labels: map[string]string{"app.kubernetes.io/name": "palisade"}},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "workloads.palisade.dev", ClientConfig: c.ClientConfig, Rules: c.Rules, NamespaceSelector: c.NamespaceSelector,
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
			Name: "pin-digests.palisade.dev", ClientConfig: c.ClientConfig, Rules: c.Rules, NamespaceSelector: c.NamespaceSelector,
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
	ops := []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update}
	return &admissionregistrationv1.ValidatingWebhook{
		ClientConfig: cc,
		Rules: []admissionregistrationv1.RuleWithOperations{
			{Operations: ops, Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods", "pods/ephemeralcontainers", "replicationcontrollers", "podtemplates"}}},
			{Operations: ops, Rule: admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments", "replicasets", "statefulsets", "daemonsets"}}},
			{Operations: ops, Rule: admissionregistrationv1.Rule{APIGroups: []string{"batch"}, APIVersions: []string{"v1"}, Resources: []string{"jobs", "cronjobs"}}},
		},
		NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
			Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: o.ExcludeNamespaces,
		}}},
		// No matchCondition skips controller-owned pods: ownerReferences
		// are set by whoever creates the pod, so such a shortcut would let
		// anyone bypass the webhook by forging one.
		MatchPolicy:             &equivalent,
		FailurePolicy:           &policy,
		SideEffects:             &none,
		TimeoutSeconds:          &timeout,
		AdmissionReviewVersions: []string{"v1"},
	}, nil
}
