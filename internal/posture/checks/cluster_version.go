package checks

import (
	"encoding/json"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/versions"
)

// versionSubject is a version the cluster checks judge: the cluster's own
// (from /version) or a Node's kubelet, when manifests include nodes.
type versionSubject struct {
	version versions.Version
	raw     string
	dist    string
	node    *kube.Object // nil for the cluster itself
	ref     kube.Ref
	at      *kube.Object
}

// versionTable returns the scan's versions table and the date to judge
// support dates at.
func versionTable(in *posture.Input) (*versions.Table, time.Time) {
	t := in.Options.Cluster.Versions
	if t == nil {
		t = versions.Embedded()
	}
	now := in.Options.Cluster.Now
	if now.IsZero() {
		now = t.AsOf.Time
	}
	return t, now
}

// versionSubjects returns the cluster's version when the scan knows it,
// else the kubelet version of every Node object of the inventory.
func versionSubjects(in *posture.Input) []versionSubject {
	c := in.Options.Cluster
	inv := in.Inventory
	aks := false
	for _, o := range inv.OfKind("Node") {
		if versions.NodeDistribution(o.Meta.Labels) == versions.AKS {
			aks = true
		}
	}
	distOf := func(gitVersion string) string {
		switch {
		case c.Distribution != "":
			return c.Distribution
		case aks:
			return versions.AKS
		}
		return versions.Distribution(gitVersion)
	}
	if c.GitVersion != "" {
		v, err := versions.ParseVersion(c.GitVersion)
		if err != nil {
			return nil
		}
		s := versionSubject{version: v, raw: c.GitVersion, dist: distOf(c.GitVersion), ref: kube.Ref{Kind: "Cluster", Name: clusterName(inv)}}
		if len(inv.Objects) > 0 {
			s.at = inv.Objects[0]
		}
		return []versionSubject{s}
	}
	var out []versionSubject
	for _, o := range inv.OfKind("Node") {
		n, ok := o.Typed.(*corev1.Node)
		if !ok || n.Status.NodeInfo.KubeletVersion == "" {
			continue
		}
		raw := n.Status.NodeInfo.KubeletVersion
		v, err := versions.ParseVersion(raw)
		if err != nil {
			continue
		}
		out = append(out, versionSubject{version: v, raw: raw, dist: distOf(raw), node: o})
	}
	return out
}

func clusterName(inv *kube.Inventory) string {
	for _, o := range inv.Objects {
		if o.Source.Cluster != "" {
			return o.Source.Cluster
		}
	}
	return "cluster"
}

// result fills where a version finding is reported.
func (s versionSubject) result(r posture.Result) posture.Result {
	if s.node != nil {
		r.Object = s.node
		r.Path = []string{"status", "nodeInfo", "kubeletVersion"}
	} else {
		r.Ref, r.At = s.ref, s.at
	}
	return r
}

// what names the subject in messages.
func (s versionSubject) what() string {
	if s.node != nil {
		return "Node " + s.node.Meta.Name + " runs kubelet " + s.raw
	}
	return "The cluster runs Kubernetes " + s.raw
}

// lastAppliedAPIVersion returns the apiVersion the object was last applied
// with (kubectl's last-applied-configuration annotation), which a live
// cluster keeps after converting the object to its preferred version.
func lastAppliedAPIVersion(o *kube.Object) string {
	a := o.Meta.Annotations["kubectl.kubernetes.io/last-applied-configuration"]
	if a == "" {
		return ""
	}
	var doc struct {
		APIVersion string `json:"apiVersion"`
	}
	if json.Unmarshal([]byte(a), &doc) != nil {
		return ""
	}
	return doc.APIVersion
}
