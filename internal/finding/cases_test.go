package finding

import (
	"errors"
	"strings"
	"time"
)

// The reports every writer test renders: golden files, schema validation and
// SARIF validation all use these, so each case is checked by all of them.

// testNow is the time of every test report.
func testNow() time.Time { return time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC) }

func testTool() Tool { return Tool{Name: "palisade", Version: "1.2.3"} }

const testDigest = "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270"

type testCase struct {
	name   string
	report *Report
}

func testCases() []testCase {
	return []testCase{
		{"empty", NewReport(testTool(), "ghcr.io/acme/api:1.4.2", testNow(), nil)},
		{"mixed", NewReport(testTool(), "deploy/", testNow(), mixedFindings())},
		{"excepted-only", NewReport(testTool(), "deploy/", testNow(), exceptedFindings())},
		{"hostile", NewReport(testTool(), "evil\x1b]0;pwned\x07/target\x1b[2J", testNow(), hostileFindings())},
		{"partial", partialReport()},
		{"coverage", coverageReport()},
		{"exposed", exposedReport()},
	}
}

// coverageReport is a posture scan that counted what it evaluated: scores,
// JUnit passes and the HTML control tables come from its coverage.
func coverageReport() *Report {
	r := NewReport(testTool(), "cluster prod", testNow(), mixedFindings())
	var b CoverageBuilder
	privileged := []Control{{Framework: "CIS-K8s-1.9", ID: "5.2.1"}, {Framework: "NSA-CISA", ID: "pod-security"}, {Framework: "MITRE-ATT&CK", ID: "T1611"}}
	b.Rule("posture/privileged", "Privileged container", SeverityHigh, privileged)
	b.Rule("posture/probes", "Liveness and readiness probes", SeverityLow, []Control{{Framework: "CIS-K8s-1.9", ID: "5.7.10"}})
	b.Rule("posture/host-network", "Host network", SeverityHigh, []Control{{Framework: "CIS-K8s-1.9", ID: "5.2.5"}})
	for range 8 {
		b.Evaluated("posture/privileged", Scope{Namespace: "payments"})
		b.Evaluated("posture/probes", Scope{Namespace: "payments"})
		b.Evaluated("posture/host-network", Scope{Namespace: "payments"})
	}
	for range 3 {
		b.Evaluated("posture/privileged", Scope{Namespace: "shop"})
		b.Evaluated("posture/host-network", Scope{Namespace: "shop"})
	}
	r.Coverage = b.Build()
	return r
}

