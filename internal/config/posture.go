package config

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"go.yaml.in/yaml/v3"
)

// Posture configures the continuous posture of `palisade serve`.
type Posture struct {
	// Clusters are watched from start-up, besides those registered through
	// POST /api/v1/clusters: the file is where a cluster list that lives in
	// git belongs.
	Clusters []PostureCluster
	// IgnoreAnnotationExceptions is `annotationExceptions: false`: the
	// palisade.dev/exceptions annotation on a resource no longer excepts
	// it, in `posture scan` (unless --no-annotation-exceptions is given)
	// and in serve, for admins who accept exceptions only from this file.
	// Stored negated so that the zero value is the default, on.
	IgnoreAnnotationExceptions bool
	// RequiredLabels and RequiredAnnotations are the metadata every
	// workload object must carry (check required-metadata); none by default.
	RequiredLabels, RequiredAnnotations []RequiredKey
	// Availability tunes the reliability checks (replicas, priority classes).
	Availability Availability
	// Sandboxes configures how Agent Sandbox workloads are judged, in
	// `posture scan` and serve alike.
	Sandboxes Sandboxes
}

// Sandboxes configures the posture checks of Agent Sandbox workloads
// (Sandbox and SandboxTemplate pod templates), which run untrusted code.
type Sandboxes struct {
	// RuntimeClasses are the RuntimeClass names whose runtime isolates
	// untrusted code from the node's kernel (gVisor, Kata Containers).
	// Empty: a RuntimeClass among the scanned objects is judged by its
	// handler, any other by its name.
	RuntimeClasses []string
	// MaxCPU and MaxMemory are the largest limits a sandbox container may
	// have, as Kubernetes quantities ("1", "500m"; "512Mi"); "" sets no
	// ceiling.
	MaxCPU, MaxMemory string
}

// PostureCluster is one cluster to watch. The kubeconfig stays a file
// (like ~/.kube/config): credentials never go into palisade.yaml.
type PostureCluster struct {
	// Name names the cluster in findings, alerts and the API; the same
	// rule as a registered cluster's name.
	Name string
	// Kubeconfig is the path of a kubeconfig file, relative to the
	// configuration file's directory.
	Kubeconfig string
	// Context is the kubeconfig context to use; empty: its current one.
	Context string
}

// ClusterName is what a watched cluster may be called (it names a file in
// the data directory and appears in findings and alerts): lowercase
// letters, digits, '.', '_' and '-', at most 63, starting and ending with
// a letter or digit.
var ClusterName = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$`)

func (d *decoder) posture(path string, n *yaml.Node, p *Posture) {
	d.mapping(path, n, map[string]fieldFunc{
		"clusters": func(path string, n *yaml.Node) {
			if n = d.value(path, n); n == nil {
				return
			}
			if n.Kind != yaml.SequenceNode {
				d.fail(path, nil, "want a list of {name, kubeconfig, context}, got %s", describe(n))
				return
			}
			if len(n.Content) == 0 {
				return // clusters: [] is the same as none
			}
			out := make([]PostureCluster, len(n.Content))
			for i, item := range n.Content {
				ip := path + "[" + strconv.Itoa(i) + "]"
				d.src.record(ip, item)
				c := &out[i]
				d.mapping(ip, item, map[string]fieldFunc{
					"name":       func(p string, v *yaml.Node) { d.str(p, v, &c.Name) },
					"kubeconfig": func(p string, v *yaml.Node) { d.str(p, v, &c.Kubeconfig) },
					"context":    func(p string, v *yaml.Node) { d.str(p, v, &c.Context) },
				})
			}
			p.Clusters = out
		},
		"requiredLabels":      func(path string, n *yaml.Node) { d.requiredKeys(path, n, &p.RequiredLabels) },
		"requiredAnnotations": func(path string, n *yaml.Node) { d.requiredKeys(path, n, &p.RequiredAnnotations) },
		"sandboxes": func(path string, n *yaml.Node) {
			sb := &p.Sandboxes
			d.mapping(path, n, map[string]fieldFunc{
				"runtimeClasses": func(p string, v *yaml.Node) { d.optionalStrings(p, v, &sb.RuntimeClasses) },
				"maxLimits": func(p string, v *yaml.Node) {
					d.mapping(p, v, map[string]fieldFunc{
						"cpu":    func(p string, v *yaml.Node) { d.str(p, v, &sb.MaxCPU) },
						"memory": func(p string, v *yaml.Node) { d.str(p, v, &sb.MaxMemory) },
					})
				},
			})
		},
		"availability": func(path string, n *yaml.Node) { d.availability(path, n, &p.Availability) },
		"annotationExceptions": func(path string, n *yaml.Node) {
			on := !p.IgnoreAnnotationExceptions
			d.boolean(path, n, &on)
			p.IgnoreAnnotationExceptions = !on
		},
	})
}

func (p *Posture) validate(v *validator, path string) {
	validateRequired(v, path+".requiredLabels", p.RequiredLabels)
	validateRequired(v, path+".requiredAnnotations", p.RequiredAnnotations)
	p.Sandboxes.validate(v, path+".sandboxes")
	p.Availability.validate(v, path+".availability")
	seen := map[string]int{}
	for i, c := range p.Clusters {
		cp := path + ".clusters[" + strconv.Itoa(i) + "]"
		switch first, dup := seen[c.Name]; {
		case c.Name == "":
			v.add(cp, "a cluster needs a name (it names the cluster in findings and alerts)")
		case !ClusterName.MatchString(c.Name):
			v.add(cp+".name", "%s: want lowercase letters, digits, '.', '_' and '-', at most 63, starting and ending with a letter or digit", quote(c.Name))
		case dup:
			v.add(cp+".name", "duplicate cluster name %s (also %s.clusters[%d])", quote(c.Name), path, first)
		default:
			seen[c.Name] = i
		}
		if c.Kubeconfig == "" {
			v.add(cp, "a cluster needs a kubeconfig (the path of a kubeconfig file)")
		}
	}
}

func (p *Posture) resolvePaths(dir string) {
	for i, c := range p.Clusters {
		if c.Kubeconfig != "" && !filepath.IsAbs(c.Kubeconfig) {
			p.Clusters[i].Kubeconfig = filepath.Join(dir, c.Kubeconfig)
		}
	}
}

func (s *Sandboxes) validate(v *validator, path string) {
	for i, rc := range s.RuntimeClasses {
		// A RuntimeClass name is a DNS subdomain.
		if errs := validation.IsDNS1123Subdomain(rc); len(errs) > 0 {
			v.add(path+".runtimeClasses["+strconv.Itoa(i)+"]", "%s is not a RuntimeClass name: %s", quote(rc), strings.Join(errs, "; "))
		}
	}
	for _, q := range []struct{ field, value string }{{"cpu", s.MaxCPU}, {"memory", s.MaxMemory}} {
		if q.value == "" {
			continue
		}
		if qty, err := resource.ParseQuantity(q.value); err != nil || qty.Sign() <= 0 {
			v.add(path+".maxLimits."+q.field, "%s is not a positive quantity (such as \"1\", \"500m\", \"512Mi\")", quote(q.value))
		}
	}
}
