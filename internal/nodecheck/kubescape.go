package nodecheck

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
)

// Kubescape's host-sensor (kubescape/host-scanner) reports a node as
// hostdata.kubescape.cloud objects, one per kind: ControlPlaneInfo,
// KubeletInfo, KubeProxyInfo, CNIInfo (and kinds no node check reads, such
// as LinuxKernelVariables or OpenPortsList, which are skipped). Files come
// with their path, permissions (the mode as a decimal number), numeric
// owner with the names the sensor resolved on the node, and for
// configuration files their base64 contents. A file the sensor looked for
// and did not find is left out; an entry with no facts ("configFile": {})
// is one it failed to read.
const kubescapeAPIGroup = "hostdata.kubescape.cloud/"

const kubescapeCollector = "Kubescape host-sensor"

type ksFile struct {
	Path        string  `json:"path"`
	Permissions *int64  `json:"permissions"`
	Content     *string `json:"content"`
	Ownership   *struct {
		UID       *int64 `json:"uid"`
		GID       *int64 `json:"gid"`
		Username  string `json:"username"`
		Groupname string `json:"groupname"`
		// Err is why the sensor could not read the owner (ids are -1).
		Err string `json:"err"`
	} `json:"ownership"`
}

type ksComponent struct {
	CmdLine    *string `json:"cmdLine"`
	SpecsFile  *ksFile `json:"specsFile"`
	ConfigFile *ksFile `json:"configFile"`
	// API server only.
	EncryptionProviderConfigFile *ksFile `json:"encryptionProviderConfigFile"`
	AuditPolicyFile              *ksFile `json:"auditPolicyFile"`
}

type ksControlPlane struct {
	APIServer         *ksComponent `json:"APIServerInfo"`
	ControllerManager *ksComponent `json:"controllerManagerInfo"`
	Scheduler         *ksComponent `json:"schedulerInfo"`
	EtcdConfigFile    *ksFile      `json:"etcdConfigFile"`
	EtcdDataDir       *ksFile      `json:"etcdDataDir"`
	AdminConfigFile   *ksFile      `json:"adminConfigFile"`
	PKIDir            *ksFile      `json:"PKIDir"`
	PKIFiles          []ksFile     `json:"PKIFiles"`
}

type ksKubelet struct {
	CmdLine        *string  `json:"cmdLine"`
	ConfigFile     *ksFile  `json:"configFile"`
	KubeConfigFile *ksFile  `json:"kubeConfigFile"`
	ClientCAFile   *ksFile  `json:"clientCAFile"`
	ServiceFiles   []ksFile `json:"serviceFiles"`
}

type ksKubeProxy struct {
	CmdLine        *string `json:"cmdLine"`
	KubeConfigFile *ksFile `json:"kubeConfigFile"`
}

type ksCNI struct {
	CNIConfigFiles []ksFile `json:"CNIConfigFiles"`
}

// fact converts a reported file, field naming it for errors; nil when the
// entry is absent.
func (f *ksFile) fact(field string) (*fileFact, error) {
	if f == nil {
		return nil, nil
	}
	ff := &fileFact{path: f.Path}
	if f.Permissions != nil {
		if *f.Permissions < 0 || *f.Permissions > 0o7777 {
			return nil, fmt.Errorf("%s.permissions: %d is not a file mode", field, *f.Permissions)
		}
		m := fs.FileMode(*f.Permissions).Perm()
		ff.mode = &m
	}
	// An owner the sensor could not read (err set, ids -1) is not collected.
	if o := f.Ownership; o != nil && o.Err == "" {
		if o.UID != nil && o.GID != nil && *o.UID >= 0 && *o.GID >= 0 {
			if *o.UID > 1<<32-1 || *o.GID > 1<<32-1 {
				return nil, fmt.Errorf("%s.ownership: uid %d / gid %d out of range", field, *o.UID, *o.GID)
			}
			ff.owner = &Owner{UID: uint32(*o.UID), GID: uint32(*o.GID)}
		}
		if o.Username != "" && o.Groupname != "" {
			ff.names = o.Username + ":" + o.Groupname
		}
	}
	if f.Content != nil {
		b, err := base64.StdEncoding.DecodeString(*f.Content)
		if err != nil {
			return nil, fmt.Errorf("%s.content: not base64: %w", field, err)
		}
		ff.content, ff.hasData = b, true
	}
	return ff, nil
}

