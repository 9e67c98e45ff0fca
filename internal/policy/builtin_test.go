package policy

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// deployment returns a Deployment whose pod template is podSpec (YAML
// indented for the template's spec).
func deployment(podSpec string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
` + indent(podSpec, "      ")
}

func pod(podSpec string) string {
	return "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n" + indent(podSpec, "  ")
}

func cronJob(podSpec string) string {
	return `apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: shop}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
` + indent(podSpec, "          ")
}

func indent(s, by string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = by + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// hardened is a container that every built-in container policy admits.
const hardened = `name: app
image: registry.example/app@sha256:0000000000000000000000000000000000000000000000000000000000000000
resources: {limits: {cpu: 500m, memory: 256Mi}}
securityContext:
  allowPrivilegeEscalation: false
  runAsNonRoot: true
  capabilities: {drop: [ALL]}
  seccompProfile: {type: RuntimeDefault}`

func containers(cs ...string) string {
	var b strings.Builder
	b.WriteString("containers:\n")
	for _, c := range cs {
		b.WriteString("- " + strings.ReplaceAll(strings.TrimSpace(c), "\n", "\n  ") + "\n")
	}
	return b.String()
}

// goodSpec passes every built-in policy.
var goodSpec = "serviceAccountName: web\nautomountServiceAccountToken: false\n" + containers(hardened)

func TestBuiltinPolicies(t *testing.T) {
	lib := builtinByID(t)
	tests := []struct {
		policy   string
		name     string
		manifest string
		// want lists the containers (or "" for an object-level violation)
		// that must be reported, in order; nil means the manifest passes.
		want []string
		// wantMsg must appear in the first violation's message.
		wantMsg string
	}{
		{"lp/no-privileged", "hardened deployment", deployment(goodSpec), nil, ""},
		{"lp/no-privileged", "privileged sidecar in deployment", deployment(containers(hardened, "name: proxy\nimage: envoy\nsecurityContext: {privileged: true}")), []string{"proxy"}, "privileged=true"},
		{"lp/no-privileged", "privileged init container in pod", pod("initContainers:\n- {name: init, image: busybox, securityContext: {privileged: true}}\n" + containers(hardened)), []string{"init"}, ""},
		{"lp/no-privileged", "privileged in cronjob", cronJob(containers("name: job\nimage: busybox\nsecurityContext: {privileged: true}")), []string{"job"}, ""},
		{"lp/no-privileged", "privileged false", pod(containers("name: a\nimage: a\nsecurityContext: {privileged: false}")), nil, ""},

		{"lp/run-as-non-root", "container sets it", deployment(goodSpec), nil, ""},
		{"lp/run-as-non-root", "inherited from pod", pod("securityContext: {runAsNonRoot: true}\n" + containers("name: a\nimage: a")), nil, ""},
		{"lp/run-as-non-root", "container overrides pod with false", pod("securityContext: {runAsNonRoot: true}\n" + containers("name: a\nimage: a\nsecurityContext: {runAsNonRoot: false}")), []string{"a"}, "may run as root"},
		{"lp/run-as-non-root", "non-zero uid on pod", pod("securityContext: {runAsUser: 1000}\n" + containers("name: a\nimage: a")), nil, ""},
		{"lp/run-as-non-root", "uid 0 on container beats pod nonroot", pod("securityContext: {runAsNonRoot: true}\n" + containers("name: a\nimage: a\nsecurityContext: {runAsUser: 0}")), []string{"a"}, "UID 0"},
		{"lp/run-as-non-root", "unset", cronJob(containers("name: job\nimage: busybox")), []string{"job"}, ""},

		{"lp/allow-privilege-escalation-false", "set false", deployment(goodSpec), nil, ""},
		{"lp/allow-privilege-escalation-false", "unset defaults to true", deployment(containers(hardened, "name: b\nimage: b")), []string{"b"}, "allowPrivilegeEscalation"},
		{"lp/allow-privilege-escalation-false", "explicit true", pod(containers("name: a\nimage: a\nsecurityContext: {allowPrivilegeEscalation: true}")), []string{"a"}, ""},

		{"lp/drop-all-capabilities", "drops all", deployment(goodSpec), nil, ""},
		{"lp/drop-all-capabilities", "drops some", pod(containers("name: a\nimage: a\nsecurityContext: {capabilities: {drop: [NET_RAW]}}")), []string{"a"}, "drop ALL"},
		{"lp/drop-all-capabilities", "adds NET_BIND_SERVICE", pod(containers("name: a\nimage: a\nsecurityContext: {capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}}")), nil, ""},
		{"lp/drop-all-capabilities", "adds SYS_ADMIN", pod(containers("name: a\nimage: a\nsecurityContext: {capabilities: {drop: [ALL], add: [SYS_ADMIN, NET_BIND_SERVICE]}}")), []string{"a"}, "adds capabilities SYS_ADMIN"},

		{"lp/seccomp-profile", "container runtime default", deployment(goodSpec), nil, ""},
		{"lp/seccomp-profile", "inherited from pod", pod("securityContext: {seccompProfile: {type: RuntimeDefault}}\n" + containers("name: a\nimage: a")), nil, ""},
		{"lp/seccomp-profile", "container unconfined overrides pod", pod("securityContext: {seccompProfile: {type: RuntimeDefault}}\n" + containers("name: a\nimage: a\nsecurityContext: {seccompProfile: {type: Unconfined}}")), []string{"a"}, "Unconfined"},
		{"lp/seccomp-profile", "none", cronJob(containers("name: job\nimage: busybox")), []string{"job"}, "no seccomp profile"},

		{"lp/mandatory-security-context", "present", deployment(goodSpec), nil, ""},
		{"lp/mandatory-security-context", "missing on one", deployment(containers(hardened, "name: b\nimage: b")), []string{"b"}, "no securityContext"},
		{"lp/mandatory-security-context", "empty", pod(containers("name: a\nimage: a\nsecurityContext: {}")), []string{"a"}, ""},

		{"lp/no-default-service-account", "own account", deployment(goodSpec), nil, ""},
		{"lp/no-default-service-account", "unset", deployment(containers(hardened)), []string{""}, "default service account"},
		{"lp/no-default-service-account", "explicit default", pod("serviceAccountName: default\n" + containers(hardened)), []string{""}, ""},
		{"lp/no-default-service-account", "not a workload", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", nil, ""},

		{"lp/automount-token-off", "off", deployment(goodSpec), nil, ""},
		{"lp/automount-token-off", "default on", cronJob(containers(hardened)), []string{""}, "automountServiceAccountToken=false"},
		{"lp/automount-token-off", "annotated on object", strings.Replace(deployment(containers(hardened)), "metadata: {name: web, namespace: shop}", "metadata: {name: web, namespace: shop, annotations: {palisade.dev/automount-token: \"true\"}}", 1), nil, ""},
		{"lp/automount-token-off", "annotated on pod template", strings.Replace(deployment(containers(hardened)), "metadata: {labels: {app: web}}", "metadata: {labels: {app: web}, annotations: {palisade.dev/automount-token: \"true\"}}", 1), nil, ""},
		{"lp/automount-token-off", "annotation false", pod(containers(hardened)) + "", []string{""}, ""},

		{"lp/resource-limits", "both", deployment(goodSpec), nil, ""},
		{"lp/resource-limits", "memory only", pod(containers("name: a\nimage: a\nresources: {limits: {memory: 1Gi}}")), []string{"a"}, "has no cpu limit"},
		{"lp/resource-limits", "none", pod(containers("name: a\nimage: a")), []string{"a"}, "has no cpu or memory limit"},
		{"lp/resource-limits", "ephemeral skipped", pod(containers(hardened) + "ephemeralContainers:\n- {name: debug, image: busybox}\n"), nil, ""},

		{"lp/no-host-path", "none", deployment(goodSpec), nil, ""},
		{"lp/no-host-path", "docker socket", deployment(goodSpec + "volumes:\n- {name: sock, hostPath: {path: /var/run/docker.sock}}\n- {name: tmp, emptyDir: {}}\n"), []string{""}, "sock (/var/run/docker.sock)"},

		{"lp/no-host-namespaces", "none", deployment(goodSpec), nil, ""},
		{"lp/no-host-namespaces", "all three", pod("hostNetwork: true\nhostPID: true\nhostIPC: true\n" + containers(hardened)), []string{"", "", ""}, "hostNetwork=true"},
		{"lp/no-host-namespaces", "pid in cronjob", cronJob("hostPID: true\n" + containers(hardened)), []string{""}, "hostPID=true"},

		{"lp/no-nodeport-loadbalancer", "cluster ip", "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: shop}\nspec: {ports: [{port: 80}]}\n", nil, ""},
		{"lp/no-nodeport-loadbalancer", "nodeport", "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: shop}\nspec: {type: NodePort, ports: [{port: 80}]}\n", []string{""}, "NodePort"},
		{"lp/no-nodeport-loadbalancer", "load balancer annotated", "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: shop, annotations: {palisade.dev/expose: \"true\"}}\nspec: {type: LoadBalancer, ports: [{port: 443}]}\n", nil, ""},
		{"lp/no-nodeport-loadbalancer", "load balancer", "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: shop}\nspec: {type: LoadBalancer, ports: [{port: 443}]}\n", []string{""}, "LoadBalancer"},
		{"lp/no-nodeport-loadbalancer", "deployment is not judged", deployment(goodSpec), nil, ""},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.policy] = true
		t.Run(tt.policy+"/"+tt.name, func(t *testing.T) {
			t.Parallel()
			p := lib[tt.policy]
			if p == nil {
				t.Fatalf("no built-in %s", tt.policy)
			}
			res, err := p.Evaluate(t.Context(), &Input{Object: objectOf(t, tt.manifest)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range res.Violations {
				got = append(got, v.Container)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("violations in containers %q, want %q (%+v)", got, tt.want, res.Violations)
			}
			if tt.wantMsg != "" && !strings.Contains(res.Violations[0].Message, tt.wantMsg) {
				t.Errorf("message %q lacks %q", res.Violations[0].Message, tt.wantMsg)
			}
		})
	}
	for id := range lib {
		if !covered[id] {
			t.Errorf("built-in %s has no test cases", id)
		}
	}
}

// TestBuiltinMetadata keeps the library's files complete: what `palisade
// policy list` and findings show comes from them.
func TestBuiltinMetadata(t *testing.T) {
	ids := regexp.MustCompile(`^lp/[a-z0-9-]+$`)
	for id, p := range builtinByID(t) {
		if !ids.MatchString(id) {
			t.Errorf("%s: built-in IDs are lp/<name>", id)
		}
		if p.Title == "" || p.Remediation == "" || len(p.Controls) == 0 {
			t.Errorf("%s: title, remediation and controls are required", id)
		}
		if want := "builtin/" + strings.TrimPrefix(id, "lp/") + ".yaml"; p.File != want {
			t.Errorf("%s: lives in %s, want %s (one policy per file, named after it)", id, p.File, want)
		}
		if p.Mode != Audit {
			t.Errorf("%s: built-ins ship in audit mode; palisade.yaml raises them", id)
		}
	}
}
