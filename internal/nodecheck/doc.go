// Package nodecheck checks a Kubernetes node against the host sections of
// the CIS Kubernetes Benchmark (v1.9), as kube-bench does: file permissions
// and ownership of control-plane and kubelet files, and the settings the
// API server, controller manager, scheduler, etcd and kubelet run with.
//
// Settings are read the way the binaries read them — command-line flag, then
// configuration file, then the built-in default — from the running
// processes' /proc/<pid>/cmdline when there are any, else from the static
// pod manifests and kubelet systemd units. Everything is read below a root
// directory, so a node's filesystem mounted elsewhere (or a fake tree in
// tests) is checked the same way as "/".
package nodecheck