// mixedFindings has every severity, findings with and without file and line,
// one rule on two resources, controls, evidence and references.
func mixedFindings() []Finding {
	api := Resource{Namespace: "payments", APIVersion: "apps/v1", Kind: "Deployment", Name: "api", Container: "api", File: "deploy/api.yaml", Line: 31, Column: 11}
	worker := Resource{Namespace: "payments", APIVersion: "apps/v1", Kind: "Deployment", Name: "worker", Container: "worker", File: "deploy/worker.yaml", Line: 27}
	image := Resource{Image: "ghcr.io/acme/api:1.4.2", ImageDigest: testDigest}
	privileged := []Control{{Framework: "CIS-K8s-1.9", ID: "5.2.1"}, {Framework: "NSA-CISA", ID: "pod-security"}, {Framework: "MITRE-ATT&CK", ID: "T1611"}}
	return append([]Finding{
		{
			RuleID: "vuln/CVE-2024-3094", Title: "xz-utils backdoor in liblzma", Severity: SeverityCritical, Category: "vulnerability",
			Resource: image, Message: "xz-utils 5.6.0-0.2 is affected by CVE-2024-3094; fixed in 5.6.1+really5.4.5-1",
			Evidence:    []Evidence{{Name: "package", Value: "deb/debian/xz-utils", Key: true}, {Name: "advisory", Value: "CVE-2024-3094", Key: true}, {Name: "installed", Value: "5.6.0-0.2"}},
			Remediation: "Upgrade `xz-utils` to 5.6.1+really5.4.5-1 or later.",
			References:  []string{"https://nvd.nist.gov/vuln/detail/CVE-2024-3094", "DSA-5649-1"},
		},
		{
			RuleID: "posture/privileged", Title: "Privileged container", Severity: SeverityHigh, Category: "posture",
			Resource: api, Message: `container "api" runs privileged: it holds every capability of the node`,
			Evidence:    []Evidence{{Name: "field", Value: "spec.template.spec.containers[0].securityContext.privileged", Key: true}},
			Remediation: "Set `securityContext.privileged: false`.", Controls: privileged,
		},
		{
			RuleID: "posture/privileged", Title: "Privileged container", Severity: SeverityHigh, Category: "posture",
			Resource: worker, Message: `container "worker" runs privileged: it holds every capability of the node`,
			Evidence:    []Evidence{{Name: "field", Value: "spec.template.spec.containers[0].securityContext.privileged", Key: true}},
			Remediation: "Set `securityContext.privileged: false`.", Controls: privileged,
		},
		{
			RuleID: "secret/aws-access-key-id", Title: "AWS access key ID", Severity: SeverityHigh, Category: "secret",
			Resource: Resource{Image: image.Image, ImageDigest: testDigest, File: "app/config/.env", Line: 3, Column: 19},
			Message:  "AWS access key ID AKIA************MPLE (added in layer 4, removed in layer 6: still in the image)",
			Evidence: []Evidence{{Name: "path", Value: "/app/config/.env", Key: true}, {Name: "layer", Value: "4"}},
		},
		{
			RuleID: "posture/run-as-non-root", Title: "Container may run as root", Severity: SeverityMedium, Category: "posture",
			Resource: Resource{Cluster: "prod-eu", Namespace: "default", APIVersion: "v1", Kind: "Pod", Name: "debug"},
			Message:  "runAsNonRoot is not set and the image user is root",
			Controls: []Control{{Framework: "CIS-K8s-1.9", ID: "5.2.6"}},
		},
		{
			RuleID: "posture/image-tag-latest", Title: "Image uses the latest tag", Severity: SeverityLow, Category: "posture",
			Resource: Resource{Namespace: "payments", Kind: "Deployment", Name: "worker", File: "deploy/worker.yaml"},
			Message:  `image "ghcr.io/acme/worker:latest" is not pinned`,
		},
		{
			RuleID: "posture/deprecated-api", Title: "Deprecated API version", Severity: SeverityInfo, Category: "posture",
			Resource: Resource{APIVersion: "extensions/v1beta1", Kind: "Ingress", Name: "legacy", File: "charts/legacy/templates/ingress.yaml", Line: 1},
			Message:  "extensions/v1beta1 Ingress was removed in Kubernetes 1.22; use networking.k8s.io/v1",
		},
		{
			RuleID: "vuln/GHSA-9wx4-h78v-vm56", Title: "", Severity: SeverityUnknown, Category: "vulnerability",
			Resource: Resource{ImageDigest: testDigest}, Message: "requests 2.31.0 is affected by GHSA-9wx4-h78v-vm56 (no severity rated)",
			Evidence: []Evidence{{Name: "package", Value: "pkg:pypi/requests@2.31.0", Key: true}},
		},
	}, exceptedFindings()...)
}

// exceptedFindings are suppressed by exceptions: one current, one expired,
// one that never expires.
func exceptedFindings() []Finding {
	return []Finding{
		{
			RuleID: "posture/host-path", Title: "hostPath volume", Severity: SeverityHigh, Category: "posture", Status: StatusExcepted,
			Resource:  Resource{Namespace: "monitoring", Kind: "DaemonSet", Name: "node-exporter", File: "deploy/monitoring.yaml", Line: 44},
			Message:   "volume \"proc\" mounts the host path /proc",
			Exception: &ExceptionRef{ID: "EXC-0042", Owner: "platform-team@acme.example", Reason: "node-exporter reads /proc and /sys by design", Expires: time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC)},
		},
		{
			RuleID: "posture/allow-privilege-escalation", Title: "Privilege escalation allowed", Severity: SeverityMedium, Category: "posture", Status: StatusExcepted,
			Resource:  Resource{Namespace: "payments", Kind: "Deployment", Name: "legacy-batch", File: "deploy/batch.yaml", Line: 12},
			Message:   "allowPrivilegeEscalation is not false",
			Exception: &ExceptionRef{ID: "EXC-0007", Owner: "alice@acme.example", Reason: "vendor image, fix promised for Q1", Expires: time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC)},
		},
		{
			RuleID: "vuln/CVE-2023-45853", Title: "zlib MiniZip integer overflow", Severity: SeverityCritical, Category: "vulnerability", Status: StatusExcepted,
			Resource:  Resource{Image: "ghcr.io/acme/api:1.4.2", ImageDigest: testDigest},
			Message:   "zlib1g 1:1.2.13.dfsg-1 is affected by CVE-2023-45853",
			Evidence:  []Evidence{{Name: "package", Value: "deb/debian/zlib1g", Key: true}},
			Exception: &ExceptionRef{ID: "EXC-0001", Owner: "security@acme.example", Reason: "MiniZip is not built into the Debian package (not affected)"},
		},
	}
}

