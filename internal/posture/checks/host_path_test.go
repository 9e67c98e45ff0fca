package checks_test

import (
	"strconv"
	"testing"

	"github.com/palisade-sec/palisade/internal/posture"
)

// TestHostPathClassification rates host paths through host-path, pinned to
// behaviour version 5 and at the newest version: paths are cleaned before
// they are rated (trailing slashes, "//", ".."), and a directory is at
// least as severe as the worst path under it — from version 6 that holds
// for "/", which contains every runtime socket.
func TestHostPathClassification(t *testing.T) {
	const (
		socket    = "critical container runtime socket"
		sensitive = "high sensitive host path"
		other     = "medium host path"
	)
	for _, tc := range []struct {
		path   string
		v5, v6 string
	}{
		{"/", sensitive, socket},
		{"//", sensitive, socket},
		{"/.", sensitive, socket},
		{"/var/..", sensitive, socket},
		{"/var", socket, socket},
		{"/var/run", socket, socket},
		{"/var/run/", socket, socket},
		{"/var//run", socket, socket},
		{"/var/run/docker.sock", socket, socket},
		{"/var/run/docker.sock/", socket, socket},
		{"/var/run/./docker.sock", socket, socket},
		{"/run", socket, socket},
		{"/run/containerd", socket, socket},
		{"/run/containerd/containerd.sock", socket, socket},
		{"/run/k3s/containerd/containerd.sock", socket, socket},
		{"/etc", sensitive, sensitive},
		{"/etc/", sensitive, sensitive},
		{"//etc", sensitive, sensitive},
		{"/var/../etc", sensitive, sensitive},
		{"/tmp/../etc/kubernetes/pki", sensitive, sensitive},
		{"/etc/kubernetes", sensitive, sensitive},
		{"/proc", sensitive, sensitive},
		{"/proc/sys/kernel", sensitive, sensitive},
		{"/var/lib/kubelet/pods", sensitive, sensitive},
		{"/var/log/", sensitive, sensitive},
		// A sibling that shares a prefix is not under the directory.
		{"/etcd-backup", other, other},
		{"/var/run2", other, other},
		{"/run/containerd2/containerd.sock", sensitive, sensitive},
		{"/data", other, other},
		{"/var/lib/app", other, other},
		{"/mnt/../data/cache", other, other},
	} {
		t.Run(tc.path, func(t *testing.T) {
			for _, pin := range []struct {
				v    posture.Version
				want string
			}{{5, tc.v5}, {6, tc.v6}, {posture.Latest, tc.v6}} {
				if got := hostPathRating(t, pin.v, tc.path); got != pin.want {
					t.Errorf("%q pinned to %d: %q, want %q", tc.path, pin.v, got, pin.want)
				}
			}
		})
	}
}

// hostPathRating scans a Pod that mounts p read-write with host-path
// pinned to pin, and returns the finding's severity and class.
func hostPathRating(t *testing.T, pin posture.Version, p string) string {
	t.Helper()
	doc := `apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: ops}
spec:
  containers:
  - name: agent
    image: registry.example.com/agent:1.0.0
    volumeMounts: [{name: host, mountPath: /host}]
  volumes:
  - name: host
    hostPath: {path: ` + strconv.Quote(p) + `}
`
	found := scanDoc(t, "host-path", pin, posture.Options{}, doc)
	if len(found) != 1 {
		t.Fatalf("%d findings, want 1", len(found))
	}
	fd := found[0]
	for _, e := range fd.Evidence {
		if e.Name == "class" {
			return fd.Severity.String() + " " + e.Value
		}
	}
	t.Fatalf("finding without class evidence: %+v", fd.Evidence)
	return ""
}
