package nodecheck

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// Trivy's node-collector (aquasecurity/k8s-node-collector) reports a node
// as one NodeInfo object: "type" master or worker, and "info", by key, the
// "values" of one audit command — file modes as stat prints them (600 is
// octal 0600), owners as user:group names, and kubelet settings. The key
// says which file or setting it is; where the collector stats a fixed path,
// that path is used, otherwise the file is named by its role. A key that is
// absent was not collected (not evaluated); a key with no values was
// collected and found nothing (no such file, or the setting not set).
const (
	trivyKind      = "NodeInfo"
	trivyCollector = "Trivy node-collector"
)

// trivyFile is a NodeInfo key that reports files: where they are, or the
// directory they were listed in (with a name for each, since values carry
// no paths).
type trivyFile struct {
	aspect aspect
	path   string // the file node-collector stats
	dir    string // or the directory whose files it lists
	name   string // then each file's name: "[name N]"
	units  bool   // kubelet unit files
}

var trivyFiles = map[string]trivyFile{
	"kubeAPIServerSpecFilePermission":              {aspectMode, manifestDir + "/kube-apiserver.yaml", "", "", false},
	"kubeAPIServerSpecFileOwnership":               {aspectOwner, manifestDir + "/kube-apiserver.yaml", "", "", false},
	"kubeControllerManagerSpecFilePermission":      {aspectMode, manifestDir + "/kube-controller-manager.yaml", "", "", false},
	"kubeControllerManagerSpecFileOwnership":       {aspectOwner, manifestDir + "/kube-controller-manager.yaml", "", "", false},
	"kubeSchedulerSpecFilePermission":              {aspectMode, manifestDir + "/kube-scheduler.yaml", "", "", false},
	"kubeSchedulerSpecFileOwnership":               {aspectOwner, manifestDir + "/kube-scheduler.yaml", "", "", false},
	"kubeEtcdSpecFilePermission":                   {aspectMode, manifestDir + "/etcd.yaml", "", "", false},
	"kubeEtcdSpecFileOwnership":                    {aspectOwner, manifestDir + "/etcd.yaml", "", "", false},
	"containerNetworkInterfaceFilePermissions":     {aspectMode, "", cniConfDir, "CNI file", false},
	"containerNetworkInterfaceFileOwnership":       {aspectOwner, "", cniConfDir, "CNI file", false},
	"etcdDataDirectoryPermissions":                 {aspectMode, defaultEtcdDataDir, "", "", false},
	"etcdDataDirectoryOwnership":                   {aspectOwner, defaultEtcdDataDir, "", "", false},
	"adminConfFilePermissions":                     {aspectMode, "/etc/kubernetes/admin.conf", "", "", false},
	"adminConfFileOwnership":                       {aspectOwner, "/etc/kubernetes/admin.conf", "", "", false},
	"schedulerConfFilePermissions":                 {aspectMode, "/etc/kubernetes/scheduler.conf", "", "", false},
	"schedulerConfFileOwnership":                   {aspectOwner, "/etc/kubernetes/scheduler.conf", "", "", false},
	"controllerManagerConfFilePermissions":         {aspectMode, "/etc/kubernetes/controller-manager.conf", "", "", false},
	"controllerManagerConfFileOwnership":           {aspectOwner, "/etc/kubernetes/controller-manager.conf", "", "", false},
	"kubePKIDirectoryFileOwnership":                {aspectOwner, "", pkiDir, "PKI file", false},
	"kubernetesPKICertificateFilePermissions":      {aspectMode, "", pkiDir, "certificate", false},
	"kubePKIKeyFilePermissions":                    {aspectMode, "", pkiDir, "key", false},
	"kubeletServiceFilePermissions":                {aspectMode, "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", "", "", true},
	"kubeletServiceFileOwnership":                  {aspectOwner, "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", "", "", true},
	"kubeconfigFileExistsPermissions":              {aspectMode, "(" + KubeProxy + " --kubeconfig)", "", "", false},
	"kubeconfigFileExistsOwnership":                {aspectOwner, "(" + KubeProxy + " --kubeconfig)", "", "", false},
	"kubeletConfFilePermissions":                   {aspectMode, kubeletKubeconfig, "", "", false},
	"kubeletConfFileOwnership":                     {aspectOwner, kubeletKubeconfig, "", "", false},
	"certificateAuthoritiesFilePermissions":        {aspectMode, "(" + Kubelet + " --client-ca-file)", "", "", false},
	"certificateAuthoritiesFileOwnership":          {aspectOwner, "(" + Kubelet + " --client-ca-file)", "", "", false},
	"kubeletConfigYamlConfigurationFilePermission": {aspectMode, kubeletConfigFile, "", "", false},
	"kubeletConfigYamlConfigurationFileOwnership":  {aspectOwner, kubeletConfigFile, "", "", false},
}