// addKubescape adds one host-sensor object's data to the node being built.
func (b *factsBuilder) addKubescape(kind string, data json.RawMessage) error {
	switch kind {
	case "ControlPlaneInfo":
		var cp ksControlPlane
		if err := decodeData(data, &cp); err != nil {
			return err
		}
		return b.ksControlPlane(&cp)
	case "KubeletInfo":
		var kl ksKubelet
		if err := decodeData(data, &kl); err != nil {
			return err
		}
		return b.ksKubelet(&kl)
	case "KubeProxyInfo":
		var kp ksKubeProxy
		if err := decodeData(data, &kp); err != nil {
			return err
		}
		return b.ksKubeProxy(&kp)
	case "CNIInfo":
		var cni ksCNI
		if err := decodeData(data, &cni); err != nil {
			return err
		}
		b.src.dirs[cniConfDir] = b.src.dirs[cniConfDir][:0:0]
		for i := range cni.CNIConfigFiles {
			f, err := cni.CNIConfigFiles[i].fact(fmt.Sprintf("data.CNIConfigFiles[%d]", i))
			if err != nil {
				return err
			}
			if f != nil && f.path != "" {
				b.src.add(f)
				b.src.dirs[cniConfDir] = append(b.src.dirs[cniConfDir], f.path)
			}
		}
	}
	return nil
}