// hostileFindings carry strings an attacker controls: escape sequences that
// clear the screen, recolour, hyperlink or forge lines, bidi overrides,
// invalid UTF-8, tabs and newlines, and absurd lengths.
func hostileFindings() []Finding {
	long := strings.Repeat("AAAA ", 2000)
	return []Finding{
		{
			RuleID: "posture/privileged", Title: "Privileged container", Severity: SeverityCritical,
			Resource: Resource{Namespace: "default\x1b[8m", Kind: "Pod", Name: "evil\x1b[2J\x1b[Hpod", Container: "c\ttab", File: `deploy\windows dir\app.yaml`, Line: 7, Column: 3},
			Message:  "\x1b[32mPASS\x1b[0m nothing to see\nSummary: 0 open (0 critical, 0 high, 0 medium, 0 low, 0 info, 0 unknown), 0 excepted.",
		},
		{
			RuleID: "posture/host-network", Title: "\u202eHost network", Severity: SeverityHigh,
			Resource: Resource{Namespace: "kube-system", Kind: "Pod", Name: "\x1b]8;;https://evil.example/\x1b\\innocent\x1b]8;;\x1b\\", File: "./dir/we:ird name.yaml", Line: 2},
			Message:  "bidi \u202egnirts desrever\u202c, NUL \x00, bell \x07, 8-bit CSI \u009b31mred, bad UTF-8 \xff\xfe, CR\roverwrite",
		},
		{
			RuleID: "vuln/CVE-0000-0000", Title: "Long", Severity: SeverityMedium,
			Resource: Resource{Image: "registry.example/" + strings.Repeat("very-long-name/", 20) + "app:1"},
			Message:  long,
		},
		{
			RuleID: "posture/abs-path", Title: "Absolute paths", Severity: SeverityLow,
			Resource: Resource{Kind: "Pod", Name: "abs", File: `C:\Users\op\pod.yaml`, Line: 1},
			Message:  "absolute Windows path",
		},
		{
			RuleID: "posture/abs-path", Title: "Absolute paths", Severity: SeverityLow,
			Resource: Resource{Kind: "Pod", Name: "abs", File: "/srv/manifests/pod 100%.yaml", Line: 9},
			Message:  "absolute POSIX path",
		},
		{
			RuleID: "posture/host-pid", Title: "Host PID", Severity: SeverityHigh, Status: StatusExcepted,
			Resource: Resource{Namespace: "ops", Kind: "Pod", Name: "debugger"},
			Message:  "hostPID is true",
			Exception: &ExceptionRef{
				ID: "EXC-\x1b[31m9", Owner: "mallory\x1b[1A\x1b[2K@evil.example", Reason: "trust me\r\nSummary: all good",
				Expires: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			},
		},
	}
}

func partialReport() *Report {
	r := NewReport(testTool(), "oci-archive:build/app.tar", testNow(), []Finding{
		{
			RuleID: "secret/private-key", Title: "Private key", Severity: SeverityCritical, Category: "secret",
			Resource: Resource{Image: "oci-archive:build/app.tar", File: "etc/ssl/private/server.key", Line: 1},
			Message:  "PEM private key (RSA)",
			Evidence: []Evidence{{Name: "path", Value: "/etc/ssl/private/server.key", Key: true}},
		},
	})
	r.AddError(errors.New("read layer sha256:9f3a…e1: unexpected EOF"))
	r.AddError(errors.New(`match packages: ecosystem "Maven" is not in the vulnerability database`))
	return r
}

// exposedReport is a posture scan that lists its exposed workloads: one
// reached by Ingress with and without TLS and by a hostPort, one behind a
// NodePort, one on the host network with no finding of its own.
func exposedReport() *Report {
	r := NewReport(testTool(), "deploy/", testNow(), mixedFindings())
	yes, no := true, false
	api := Resource{Namespace: "payments", APIVersion: "apps/v1", Kind: "Deployment", Name: "api", File: "deploy/api.yaml", Line: 1}
	worker := Resource{Namespace: "payments", APIVersion: "apps/v1", Kind: "Deployment", Name: "worker", File: "deploy/worker.yaml", Line: 1}
	agent := Resource{Namespace: "monitoring", APIVersion: "apps/v1", Kind: "DaemonSet", Name: "node-agent", File: "deploy/monitoring.yaml", Line: 40}
	err := r.SetExposed([]ExposedWorkload{
		{Resource: agent, Paths: []ExposurePath{{Via: ViaHostNetwork}}},
		{Resource: worker, Paths: []ExposurePath{{Via: ViaNodePort, Service: "payments/worker", Port: "8080"}}},
		{Resource: api, Paths: []ExposurePath{
			{Via: ViaIngress, Ingress: "payments/api", Host: "api.acme.example", Path: "/v1", Service: "payments/api", Port: "http", TLS: &yes},
			{Via: ViaIngress, Ingress: "payments/api", Service: "payments/api", Port: "80", TLS: &no},
			{Via: ViaHostPort, Port: "8443/TCP", Container: "api"},
		}},
	})
	if err != nil {
		panic(err)
	}
	return r
}
