package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPostureClusters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		want       Posture
		err        string // substring of the error; empty: parses
	}{
		{"two", "posture:\n  clusters:\n  - {name: prod-eu, kubeconfig: /etc/palisade/prod.kubeconfig, context: eu-1}\n  - name: stage\n    kubeconfig: /etc/palisade/stage.kubeconfig\n",
			Posture{Clusters: []PostureCluster{{Name: "prod-eu", Kubeconfig: "/etc/palisade/prod.kubeconfig", Context: "eu-1"}, {Name: "stage", Kubeconfig: "/etc/palisade/stage.kubeconfig"}}}, ""},
		{"empty list", "posture:\n  clusters: []\n", Posture{}, ""},
		{"no name", "posture:\n  clusters:\n  - {kubeconfig: /k}\n", Posture{}, "c.yaml:3:5: posture.clusters[0]: a cluster needs a name"},
		{"bad name", "posture:\n  clusters:\n  - {name: Prod_EU!, kubeconfig: /k}\n", Posture{}, `c.yaml:3:6: posture.clusters[0].name: "Prod_EU!": want lowercase letters`},
		{"no kubeconfig", "posture:\n  clusters:\n  - {name: prod}\n", Posture{}, "c.yaml:3:5: posture.clusters[0]: a cluster needs a kubeconfig"},
		{"twice", "posture:\n  clusters:\n  - {name: prod, kubeconfig: /a}\n  - {name: prod, kubeconfig: /b}\n", Posture{}, `posture.clusters[1].name: duplicate cluster name "prod" (also posture.clusters[0])`},
		{"not a list", "posture:\n  clusters: prod\n", Posture{}, "posture.clusters: want a list of {name, kubeconfig, context}"},
		{"unknown key", "posture:\n  clusters:\n  - {name: prod, kubeconfig: /a, kubeContext: x}\n", Posture{}, `unknown field "kubeContext"`},
		{"unknown section key", "posture:\n  cluster: []\n", Posture{}, `unknown field "cluster"`},
		{"annotation exceptions off", "posture:\n  annotationExceptions: false\n", Posture{IgnoreAnnotationExceptions: true}, ""},
		{"annotation exceptions on", "posture:\n  annotationExceptions: true\n", Posture{}, ""},
		{"availability", "posture:\n  availability:\n    minReplicas: 3\n    priorityClasses: [system-cluster-critical, business]\n", Posture{Availability: Availability{MinReplicas: 3, PriorityClasses: []string{"system-cluster-critical", "business"}}}, ""},
		{"negative replicas", "posture:\n  availability: {minReplicas: -1}\n", Posture{}, "posture.availability.minReplicas: must not be negative"},
		{"empty class", "posture:\n  availability: {priorityClasses: ['']}\n", Posture{}, "posture.availability.priorityClasses[0]: empty priority class name"},
		{"annotation exceptions not a bool", "posture:\n  annotationExceptions: no-thanks\n", Posture{}, "c.yaml:2:3: posture.annotationExceptions: want true or false"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse("c.yaml", []byte(tc.yaml))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, c.Posture); diff != "" {
				t.Errorf("posture (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPostureKubeconfigRelative: a relative kubeconfig is taken from the
// configuration file's directory, not the working directory.
func TestPostureKubeconfigRelative(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "palisade.yaml")
	if err := os.WriteFile(path, []byte("posture:\n  clusters:\n  - {name: a, kubeconfig: clusters/a.kubeconfig}\n  - {name: b, kubeconfig: /abs/b.kubeconfig}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Posture.Clusters[0].Kubeconfig, filepath.Join(dir, "clusters/a.kubeconfig"); got != want {
		t.Errorf("relative kubeconfig = %s, want %s", got, want)
	}
	if got := c.Posture.Clusters[1].Kubeconfig; got != "/abs/b.kubeconfig" {
		t.Errorf("absolute kubeconfig = %s", got)
	}
}