// trivySettings are the NodeInfo keys that report kubelet settings, by the
// flag (or feature gate) they give. configz marks the ones node-collector
// reads from the kubelet's live configuration (/configz) as well as from
// its command line; the others only from the command line.
var trivySettings = map[string]struct {
	flag    string
	configz bool
}{
	"kubeletAnonymousAuthArgumentSet":                  {"anonymous-auth", true},
	"kubeletAuthorizationModeArgumentSet":              {"authorization-mode", true},
	"kubeletClientCaFileArgumentSet":                   {"client-ca-file", true},
	"kubeletReadOnlyPortArgumentSet":                   {"read-only-port", true},
	"kubeletStreamingConnectionIdleTimeoutArgumentSet": {"streaming-connection-idle-timeout", true},
	"kubeletProtectKernelDefaultsArgumentSet":          {"protect-kernel-defaults", false},
	"kubeletMakeIptablesUtilChainsArgumentSet":         {"make-iptables-util-chains", true},
	"kubeletHostnameOverrideArgumentSet":               {"hostname-override", false},
	"kubeletEventQpsArgumentSet":                       {"event-qps", true},
	"kubeletTlsCertFileTlsArgumentSet":                 {"tls-cert-file", false},
	"kubeletTlsPrivateKeyFileArgumentSet":              {"tls-private-key-file", false},
	"kubeletRotateCertificatesArgumentSet":             {"rotate-certificates", false},
	"kubeletRotateKubeletServerCertificateArgumentSet": {"RotateKubeletServerCertificate", true},
	"kubeletOnlyUseStrongCryptographic":                {"tls-cipher-suites", false},
}

type trivyInfo struct {
	Values []any `json:"values"`
}

// addTrivy adds a NodeInfo object's info to the node being built.
func (b *factsBuilder) addTrivy(nodeType string, info map[string]json.RawMessage) error {
	switch nodeType {
	case "master", "worker", "":
	default:
		return &InputError{Field: "type", Err: fmt.Errorf("%q is neither master nor worker", nodeType)}
	}
	values := map[string][]any{}
	for key, raw := range info {
		var in trivyInfo
		if err := json.Unmarshal(raw, &in); err != nil {
			return &InputError{Field: "info." + key, Err: fmt.Errorf("want {\"values\": [...]}: %w", err)}
		}
		if in.Values == nil {
			in.Values = []any{}
		}
		values[key] = in.Values
	}
	// node-collector gathers the control-plane keys on control-plane nodes
	// only: their presence says what the type would.
	master := nodeType == "master"
	for key, tf := range trivyFiles {
		if _, ok := values[key]; ok && !tf.kubelet() && !strings.HasPrefix(tf.path, "("+KubeProxy) {
			master = true
		}
	}
	if master {
		b.node.controlPlane = true
		for _, name := range []string{APIServer, ControllerManager, Scheduler, Etcd} {
			b.component(&Component{Name: name, Source: trivyCollector, flagsUnknown: name + " command line: " + errNotCollected.Error() + " by " + trivyCollector + " (posture scan judges control-plane pods' flags)"})
		}
	}
	if _, ok := values["kubeconfigFileExistsPermissions"]; ok {
		b.component(&Component{Name: KubeProxy, Source: trivyCollector})
	} else if _, ok := values["kubeconfigFileExistsOwnership"]; ok {
		b.component(&Component{Name: KubeProxy, Source: trivyCollector})
	}
	for key, vs := range values {
		tf, ok := trivyFiles[key]
		if !ok {
			continue
		}
		if err := b.trivyFile(key, tf, vs); err != nil {
			return err
		}
	}
	return b.trivyKubelet(values)
}

