package cli

import (
	"strings"
	"testing"
)

// TestPostureScanRenders checks that charts and kustomizations are
// rendered before they are judged, with findings naming what produced them.
func TestPostureScanRenders(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
		notWant  []string
	}{
		{
			name:     "kustomize overlay adds privileged",
			args:     []string{"posture", "scan", "-o", "json", "../kube/render/testdata/kustomize/overlay"},
			wantCode: ExitViolation,
			// Placed at the base's file: the patch's securityContext has
			// the line of the container it was added to.
			want: []string{`"ruleId": "posture/privileged"`, `"namespace": "prod"`, `"name": "prod-web"`,
				`"file": "../kube/render/testdata/kustomize/base/deployment.yaml",
        "line": 13`},
			notWant: []string{"(kustomize build)", "config.kubernetes.io/origin"},
		},
		{
			name:     "a kustomization found in a directory is built",
			args:     []string{"posture", "scan", "-o", "json", "--fail-on", "none", "../kube/render/testdata/walk"},
			wantCode: ExitOK,
			want:     []string{`"namespace": "shop"`, `"file": "../kube/render/testdata/walk/app/base/deployment.yaml"`},
		},
		{
			name:     "--build-kustomizations=false judges files as written",
			args:     []string{"posture", "scan", "-o", "json", "--fail-on", "none", "--build-kustomizations=false", "../kube/render/testdata/walk"},
			wantCode: ExitOK,
			want:     []string{`"file": "../kube/render/testdata/walk/app/base/deployment.yaml"`},
			notWant:  []string{`"namespace": "shop"`},
		},
		{
			name:     "a chart whose defaults do not render is rendered with its ci values",
			args:     []string{"posture", "scan", "-o", "json", "--fail-on", "none", "../kube/render/testdata/required"},
			wantCode: ExitOK,
			want:     []string{`"name": "release-canary"`},
		},
		{
			name:     "a chart's tests are judged",
			args:     []string{"posture", "scan", "-o", "json", "--fail-on", "none", "../kube/render/testdata/hooks"},
			wantCode: ExitOK,
			want:     []string{`"name": "release-test-connection"`},
		},
		{
			name:     "--skip-tests leaves a chart's tests out",
			args:     []string{"posture", "scan", "-o", "json", "--fail-on", "none", "--skip-tests", "../kube/render/testdata/hooks"},
			wantCode: ExitOK,
			want:     []string{`"name": "release-api"`},
			notWant:  []string{"release-test-connection", "release-test-legacy"},
		},
		{
			name:     "our own chart is clean",
			args:     []string{"posture", "scan", "--namespace", "palisade", "--set", "image.digest=sha256:0f5c5a3c1f2b4e8b7a6d9c0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c", "../../deploy/helm/palisade"},
			wantCode: ExitOK,
			want:     []string{"No open findings.", "Score: 100% overall"},
		},
		{
			// The default per-pod SQLite store runs one replica, which the
			// chart excepts on the Deployment, saying why.
			name:     "the default chart excepts its single replica",
			args:     []string{"posture", "scan", "-o", "json", "--namespace", "palisade", "--set", "image.digest=sha256:0f5c5a3c1f2b4e8b7a6d9c0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c", "../../deploy/helm/palisade"},
			wantCode: ExitOK,
			want:     []string{`"ruleId": "posture/replicas"`, "per-pod SQLite store"},
		},
		{
			name:     "chart values change the result",
			args:     []string{"posture", "scan", "-o", "json", "--fail-on", "none", "--release-name", "x", "../../deploy/helm/palisade"},
			wantCode: ExitOK,
			want:     []string{`"ruleId": "posture/image-tag"`, "templates/deployment.yaml"},
		},
		{
			name:     "a chart that fails to render exits 2 naming it",
			args:     []string{"posture", "scan", "../kube/render/testdata/badchart"},
			wantCode: ExitUsage,
			want:     []string{"badchart", "name is required"},
		},
		{
			// Rendered for the newest release the versions table knows
			// (Helm's own default is v1.20 in tests).
			name:     "a chart renders for the newest Kubernetes release",
			args:     []string{"posture", "scan", "-o", "json", "--fail-on", "none", "../kube/render/testdata/versioned"},
			wantCode: ExitOK,
			want:     []string{`"apiVersion": "policy/v1",`},
		},
		{
			name:     "a chart renders for --target-version",
			args:     []string{"posture", "scan", "-o", "json", "--fail-on", "none", "--target-version", "1.20", "../kube/render/testdata/versioned"},
			wantCode: ExitOK,
			want:     []string{`"apiVersion": "policy/v1beta1",`},
		},
		{
			name:     "--api-versions renders what a chart gates on a CRD",
			args:     []string{"posture", "scan", "-o", "json", "--fail-on", "none", "--api-versions", "monitoring.coreos.com/v1,monitoring.coreos.com/v1/ServiceMonitor", "../kube/render/testdata/versioned"},
			wantCode: ExitOK,
			want:     []string{`"kind": "ServiceMonitor"`},
		},
		{
			name:     "no objects passes, with a warning",
			args:     []string{"posture", "scan", t.TempDir()},
			wantCode: ExitOK,
			want:     []string{"no Kubernetes object found; nothing was checked", "Score: n/a"},
		},
		{
			// Helm's renderer would drop the missing subchart silently.
			name:     "a chart missing a dependency is scanned in part and exits 2 naming it",
			args:     []string{"posture", "scan", "-o", "json", "../kube/render/testdata/depchart"},
			wantCode: ExitUsage,
			want:     []string{`"partial": true`, "metrics 4.56.*", "helm dependency build", "release-web"},
		},
		{
			// "-f json", meant as a format, used to fail once per chart and
			// pass a scan without charts.
			name:     "a values file that does not read is a command-line error",
			args:     []string{"posture", "scan", "-f", "json", "../kube/render/testdata/kustomize/base"},
			wantCode: ExitUsage,
			want:     []string{"posture scan: read values file: open json:"},
			notWant:  []string{"Summary:"},
		},
		{
			// store takes common from a registry: read from the scan.
			name:     "dependencies are read from the scanned charts",
			args:     []string{"posture", "scan", "-o", "json", "--fail-on", "none", "../kube/render/testdata/monorepo"},
			wantCode: ExitUsage,
			want:     []string{`"name": "release-store"`, "chart dependencies read from charts of that name", "common 2.x.x from", "db 1.x.x ("},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.args...)
			out := stdout + stderr
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s", code, tt.wantCode, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}
}
