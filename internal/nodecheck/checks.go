package nodecheck

import (
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
)

// Severities: a setting that lets anyone in is high, one that weakens a
// defence medium, hygiene low.
const (
	high   = finding.SeverityHigh
	medium = finding.SeverityMedium
	low    = finding.SeverityLow
)

var (
	kubeletAnon    = setting{flag: "anonymous-auth", field: "authentication.anonymous.enabled", def: "true", cfgDef: "false"}
	kubeletAuthz   = setting{flag: "authorization-mode", field: "authorization.mode", def: "AlwaysAllow", cfgDef: "Webhook"}
	kubeletCA      = setting{flag: "client-ca-file", field: "authentication.x509.clientCAFile"}
	kubeletROPort  = setting{flag: "read-only-port", field: "readOnlyPort", def: "10255", cfgDef: "0"}
	kubeletIdle    = setting{flag: "streaming-connection-idle-timeout", field: "streamingConnectionIdleTimeout", def: "4h0m0s"}
	kubeletKernel  = setting{flag: "protect-kernel-defaults", field: "protectKernelDefaults", def: "false"}
	kubeletIPT     = setting{flag: "make-iptables-util-chains", field: "makeIPTablesUtilChains", def: "true"}
	kubeletQPS     = setting{flag: "event-qps", field: "eventRecordQPS", def: "50"}
	kubeletRotate  = setting{flag: "rotate-certificates", field: "rotateCertificates", def: "false"}
	kubeletCiphers = setting{flag: "tls-cipher-suites", field: "tlsCipherSuites"}
	kubeletKubecfg = setting{flag: "kubeconfig"}
	proxyKubecfg   = setting{flag: "kubeconfig"}
	// apiServerCipherFlag is judged by node/apiserver-tls-ciphers and, for
	// pinned posture versions, WithAEADAPIServerCiphers.
	apiServerCipherFlag = setting{flag: "tls-cipher-suites"}
)

func flg(name, def string) setting { return setting{flag: name, def: def} }