func (b *factsBuilder) trivyFile(key string, tf trivyFile, vs []any) error {
	for i, v := range vs {
		f, err := trivyFileFact(tf.aspect, v)
		if err != nil {
			return &InputError{Field: fmt.Sprintf("info.%s.values[%d]", key, i), Err: err}
		}
		switch {
		case tf.dir != "":
			f.path = fmt.Sprintf("%s/[%s %d]", tf.dir, tf.name, i+1)
			if tf.name == "certificate" {
				f.path += ".crt"
			} else if tf.name == "key" {
				f.path += ".key"
			}
		case len(vs) > 1:
			f.path = fmt.Sprintf("%s [%d]", tf.path, i+1)
		default:
			f.path = tf.path
		}
		b.src.add(f)
		if tf.dir != "" {
			b.src.dirs[tf.dir] = append(b.src.dirs[tf.dir], f.path)
		}
		if tf.units {
			b.src.units = append(b.src.units, f.path)
		}
	}
	switch {
	case tf.dir != "":
		if _, ok := b.src.dirs[tf.dir]; !ok {
			b.src.dirs[tf.dir] = []string{}
		}
	case tf.units:
		b.src.unitsKnown = true
	default:
		b.src.looked[tf.path] = true
	}
	if strings.HasPrefix(tf.path, "(") {
		b.src.place(strings.Trim(tf.path, "()"), tf.path)
	}
	return nil
}

// trivyFileFact parses one value: a mode as stat's %a prints it, or an
// owner as user:group.
func trivyFileFact(a aspect, v any) (*fileFact, error) {
	s := fmt.Sprint(v)
	if f, ok := v.(float64); ok {
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	if a == aspectOwner {
		u, g, ok := strings.Cut(s, ":")
		if !ok || u == "" || g == "" {
			return nil, fmt.Errorf("%q is not user:group", s)
		}
		return &fileFact{names: s}, nil
	}
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o7777 {
		return nil, fmt.Errorf("%q is not a file mode in octal", s)
	}
	mode := fs.FileMode(m).Perm()
	return &fileFact{mode: &mode}, nil
}

// trivyKubelet adds the kubelet the settings describe, if any.
func (b *factsBuilder) trivyKubelet(values map[string][]any) error {
	c := &Component{Name: Kubelet, Source: trivyCollector, collected: map[string]collectedSetting{},
		flagsUnknown: "kubelet setting: " + errNotCollected.Error() + " by " + trivyCollector}
	seen := false
	for key, tf := range trivyFiles {
		if _, ok := values[key]; ok && tf.kubelet() {
			seen = true
		}
	}
	// Whether the kubelet reads a configuration file decides the default of
	// a setting nothing sets (its flag defaults are the insecure ones). The
	// collector says so only through the stat of /var/lib/kubelet/config.yaml
	// (kubeadm's --config): a mode or owner means it exists, no values that
	// it does not; without that key it is unknown.
	config := "unknown"
	for _, key := range []string{"kubeletConfigYamlConfigurationFilePermission", "kubeletConfigYamlConfigurationFileOwnership"} {
		if vs, ok := values[key]; ok {
			if len(vs) > 0 {
				config = "yes"
				break
			}
			config = "no"
		}
	}
	if config == "yes" {
		c.ConfigFile = kubeletConfigFile
	}
	for key, s := range trivySettings {
		vs, ok := values[key]
		if !ok {
			continue
		}
		seen = true
		from := trivyCollector + " " + key
		switch {
		case len(vs) > 0:
			parts := make([]string, len(vs))
			for i, v := range vs {
				parts[i] = fmt.Sprint(v)
				if f, ok := v.(float64); ok {
					parts[i] = strconv.FormatFloat(f, 'f', -1, 64)
				}
			}
			c.collected[s.flag] = collectedSetting{value: strings.Join(parts, ","), from: from, set: true}
		case config == "no":
			// Not on the command line and no configuration file: the
			// binary's default.
			c.collected[s.flag] = collectedSetting{from: from}
		}
		// Otherwise the setting was not on the command line (or not in
		// /configz, which holds every setting and so cannot lack one) and a
		// configuration file may set it: not evaluated.
	}
	if cs, ok := c.collected["client-ca-file"]; ok && cs.set {
		b.src.place(Kubelet+" --client-ca-file", cs.value)
		if f := b.src.files["("+Kubelet+" --client-ca-file)"]; f != nil {
			delete(b.src.files, f.path)
			f.path = cs.value
			b.src.add(f)
		}
		if b.src.looked["("+Kubelet+" --client-ca-file)"] {
			b.src.looked[cs.value] = true
		}
	}
	if seen {
		b.component(c)
	}
	return nil
}

// kubelet reports whether the file is one of the kubelet's (4.1).
func (tf trivyFile) kubelet() bool {
	switch tf.path {
	case kubeletKubeconfig, kubeletConfigFile, "(" + Kubelet + " --client-ca-file)":
		return true
	}
	return tf.units
}
