package checks

import "github.com/palisade-sec/palisade/internal/posture"

// All returns every posture check, in the order reports list them. Add a
// check here and in testdata/<id>/; never remove or rename one.
func All() []posture.Check {
	return []posture.Check{
		PSSBaseline(),
		PSSRestricted(),
		Privileged(),
		RunAsRoot(),
		AllowPrivilegeEscalation(),
		DangerousCapabilities(),
		DropAllCapabilities(),
		HostNamespaces(),
		HostPath(),
		HostPort(),
		ReadOnlyRootFilesystem(),
		Resources(),
		Probes(),
		ImageTag(),
		UntrustedRegistry(),
		DefaultServiceAccount(),
		AutomountServiceAccountToken(),
		EnvSecretLiteral(),
		DefaultNamespace(),
		RBACWildcard(),
		RBACClusterAdminBinding(),
		RBACEscalationVerbs(),
		RBACSecretsRead(),
		RBACPodsExec(),
		RBACPodCreate(),
		RBACNodesProxy(),
		RBACCSRApproval(),
		RBACTokenCreate(),
		RBACAnonymousBinding(),
		RBACDefaultServiceAccountBinding(),
		NetworkDefaultDeny(),
		ServiceExposed(),
		IngressTLS(),
		NamespaceResourceQuota(),
		NamespaceLimitRange(),
		NamespacePSALabels(),
		ConfigMapSecrets(),
		InternetExposedWorkload(),
		OutdatedVersion(),
		EndOfSupport(),
		DeprecatedAPI(),
		RemovedAPI(),
	}
}