// All returns every check, in benchmark order. The list is explicit: no
// registration by init.
func All() []Check {
	m := func(name string) pathsFunc { return fixed(manifestDir + "/" + name + ".yaml") }
	plugins := flg("enable-admission-plugins", "")
	disabled := flg("disable-admission-plugins", "")
	authz := flg("authorization-mode", "AlwaysAllow")
	return []Check{
		// 1.1 Control plane node configuration files.
		{ID: "node/apiserver-manifest-permissions", CIS: "1.1.1", Component: ControlPlane, Title: "API server pod specification file permissions are 600 or stricter", Severity: medium, Eval: perm(m(APIServer), 0o600), Remediation: "chmod 600 " + manifestDir + "/kube-apiserver.yaml"},
		{ID: "node/apiserver-manifest-owner", CIS: "1.1.2", Component: ControlPlane, Title: "API server pod specification file is owned by root:root", Severity: medium, Eval: owner(m(APIServer), "root:root"), Remediation: "chown root:root " + manifestDir + "/kube-apiserver.yaml"},
		{ID: "node/controller-manager-manifest-permissions", CIS: "1.1.3", Component: ControlPlane, Title: "Controller manager pod specification file permissions are 600 or stricter", Severity: medium, Eval: perm(m(ControllerManager), 0o600), Remediation: "chmod 600 " + manifestDir + "/kube-controller-manager.yaml"},
		{ID: "node/controller-manager-manifest-owner", CIS: "1.1.4", Component: ControlPlane, Title: "Controller manager pod specification file is owned by root:root", Severity: medium, Eval: owner(m(ControllerManager), "root:root"), Remediation: "chown root:root " + manifestDir + "/kube-controller-manager.yaml"},
		{ID: "node/scheduler-manifest-permissions", CIS: "1.1.5", Component: ControlPlane, Title: "Scheduler pod specification file permissions are 600 or stricter", Severity: medium, Eval: perm(m(Scheduler), 0o600), Remediation: "chmod 600 " + manifestDir + "/kube-scheduler.yaml"},
		{ID: "node/scheduler-manifest-owner", CIS: "1.1.6", Component: ControlPlane, Title: "Scheduler pod specification file is owned by root:root", Severity: medium, Eval: owner(m(Scheduler), "root:root"), Remediation: "chown root:root " + manifestDir + "/kube-scheduler.yaml"},
		{ID: "node/etcd-manifest-permissions", CIS: "1.1.7", Component: ControlPlane, Title: "etcd pod specification file permissions are 600 or stricter", Severity: medium, Eval: perm(m(Etcd), 0o600), Remediation: "chmod 600 " + manifestDir + "/etcd.yaml"},
		{ID: "node/etcd-manifest-owner", CIS: "1.1.8", Component: ControlPlane, Title: "etcd pod specification file is owned by root:root", Severity: medium, Eval: owner(m(Etcd), "root:root"), Remediation: "chown root:root " + manifestDir + "/etcd.yaml"},
		{ID: "node/cni-config-permissions", CIS: "1.1.9", Component: ControlPlane, Title: "CNI configuration files permissions are 600 or stricter", Severity: medium, Eval: perm(cniFiles, 0o600), Remediation: "chmod 600 " + cniConfDir + "/*", Manual: "a CNI plugin that rewrites its configuration may reset the mode."},
		{ID: "node/cni-config-owner", CIS: "1.1.10", Component: ControlPlane, Title: "CNI configuration files are owned by root:root", Severity: medium, Eval: owner(cniFiles, "root:root"), Remediation: "chown root:root " + cniConfDir + "/*", Manual: "a CNI plugin that rewrites its configuration may reset the owner."},
		{ID: "node/etcd-data-dir-permissions", CIS: "1.1.11", Component: ControlPlane, Title: "etcd data directory permissions are 700 or stricter", Severity: high, Eval: perm(etcdDataDir, 0o700), Remediation: "chmod 700 on etcd's --data-dir (default /var/lib/etcd)"},
		{ID: "node/etcd-data-dir-owner", CIS: "1.1.12", Component: ControlPlane, Title: "etcd data directory is owned by etcd:etcd", Severity: medium, Eval: owner(etcdDataDir, "etcd:etcd"), Remediation: "chown etcd:etcd on etcd's --data-dir (default /var/lib/etcd)"},
		{ID: "node/admin-kubeconfig-permissions", CIS: "1.1.13", Component: ControlPlane, Title: "Administrative kubeconfig files permissions are 600", Severity: high, Eval: perm(fixed("/etc/kubernetes/admin.conf", "/etc/kubernetes/super-admin.conf"), 0o600), Remediation: "chmod 600 /etc/kubernetes/admin.conf /etc/kubernetes/super-admin.conf"},
		{ID: "node/admin-kubeconfig-owner", CIS: "1.1.14", Component: ControlPlane, Title: "Administrative kubeconfig files are owned by root:root", Severity: high, Eval: owner(fixed("/etc/kubernetes/admin.conf", "/etc/kubernetes/super-admin.conf"), "root:root"), Remediation: "chown root:root /etc/kubernetes/admin.conf /etc/kubernetes/super-admin.conf"},
		{ID: "node/scheduler-kubeconfig-permissions", CIS: "1.1.15", Component: ControlPlane, Title: "scheduler.conf permissions are 600 or stricter", Severity: medium, Eval: perm(fixed("/etc/kubernetes/scheduler.conf"), 0o600), Remediation: "chmod 600 /etc/kubernetes/scheduler.conf"},
		{ID: "node/scheduler-kubeconfig-owner", CIS: "1.1.16", Component: ControlPlane, Title: "scheduler.conf is owned by root:root", Severity: medium, Eval: owner(fixed("/etc/kubernetes/scheduler.conf"), "root:root"), Remediation: "chown root:root /etc/kubernetes/scheduler.conf"},
		{ID: "node/controller-manager-kubeconfig-permissions", CIS: "1.1.17", Component: ControlPlane, Title: "controller-manager.conf permissions are 600 or stricter", Severity: medium, Eval: perm(fixed("/etc/kubernetes/controller-manager.conf"), 0o600), Remediation: "chmod 600 /etc/kubernetes/controller-manager.conf"},
		{ID: "node/controller-manager-kubeconfig-owner", CIS: "1.1.18", Component: ControlPlane, Title: "controller-manager.conf is owned by root:root", Severity: medium, Eval: owner(fixed("/etc/kubernetes/controller-manager.conf"), "root:root"), Remediation: "chown root:root /etc/kubernetes/controller-manager.conf"},
		{ID: "node/pki-owner", CIS: "1.1.19", Component: ControlPlane, Title: "PKI directory and files are owned by root:root", Severity: medium, Eval: owner(pki(""), "root:root"), Remediation: "chown -R root:root " + pkiDir},
		{ID: "node/pki-cert-permissions", CIS: "1.1.20", Component: ControlPlane, Title: "PKI certificate files permissions are 600 or stricter", Severity: low, Eval: perm(pki(".crt"), 0o600), Remediation: "chmod 600 " + pkiDir + "/*.crt"},
		{ID: "node/pki-key-permissions", CIS: "1.1.21", Component: ControlPlane, Title: "PKI key files permissions are 600", Severity: high, Eval: perm(pki(".key"), 0o600), Remediation: "chmod 600 " + pkiDir + "/*.key"},

		// 1.2 API server.
		{ID: "node/apiserver-anonymous-auth", CIS: "1.2.1", Component: APIServer, Title: "API server --anonymous-auth is false", Severity: medium, Eval: wantBool(flg("anonymous-auth", "true"), false), Remediation: "Set --anonymous-auth=false."},
		{ID: "node/apiserver-token-auth-file", CIS: "1.2.2", Component: APIServer, Title: "API server --token-auth-file is not set", Severity: high, Eval: notSet(flg("token-auth-file", "")), Remediation: "Use another authentication method and remove --token-auth-file: static tokens never expire."},
		{ID: "node/apiserver-deny-service-external-ips", CIS: "1.2.3", Component: APIServer, Title: "Admission plugin DenyServiceExternalIPs is enabled", Severity: low, Eval: listHas(plugins, "DenyServiceExternalIPs", true), Manual: "a cluster whose Services need spec.externalIPs may leave the plugin off if it restricts who can set them (CVE-2020-8554)", Remediation: "Add DenyServiceExternalIPs to --enable-admission-plugins: anyone who may create a Service can otherwise claim any external IP and intercept its traffic (CVE-2020-8554)."},
		{ID: "node/apiserver-kubelet-client-cert", CIS: "1.2.4", Component: APIServer, Title: "API server --kubelet-client-certificate and --kubelet-client-key are set", Severity: medium, Eval: isSet(flg("kubelet-client-certificate", ""), flg("kubelet-client-key", "")), Remediation: "Set --kubelet-client-certificate and --kubelet-client-key."},
		{ID: "node/apiserver-kubelet-ca", CIS: "1.2.5", Component: APIServer, Title: "API server --kubelet-certificate-authority is set", Severity: medium, Eval: isSet(flg("kubelet-certificate-authority", "")), Remediation: "Set --kubelet-certificate-authority to the CA that signs kubelet serving certificates."},
		{ID: "node/apiserver-authz-not-always-allow", CIS: "1.2.6", Component: APIServer, Title: "API server --authorization-mode is not AlwaysAllow", Severity: high, Eval: listHas(authz, "AlwaysAllow", false), Remediation: "Set --authorization-mode=Node,RBAC."},
		{ID: "node/apiserver-authz-node", CIS: "1.2.7", Component: APIServer, Title: "API server --authorization-mode includes Node", Severity: medium, Eval: listHas(authz, "Node", true), Remediation: "Set --authorization-mode=Node,RBAC."},
		{ID: "node/apiserver-authz-rbac", CIS: "1.2.8", Component: APIServer, Title: "API server --authorization-mode includes RBAC", Severity: high, Eval: listHas(authz, "RBAC", true), Remediation: "Set --authorization-mode=Node,RBAC."},
		{ID: "node/apiserver-event-rate-limit", CIS: "1.2.9", Component: APIServer, Title: "Admission plugin EventRateLimit is enabled", Severity: low, Eval: listHas(plugins, "EventRateLimit", true), Manual: "the limits in the --admission-control-config-file must suit the cluster's event volume", Remediation: "Add EventRateLimit to --enable-admission-plugins and set its limits in the --admission-control-config-file, so no client can flood the API server and etcd with events."},
		{ID: "node/apiserver-always-admit", CIS: "1.2.10", Component: APIServer, Title: "Admission plugin AlwaysAdmit is not enabled", Severity: high, Eval: listHas(plugins, "AlwaysAdmit", false), Remediation: "Remove AlwaysAdmit from --enable-admission-plugins."},
		{ID: "node/apiserver-always-pull-images", CIS: "1.2.11", Component: APIServer, Title: "Admission plugin AlwaysPullImages is enabled", Severity: low, Eval: listHas(plugins, "AlwaysPullImages", true), Manual: "it matters where tenants share nodes (a pod can otherwise run another tenant's cached private image) and makes every pod start depend on the registry", Remediation: "Add AlwaysPullImages to --enable-admission-plugins, so a pod runs a private image only with the credentials to pull it."},
		{ID: "node/apiserver-service-account-plugin", CIS: "1.2.12", Component: APIServer, Title: "Admission plugin ServiceAccount is not disabled", Severity: medium, Eval: listHas(disabled, "ServiceAccount", false), Remediation: "Remove ServiceAccount from --disable-admission-plugins."},
		{ID: "node/apiserver-namespace-lifecycle-plugin", CIS: "1.2.13", Component: APIServer, Title: "Admission plugin NamespaceLifecycle is not disabled", Severity: medium, Eval: listHas(disabled, "NamespaceLifecycle", false), Remediation: "Remove NamespaceLifecycle from --disable-admission-plugins."},
		{ID: "node/apiserver-node-restriction", CIS: "1.2.14", Component: APIServer, Title: "Admission plugin NodeRestriction is enabled", Severity: medium, Eval: listHas(plugins, "NodeRestriction", true), Remediation: "Add NodeRestriction to --enable-admission-plugins."},
		{ID: "node/apiserver-profiling", CIS: "1.2.15", Component: APIServer, Title: "API server --profiling is false", Severity: low, Eval: wantBool(flg("profiling", "true"), false), Remediation: "Set --profiling=false."},
		{ID: "node/apiserver-audit-log-path", CIS: "1.2.16", Component: APIServer, Title: "API server --audit-log-path is set", Severity: medium, Eval: isSet(flg("audit-log-path", "")), Remediation: "Set --audit-log-path (and an --audit-policy-file)."},
		{ID: "node/apiserver-audit-log-maxage", CIS: "1.2.17", Component: APIServer, Title: "API server --audit-log-maxage is 30 or more", Severity: low, Eval: atLeast(flg("audit-log-maxage", ""), 30), Remediation: "Set --audit-log-maxage=30."},
		{ID: "node/apiserver-audit-log-maxbackup", CIS: "1.2.18", Component: APIServer, Title: "API server --audit-log-maxbackup is 10 or more", Severity: low, Eval: atLeast(flg("audit-log-maxbackup", ""), 10), Remediation: "Set --audit-log-maxbackup=10."},
		{ID: "node/apiserver-audit-log-maxsize", CIS: "1.2.19", Component: APIServer, Title: "API server --audit-log-maxsize is 100 or more", Severity: low, Eval: atLeast(flg("audit-log-maxsize", ""), 100), Remediation: "Set --audit-log-maxsize=100."},
		{ID: "node/apiserver-request-timeout", CIS: "1.2.20", Component: APIServer, Title: "API server --request-timeout is set as appropriate", Severity: low, Eval: nonZeroDuration(flg("request-timeout", "1m0s")), Remediation: "Leave --request-timeout at its default (60s) or set a positive duration."},
		{ID: "node/apiserver-service-account-lookup", CIS: "1.2.21", Component: APIServer, Title: "API server --service-account-lookup is true", Severity: medium, Eval: wantBool(flg("service-account-lookup", "true"), true), Remediation: "Remove --service-account-lookup=false: deleted service accounts' tokens stay valid otherwise."},
		{ID: "node/apiserver-service-account-key-file", CIS: "1.2.22", Component: APIServer, Title: "API server --service-account-key-file is set", Severity: medium, Eval: isSet(flg("service-account-key-file", "")), Remediation: "Set --service-account-key-file to the service account public key."},
		{ID: "node/apiserver-etcd-client-cert", CIS: "1.2.23", Component: APIServer, Title: "API server --etcd-certfile and --etcd-keyfile are set", Severity: high, Eval: isSet(flg("etcd-certfile", ""), flg("etcd-keyfile", "")), Remediation: "Set --etcd-certfile and --etcd-keyfile: etcd should only accept the API server's certificate."},
		{ID: "node/apiserver-tls-cert", CIS: "1.2.24", Component: APIServer, Title: "API server --tls-cert-file and --tls-private-key-file are set", Severity: medium, Eval: isSet(flg("tls-cert-file", ""), flg("tls-private-key-file", "")), Remediation: "Set --tls-cert-file and --tls-private-key-file."},
		{ID: "node/apiserver-client-ca", CIS: "1.2.25", Component: APIServer, Title: "API server --client-ca-file is set", Severity: medium, Eval: isSet(flg("client-ca-file", "")), Remediation: "Set --client-ca-file."},
		{ID: "node/apiserver-etcd-ca", CIS: "1.2.26", Component: APIServer, Title: "API server --etcd-cafile is set", Severity: medium, Eval: isSet(flg("etcd-cafile", "")), Remediation: "Set --etcd-cafile."},
		{ID: "node/apiserver-encryption-config", CIS: "1.2.27", Component: APIServer, Title: "API server --encryption-provider-config is set", Severity: high, Eval: isSet(flg("encryption-provider-config", "")), Remediation: "Write an EncryptionConfiguration and pass it with --encryption-provider-config."},
		{ID: "node/apiserver-encryption-providers", CIS: "1.2.28", Component: APIServer, Title: "Encryption at rest uses aescbc, aesgcm, kms or secretbox", Severity: high, Eval: encryptionProviders, Remediation: "List kms (v2), aescbc, aesgcm or secretbox before identity for every resource in the EncryptionConfiguration, then rewrite the secrets."},
		{ID: "node/apiserver-tls-ciphers", CIS: "1.2.29", Component: APIServer, Title: "API server uses only strong TLS cipher suites", Severity: low, Eval: strongCipherSuites(apiServerCipherFlag, apiServerCiphers, "the suites are then the defaults of the Go release the server was built with (Go 1.21 and older also offer RSA key exchange, Go 1.22 and older 3DES)"), Remediation: "Set --tls-cipher-suites to the CIS list: TLS 1.3 suites and ECDHE suites with AES-GCM, ChaCha20-Poly1305 or AES-CBC-SHA (no 3DES, no RSA key exchange)."},

		// 1.3 Controller manager.
		{ID: "node/controller-manager-pod-gc", CIS: "1.3.1", Component: ControllerManager, Title: "Controller manager --terminated-pod-gc-threshold is a positive number", Severity: low, Eval: positiveInt(flg("terminated-pod-gc-threshold", "")), Remediation: "Set --terminated-pod-gc-threshold to a positive number, e.g. 10."},
		{ID: "node/controller-manager-profiling", CIS: "1.3.2", Component: ControllerManager, Title: "Controller manager --profiling is false", Severity: low, Eval: wantBool(flg("profiling", "true"), false), Remediation: "Set --profiling=false."},
		{ID: "node/controller-manager-sa-credentials", CIS: "1.3.3", Component: ControllerManager, Title: "Controller manager --use-service-account-credentials is true", Severity: medium, Eval: wantBool(flg("use-service-account-credentials", "false"), true), Remediation: "Set --use-service-account-credentials=true."},
		{ID: "node/controller-manager-sa-key", CIS: "1.3.4", Component: ControllerManager, Title: "Controller manager --service-account-private-key-file is set", Severity: medium, Eval: isSet(flg("service-account-private-key-file", "")), Remediation: "Set --service-account-private-key-file."},
		{ID: "node/controller-manager-root-ca", CIS: "1.3.5", Component: ControllerManager, Title: "Controller manager --root-ca-file is set", Severity: medium, Eval: isSet(flg("root-ca-file", "")), Remediation: "Set --root-ca-file."},
		{ID: "node/controller-manager-rotate-server-cert", CIS: "1.3.6", Component: ControllerManager, Title: "Controller manager keeps RotateKubeletServerCertificate on", Severity: low, Eval: featureGateNotFalse("RotateKubeletServerCertificate", ""), Remediation: "Remove RotateKubeletServerCertificate=false from --feature-gates."},
		{ID: "node/controller-manager-bind-address", CIS: "1.3.7", Component: ControllerManager, Title: "Controller manager --bind-address is 127.0.0.1", Severity: medium, Eval: equals(flg("bind-address", "0.0.0.0"), "127.0.0.1"), Remediation: "Set --bind-address=127.0.0.1."},

		// 1.4 Scheduler.
		{ID: "node/scheduler-profiling", CIS: "1.4.1", Component: Scheduler, Title: "Scheduler --profiling is false", Severity: low, Eval: wantBool(flg("profiling", "true"), false), Remediation: "Set --profiling=false."},
		{ID: "node/scheduler-bind-address", CIS: "1.4.2", Component: Scheduler, Title: "Scheduler --bind-address is 127.0.0.1", Severity: medium, Eval: equals(flg("bind-address", "0.0.0.0"), "127.0.0.1"), Remediation: "Set --bind-address=127.0.0.1."},

		// 2 etcd.
		{ID: "node/etcd-tls", CIS: "2.1", Component: Etcd, Title: "etcd --cert-file and --key-file are set", Severity: high, Eval: isSet(flg("cert-file", ""), flg("key-file", "")), Remediation: "Set --cert-file and --key-file and serve clients over https."},
		{ID: "node/etcd-client-cert-auth", CIS: "2.2", Component: Etcd, Title: "etcd --client-cert-auth is true", Severity: high, Eval: wantBool(flg("client-cert-auth", "false"), true), Remediation: "Set --client-cert-auth=true."},
		{ID: "node/etcd-auto-tls", CIS: "2.3", Component: Etcd, Title: "etcd --auto-tls is not true", Severity: medium, Eval: notTrue(flg("auto-tls", "false")), Remediation: "Remove --auto-tls=true: self-signed certificates authenticate nobody."},
		{ID: "node/etcd-peer-tls", CIS: "2.4", Component: Etcd, Title: "etcd --peer-cert-file and --peer-key-file are set", Severity: medium, Eval: isSet(flg("peer-cert-file", ""), flg("peer-key-file", "")), Remediation: "Set --peer-cert-file and --peer-key-file."},
		{ID: "node/etcd-peer-client-cert-auth", CIS: "2.5", Component: Etcd, Title: "etcd --peer-client-cert-auth is true", Severity: medium, Eval: wantBool(flg("peer-client-cert-auth", "false"), true), Remediation: "Set --peer-client-cert-auth=true."},
		{ID: "node/etcd-peer-auto-tls", CIS: "2.6", Component: Etcd, Title: "etcd --peer-auto-tls is not true", Severity: medium, Eval: notTrue(flg("peer-auto-tls", "false")), Remediation: "Remove --peer-auto-tls=true."},

		// 4.1 Worker node configuration files.
		{ID: "node/kubelet-service-permissions", CIS: "4.1.1", Component: Kubelet, Title: "kubelet service file permissions are 600 or stricter", Severity: medium, Eval: perm(kubeletUnits, 0o600), Remediation: "chmod 600 the kubelet.service unit and its drop-ins."},
		{ID: "node/kubelet-service-owner", CIS: "4.1.2", Component: Kubelet, Title: "kubelet service file is owned by root:root", Severity: medium, Eval: owner(kubeletUnits, "root:root"), Remediation: "chown root:root the kubelet.service unit and its drop-ins."},
		// kube-proxy's --kubeconfig, if it exists on the host: a kube-proxy
		// DaemonSet's lives in its container and is out of scope here.
		{ID: "node/proxy-kubeconfig-permissions", CIS: "4.1.3", Component: KubeProxy, Title: "kube-proxy --kubeconfig file permissions are 600 or stricter", Severity: medium, Eval: perm(fromSetting(proxyKubecfg, ""), 0o600), Remediation: "chmod 600 the file kube-proxy's --kubeconfig names."},
		{ID: "node/proxy-kubeconfig-owner", CIS: "4.1.4", Component: KubeProxy, Title: "kube-proxy --kubeconfig file is owned by root:root", Severity: medium, Eval: owner(fromSetting(proxyKubecfg, ""), "root:root"), Remediation: "chown root:root the file kube-proxy's --kubeconfig names."},
		{ID: "node/kubelet-kubeconfig-permissions", CIS: "4.1.5", Component: Kubelet, Title: "kubelet --kubeconfig file permissions are 600 or stricter", Severity: high, Eval: perm(fromSetting(kubeletKubecfg, kubeletKubeconfig), 0o600), Remediation: "chmod 600 " + kubeletKubeconfig},
		{ID: "node/kubelet-kubeconfig-owner", CIS: "4.1.6", Component: Kubelet, Title: "kubelet --kubeconfig file is owned by root:root", Severity: medium, Eval: owner(fromSetting(kubeletKubecfg, kubeletKubeconfig), "root:root"), Remediation: "chown root:root " + kubeletKubeconfig},
		{ID: "node/kubelet-client-ca-permissions", CIS: "4.1.7", Component: Kubelet, Title: "kubelet client CA file permissions are 600 or stricter", Severity: low, Eval: perm(fromSetting(kubeletCA, ""), 0o600), Remediation: "chmod 600 the kubelet's client CA file."},
		{ID: "node/kubelet-client-ca-owner", CIS: "4.1.8", Component: Kubelet, Title: "kubelet client CA file is owned by root:root", Severity: medium, Eval: owner(fromSetting(kubeletCA, ""), "root:root"), Remediation: "chown root:root the kubelet's client CA file."},
		{ID: "node/kubelet-config-permissions", CIS: "4.1.9", Component: Kubelet, Title: "kubelet config.yaml permissions are 600 or stricter", Severity: medium, Eval: perm(kubeletConfigPath, 0o600), Remediation: "chmod 600 " + kubeletConfigFile},
		{ID: "node/kubelet-config-owner", CIS: "4.1.10", Component: Kubelet, Title: "kubelet config.yaml is owned by root:root", Severity: medium, Eval: owner(kubeletConfigPath, "root:root"), Remediation: "chown root:root " + kubeletConfigFile},

		// 4.2 Kubelet.
		{ID: "node/kubelet-anonymous-auth", CIS: "4.2.1", Component: Kubelet, Title: "kubelet anonymous authentication is off", Severity: high, Eval: wantBool(kubeletAnon, false), Remediation: "Set authentication.anonymous.enabled: false (or --anonymous-auth=false)."},
		{ID: "node/kubelet-authz-mode", CIS: "4.2.2", Component: Kubelet, Title: "kubelet authorization mode is not AlwaysAllow", Severity: high, Eval: judge(kubeletAuthz, notAlwaysAllow), Remediation: "Set authorization.mode: Webhook."},
		{ID: "node/kubelet-client-ca", CIS: "4.2.3", Component: Kubelet, Title: "kubelet client CA file is set", Severity: high, Eval: isSet(kubeletCA), Remediation: "Set authentication.x509.clientCAFile."},
		{ID: "node/kubelet-read-only-port", CIS: "4.2.4", Component: Kubelet, Title: "kubelet read-only port is 0", Severity: high, Eval: equals(kubeletROPort, "0"), Remediation: "Set readOnlyPort: 0: port 10255 serves pod specs without authentication."},
		{ID: "node/kubelet-streaming-idle-timeout", CIS: "4.2.5", Component: Kubelet, Title: "kubelet streaming connection idle timeout is not 0", Severity: low, Eval: nonZeroDuration(kubeletIdle), Remediation: "Set streamingConnectionIdleTimeout, e.g. 5m."},
		{ID: "node/kubelet-iptables-chains", CIS: "4.2.6", Component: Kubelet, Title: "kubelet makes iptables utility chains", Severity: low, Eval: wantBool(kubeletIPT, true), Remediation: "Set makeIPTablesUtilChains: true."},
		{ID: "node/kubelet-event-qps", CIS: "4.2.8", Component: Kubelet, Title: "kubelet eventRecordQPS captures events", Severity: low, Eval: atLeast(kubeletQPS, 0), Remediation: "Set eventRecordQPS to 0 (no limit) or a level that keeps the events you need."},
		{ID: "node/kubelet-tls-cert", CIS: "4.2.9", Component: Kubelet, Title: "kubelet serving certificate and key are set", Severity: low, Eval: isSet(setting{flag: "tls-cert-file", field: "tlsCertFile"}, setting{flag: "tls-private-key-file", field: "tlsPrivateKeyFile"}), Remediation: "Set tlsCertFile and tlsPrivateKeyFile, or serverTLSBootstrap: true."},
		{ID: "node/kubelet-rotate-certificates", CIS: "4.2.10", Component: Kubelet, Title: "kubelet client certificate rotation is not off", Severity: medium, Eval: judge(kubeletRotate, notFalse), Remediation: "Set rotateCertificates: true."},
		{ID: "node/kubelet-rotate-server-cert", CIS: "4.2.11", Component: Kubelet, Title: "kubelet RotateKubeletServerCertificate is on", Severity: low, Eval: featureGateNotFalse("RotateKubeletServerCertificate", "featureGates"), Remediation: "Remove RotateKubeletServerCertificate=false from featureGates."},
		{ID: "node/kubelet-tls-ciphers", CIS: "4.2.12", Component: Kubelet, Title: "kubelet uses only strong TLS cipher suites", Severity: low, Eval: strongCipherSuites(kubeletCiphers, aeadCiphers, goDefaultsCBC), Remediation: "Set tlsCipherSuites to AEAD ECDHE suites only."},
		// Dropped from v1.9 (it was 4.2.6 up to v1.8) but still worth knowing.
		{ID: "node/kubelet-protect-kernel-defaults", CIS: "", Component: Kubelet, Title: "kubelet protects kernel defaults", Severity: low, Eval: wantBool(kubeletKernel, true), Remediation: "Set protectKernelDefaults: true after setting the sysctls the kubelet expects."},
	}
}

// notFalse passes unless the value is false: kube-bench passes an unset
// rotateCertificates, as CIS 4.2.10 says "not set to false".
func notFalse(v string, set bool) (bool, string) {
	if !set {
		return true, ""
	}
	b, err := ParseBool(v)
	return err == nil && b, "certificate rotation is switched off"
}

// notAlwaysAllow passes a kubelet authorization mode other than AlwaysAllow.
func notAlwaysAllow(v string, _ bool) (bool, string) {
	for _, m := range strings.Split(v, ",") {
		if strings.TrimSpace(m) == "AlwaysAllow" {
			return false, "authorization mode AlwaysAllow lets anyone reaching the kubelet API run commands in pods"
		}
	}
	return true, ""
}