func decodeData(data json.RawMessage, v any) error {
	if len(data) == 0 || string(data) == "null" {
		return fmt.Errorf("data: missing")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return nil
}

// file records a reported file kept at kubeadm path key on a kubeadm node.
// Once the object that reports it is present, a file it leaves out was
// looked for and not found.
func (b *factsBuilder) file(f *ksFile, field, key string) (*fileFact, error) {
	ff, err := f.fact(field)
	if err != nil || ff == nil {
		if key != "" && err == nil {
			b.src.looked[key] = true
		}
		return nil, err
	}
	known := ff.mode != nil || ff.owner != nil || ff.names != "" || ff.hasData
	switch {
	case ff.path == "" && !known:
		// Present but empty: the sensor failed to read it.
		return ff, nil
	case ff.path == "" && key == "":
		return nil, fmt.Errorf("%s.path: missing", field)
	case ff.path == "":
		// The sensor read the file it was looking for at key.
		ff.path = key
	}
	b.src.add(ff)
	if key != "" {
		b.src.place(key, ff.path)
	}
	return ff, nil
}

func (b *factsBuilder) ksControlPlane(cp *ksControlPlane) error {
	b.node.controlPlane = true
	for _, c := range []struct {
		name  string
		field string
		info  *ksComponent
		conf  string
	}{
		{APIServer, "APIServerInfo", cp.APIServer, ""},
		{ControllerManager, "controllerManagerInfo", cp.ControllerManager, "/etc/kubernetes/controller-manager.conf"},
		{Scheduler, "schedulerInfo", cp.Scheduler, "/etc/kubernetes/scheduler.conf"},
	} {
		manifest := manifestDir + "/" + c.name + ".yaml"
		if c.info == nil {
			b.src.looked[manifest] = true
			continue
		}
		if _, err := b.file(c.info.SpecsFile, "data."+c.field+".specsFile", manifest); err != nil {
			return err
		}
		if c.conf != "" {
			if _, err := b.file(c.info.ConfigFile, "data."+c.field+".configFile", c.conf); err != nil {
				return err
			}
		}
		for _, f := range []struct {
			f     *ksFile
			field string
		}{{c.info.EncryptionProviderConfigFile, "encryptionProviderConfigFile"}, {c.info.AuditPolicyFile, "auditPolicyFile"}} {
			if _, err := b.file(f.f, "data."+c.field+"."+f.field, ""); err != nil {
				return err
			}
		}
		src := kubescapeCollector + " ControlPlaneInfo " + c.field
		if c.info.CmdLine == nil {
			b.component(&Component{Name: c.name, Source: src, flagsUnknown: c.name + " command line: " + errNotCollected.Error() + " by " + kubescapeCollector})
			continue
		}
		b.component(componentFromCmdline(c.name, src+".cmdLine", *c.info.CmdLine))
	}
	if _, err := b.file(cp.EtcdConfigFile, "data.etcdConfigFile", manifestDir+"/etcd.yaml"); err != nil {
		return err
	}
	if cp.EtcdConfigFile != nil || cp.EtcdDataDir != nil {
		// The sensor reports etcd's manifest and data directory, not its
		// command line: etcd runs here, its flags are not evaluated.
		b.component(&Component{Name: Etcd, Source: kubescapeCollector + " ControlPlaneInfo etcdConfigFile", flagsUnknown: "etcd command line: " + errNotCollected.Error() + " by " + kubescapeCollector})
	}
	if _, err := b.file(cp.EtcdDataDir, "data.etcdDataDir", defaultEtcdDataDir); err != nil {
		return err
	}
	if _, err := b.file(cp.AdminConfigFile, "data.adminConfigFile", "/etc/kubernetes/admin.conf"); err != nil {
		return err
	}
	if cp.PKIDir != nil || cp.PKIFiles != nil {
		var listed []string
		dir, err := b.file(cp.PKIDir, "data.PKIDir", "")
		if err != nil {
			return err
		}
		if dir != nil && dir.path != "" {
			dir.isDir = true
			listed = append(listed, dir.path)
		}
		for i := range cp.PKIFiles {
			f, err := b.file(&cp.PKIFiles[i], fmt.Sprintf("data.PKIFiles[%d]", i), "")
			if err != nil {
				return err
			}
			if f != nil && f.path != "" {
				listed = append(listed, f.path)
			}
		}
		b.src.dirs[pkiDir] = listed
	}
	return nil
}

func (b *factsBuilder) ksKubelet(kl *ksKubelet) error {
	c := &Component{Name: Kubelet, Source: kubescapeCollector + " KubeletInfo"}
	if kl.CmdLine != nil {
		c = componentFromCmdline(Kubelet, kubescapeCollector+" KubeletInfo.cmdLine", *kl.CmdLine)
	} else {
		c.flagsUnknown = "kubelet command line: " + errNotCollected.Error() + " by " + kubescapeCollector
	}
	cfgPath, named := c.Flags.Get("config")
	if !named {
		cfgPath = kubeletConfigFile
	}
	cfg, err := b.file(kl.ConfigFile, "data.configFile", cfgPath)
	if err != nil {
		return err
	}
	switch {
	case cfg != nil && cfg.hasData:
		m, err := ParseKubeletConfig(cfg.content)
		if err != nil {
			return fmt.Errorf("data.configFile.content: %w", err)
		}
		c.ConfigFile, c.Config = cfg.path, m
		if named {
			b.src.place(cfgPath, cfg.path)
		}
	case named || cfg != nil:
		// The kubelet reads a configuration file the sensor did not read.
		c.ConfigFile = cfgPath
		if cfg != nil && cfg.path != "" {
			c.ConfigFile = cfg.path
		}
		c.configUnknown = "kubelet configuration file " + c.ConfigFile + " contents: " + errNotCollected.Error() + " by " + kubescapeCollector
	}
	kubeconfig, ok := c.Flags.Get("kubeconfig")
	if !ok {
		kubeconfig = kubeletKubeconfig
	}
	if _, err := b.file(kl.KubeConfigFile, "data.kubeConfigFile", kubeconfig); err != nil {
		return err
	}
	ca, err := b.file(kl.ClientCAFile, "data.clientCAFile", "")
	if err != nil {
		return err
	}
	if ca != nil && ca.path != "" {
		b.src.place(Kubelet+" --client-ca-file", ca.path)
	}
	if v, _, ok := c.Setting("client-ca-file", "authentication.x509.clientCAFile"); ok && ca == nil {
		b.src.looked[v] = true
	}
	b.src.unitsKnown = true
	for i := range kl.ServiceFiles {
		f, err := b.file(&kl.ServiceFiles[i], fmt.Sprintf("data.serviceFiles[%d]", i), "")
		if err != nil {
			return err
		}
		if f != nil && f.path != "" {
			b.src.units = append(b.src.units, f.path)
		}
	}
	b.component(c)
	return nil
}

func (b *factsBuilder) ksKubeProxy(kp *ksKubeProxy) error {
	c := &Component{Name: KubeProxy, Source: kubescapeCollector + " KubeProxyInfo"}
	if kp.CmdLine != nil {
		c = componentFromCmdline(KubeProxy, kubescapeCollector+" KubeProxyInfo.cmdLine", *kp.CmdLine)
	}
	f, err := b.file(kp.KubeConfigFile, "data.kubeConfigFile", "")
	if err != nil {
		return err
	}
	if f != nil && f.path != "" {
		b.src.place(KubeProxy+" --kubeconfig", f.path)
	} else if v, ok := c.Flags.Get("kubeconfig"); ok && f == nil {
		b.src.looked[v] = true
	}
	b.component(c)
	return nil
}

// isKubescape reports whether apiVersion is the host-sensor's.
func isKubescape(apiVersion string) bool { return strings.HasPrefix(apiVersion, kubescapeAPIGroup) }
