package secrets

import (
	"bytes"
	"path"
	"regexp"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
)

// FileRules returns the built-in rules that judge whole files by path
// (and, where the name alone says too little, by a content check).
func FileRules() []Rule {
	return []Rule{
		{
			ID: "secret/file/dotenv", Title: "Environment file (.env)", Severity: finding.SeverityMedium, Remediation: removeFile,
			Path:    isDotenv,
			Content: hasAssignment,
		},
		{
			ID: "secret/file/aws-credentials", Title: "AWS shared credentials file", Severity: finding.SeverityHigh, Remediation: removeFile,
			Path:    suffix("/.aws/credentials"),
			Content: containsFold("aws_secret_access_key", "aws_session_token"),
		},
		{
			ID: "secret/file/npmrc-token", Title: "npm configuration with an auth token", Severity: finding.SeverityHigh, Remediation: removeFile,
			Path:    base(".npmrc"),
			Content: matches(regexp.MustCompile(`(?m)(?:_authToken|_auth|_password)\s*=\s*[^\s$]`)),
		},
		{
			ID: "secret/file/docker-config", Title: "Docker config with registry credentials", Severity: finding.SeverityHigh, Remediation: removeFile,
			Path: func(p string) bool {
				return strings.HasSuffix(p, "/.docker/config.json") || strings.HasSuffix(p, "/.dockercfg")
			},
			// A config that only names a credential store has empty
			// entries under "auths"; inline credentials have "auth" or
			// "identitytoken" values.
			Content: matches(regexp.MustCompile(`"(?:auth|identitytoken|password)"\s*:\s*"[^"]+"`)),
		},
		{
			ID: "secret/file/kubeconfig", Title: "Kubeconfig with user credentials", Severity: finding.SeverityCritical, Remediation: removeFile,
			Path:       isKubeconfigName,
			Content:    isKubeconfig,
			Supersedes: []string{"secret/generic-assignment", "secret/jwt"},
		},
		{
			ID: "secret/file/ssh-private-key", Title: "SSH private key", Severity: finding.SeverityHigh, Remediation: removeFile,
			Path: func(p string) bool {
				switch path.Base(p) {
				case "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", "identity":
					return true
				}
				return false
			},
			// Only the private half: id_rsa.pub does not match by name, and
			// an id_rsa holding a public key does not match by content.
			Content:    func(b []byte) bool { return bytes.Contains(b, []byte("PRIVATE KEY-----")) },
			Supersedes: []string{"secret/private-key"},
		},
		{
			ID: "secret/file/git-credentials", Title: "Git credential store", Severity: finding.SeverityHigh, Remediation: removeFile,
			Path:    base(".git-credentials"),
			Content: matches(regexp.MustCompile(`://[^:/\s@]+:[^@\s]+@`)),
		},
		{
			ID: "secret/file/pgpass", Title: "PostgreSQL password file", Severity: finding.SeverityHigh, Remediation: removeFile,
			Path:    base(".pgpass"),
			Content: matches(regexp.MustCompile(`(?m)^[^#\s][^:\n]*:[^:\n]*:[^:\n]*:[^:\n]*:\S`)),
		},
		{
			ID: "secret/file/keystore", Title: "Key store (PKCS#12 or Java)", Severity: finding.SeverityMedium, Remediation: removeFile,
			Path: func(p string) bool {
				switch strings.ToLower(path.Ext(p)) {
				case ".p12", ".pfx", ".jks":
					return true
				}
				return false
			},
		},
		{
			ID: "secret/file/shell-history", Title: "Shell or client history file", Severity: finding.SeverityLow, Remediation: removeFile,
			Path: func(p string) bool {
				switch path.Base(p) {
				case ".bash_history", ".zsh_history", ".sh_history", ".ash_history", ".history",
					".mysql_history", ".psql_history", ".python_history", ".node_repl_history", ".rediscli_history":
					return true
				}
				return false
			},
			Content: func(b []byte) bool { return len(bytes.TrimSpace(b)) > 0 },
		},
	}
}

func base(name string) func(string) bool {
	return func(p string) bool { return path.Base(p) == name }
}

func suffix(s string) func(string) bool {
	return func(p string) bool { return strings.HasSuffix(p, s) }
}

func matches(re *regexp.Regexp) func([]byte) bool { return re.Match }

// containsFold returns a check that the content holds any of the
// lowercase words, case-insensitively.
func containsFold(words ...string) func([]byte) bool {
	return func(b []byte) bool {
		l := bytes.ToLower(b)
		for _, w := range words {
			if bytes.Contains(l, []byte(w)) {
				return true
			}
		}
		return false
	}
}

// isDotenv matches .env and .env.<stage>, but not the templates that are
// meant to be committed (.env.example, .env.sample, .env.template, .env.dist).
func isDotenv(p string) bool {
	b := path.Base(p)
	if b == ".env" {
		return true
	}
	stage, ok := strings.CutPrefix(b, ".env.")
	if !ok {
		return false
	}
	switch stage {
	case "example", "sample", "template", "dist", "defaults", "schema":
		return false
	}
	return true
}

var assignment = regexp.MustCompile(`(?m)^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.]*\s*=\s*\S`)

func hasAssignment(b []byte) bool { return assignment.Match(b) }

// isKubeconfigName matches where kubeconfigs live: ~/.kube/config, files
// named like kubeconfig, the kubeadm *.conf files and YAML files.
func isKubeconfigName(p string) bool {
	b := strings.ToLower(path.Base(p))
	switch {
	case b == "config" && strings.HasSuffix(path.Dir(p), "/.kube"):
		return true
	case strings.Contains(b, "kubeconfig"):
		return true
	case strings.HasSuffix(b, ".conf") && strings.Contains(p, "/kubernetes/"):
		return true
	case strings.HasSuffix(b, ".yaml"), strings.HasSuffix(b, ".yml"):
		return true
	}
	return false
}

var (
	kubeKind  = regexp.MustCompile(`(?m)^kind:\s*["']?Config["']?\s*$`)
	kubeUsers = regexp.MustCompile(`(?m)^\s*(?:client-key-data|token|password):\s*["']?[^\s"'$]`)
)

// isKubeconfig reports whether b is a kubeconfig (apiVersion v1, kind
// Config) that holds user credentials inline: a client key, a token or a
// password.
func isKubeconfig(b []byte) bool {
	return bytes.Contains(b, []byte("apiVersion: v1")) && kubeKind.Match(b) && kubeUsers.Match(b)
}
