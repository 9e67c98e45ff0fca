package secrets

import (
	"regexp"

	"github.com/palisade-sec/palisade/internal/finding"
)

// Remediation texts shared by rules.
const (
	rotate     = "Revoke and rotate the credential, remove it from every layer (rebuild without it; deleting it in a later layer does not help), and provide it at run time from a secret store or a build secret mount."
	removeFile = "Remove the file from the image in the layer that adds it (use .dockerignore, multi-stage builds or build secret mounts) and rotate any credential it holds."
)

// Default returns the built-in rules: content rules, then file rules
// (FileRules). Each call compiles fresh values; build the list once and
// share it.
func Default() []Rule {
	return append(ContentRules(), FileRules()...)
}

// ContentRules returns the built-in rules that look inside text files.
func ContentRules() []Rule {
	return []Rule{
		{
			ID: "secret/aws-access-key", Title: "AWS access key ID", Severity: finding.SeverityHigh, Remediation: rotate,
			// Key IDs are 20 characters: a 4-letter type prefix (AKIA long-term,
			// ASIA temporary STS, ABIA bearer, ACCA context-specific) and 16
			// upper-case alphanumerics.
			Keywords: []string{"akia", "asia", "abia", "acca"},
			Regexp:   regexp.MustCompile(`\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b`),
			Validate: awsVerdict(2.5),
		},
		{
			ID: "secret/aws-secret-key", Title: "AWS secret access key", Severity: finding.SeverityCritical, Remediation: rotate,
			// 40 base64 characters, only recognisable next to its name.
			Keywords: []string{"secret_access_key", "secretaccesskey", "secret-access-key"},
			Regexp:   regexp.MustCompile(`(?i)(?:aws)?[_.-]?secret[_.-]?access[_.-]?key["']?\s*(?:[:=]|=>|:=)\s*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)`),
			Validate: awsVerdict(3.5),
		},
		{
			ID: "secret/gcp-service-account", Title: "GCP service account key", Severity: finding.SeverityCritical, Remediation: rotate,
			// A key file is JSON with "type": "service_account", a
			// "private_key_id" (40 hex) and the "private_key" itself.
			Keywords:   []string{"private_key_id"},
			Requires:   []string{"service_account", `"private_key"`},
			Regexp:     regexp.MustCompile(`"private_key_id"\s*:\s*"([0-9a-f]{40})"`),
			Supersedes: []string{"secret/private-key"},
		},
		{
			ID: "secret/azure-storage-key", Title: "Azure storage account key", Severity: finding.SeverityCritical, Remediation: rotate,
			// 64 random bytes in base64 (86 characters and "=="), in a
			// connection string (AccountKey=) or next to a key name.
			Keywords: []string{"accountkey", "account_key", "storagekey", "storage_key", "account-key"},
			Regexp:   regexp.MustCompile(`(?i)(?:account|storage)[_-]?key["']?\s*[:=]\s*["']?([A-Za-z0-9+/]{86}==)`),
			Validate: entropyVerdict(4.0),
		},
		{
			ID: "secret/azure-client-secret", Title: "Azure AD (Entra ID) client secret", Severity: finding.SeverityHigh, Remediation: rotate,
			// Current client secrets carry "Q~" after three characters and
			// a digit, 40 characters in all.
			Keywords: []string{"0q~", "1q~", "2q~", "3q~", "4q~", "5q~", "6q~", "7q~", "8q~", "9q~"},
			Regexp:   regexp.MustCompile(`(?:^|[^A-Za-z0-9_~.-])([A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34})(?:$|[^A-Za-z0-9_~.-])`),
			Validate: entropyVerdict(3.5),
		},
		{
			ID: "secret/github-token", Title: "GitHub token", Severity: finding.SeverityCritical, Remediation: rotate,
			Keywords: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"},
			Regexp:   regexp.MustCompile(`\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b`),
			Validate: validGitHubToken,
		},
		{
			ID: "secret/npm-token", Title: "npm access token", Severity: finding.SeverityCritical, Remediation: rotate,
			// Same layout as GitHub's classic tokens: "npm_", 30 random
			// base62 characters, a 6-character CRC-32 checksum.
			Keywords: []string{"npm_"},
			Regexp:   regexp.MustCompile(`\b(npm_[A-Za-z0-9]{36})\b`),
			Validate: validGitHubToken,
		},
		{
			ID: "secret/gitlab-token", Title: "GitLab token", Severity: finding.SeverityCritical, Remediation: rotate,
			// glpat- personal/project/group tokens (20 characters, or the
			// longer routable form with dots), gldt- deploy, glrt- runner
			// and glptt- pipeline trigger tokens.
			Keywords: []string{"glpat-", "gldt-", "glrt-", "glptt-"},
			Regexp:   regexp.MustCompile(`\b((?:glpat|gldt|glrt|glptt)-[A-Za-z0-9_.-]{20,320})`),
			Validate: validGitLabToken,
		},
		{
			ID: "secret/slack-token", Title: "Slack token", Severity: finding.SeverityHigh, Remediation: rotate,
			Keywords: []string{"xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxe-", "xapp-"},
			Regexp:   regexp.MustCompile(`\b(xox[bpare]-[0-9]{6,15}-[0-9A-Za-z-]{8,200}|xapp-[0-9]-[A-Z0-9]{6,15}-[0-9]{6,15}-[A-Za-z0-9]{32,80})\b`),
			Validate: entropyVerdict(3.0),
		},
		{
			ID: "secret/slack-webhook", Title: "Slack incoming webhook URL", Severity: finding.SeverityMedium, Remediation: rotate,
			Keywords: []string{"hooks.slack.com/"},
			Regexp:   regexp.MustCompile(`https://hooks\.slack\.com/(?:services|workflows|triggers)/(T[A-Z0-9]{6,12}/[A-Z0-9]{6,14}/[A-Za-z0-9]{16,48})`),
			Validate: entropyVerdict(3.0),
		},
		{
			ID: "secret/stripe-key", Title: "Stripe live secret or restricted key", Severity: finding.SeverityCritical, Remediation: rotate,
			Keywords: []string{"sk_live_", "rk_live_"},
			Regexp:   regexp.MustCompile(`\b([sr]k_live_[0-9A-Za-z]{20,247})\b`),
			Validate: entropyVerdict(3.0),
		},
		{
			ID: "secret/private-key", Title: "Private key", Severity: finding.SeverityHigh, Remediation: rotate,
			// PEM and OpenSSH private keys; certificates and public keys
			// have other labels and never match.
			Keywords: []string{"private key-----", "private key block-----"},
			Regexp:   regexp.MustCompile(`-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----`),
			Validate: validPrivateKey,
		},
		{
			ID: "secret/jwt", Title: "JSON Web Token", Severity: finding.SeverityMedium, Remediation: rotate,
			// Header and payload are base64url JSON objects, so both start
			// with "eyJ" ("{\"").
			Keywords: []string{"eyj"},
			Regexp:   regexp.MustCompile(`\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{16,})`),
			Validate: validJWT,
		},
		{
			ID: "secret/generic-assignment", Title: "Secret assigned to a secret-like name", Severity: finding.SeverityMedium, Remediation: rotate,
			// Anchored at each keyword, so the name must end with it:
			// "db_password = …" matches, "token_url = …" does not.
			Keywords: []string{"passwd", "password", "passphrase", "pwd", "secret", "token", "api_key", "apikey", "api-key", "auth_key", "auth-key", "authkey", "private_key", "private-key", "privatekey", "credential"},
			Anchored: true,
			Precheck: assignmentAhead,
			Regexp: regexp.MustCompile(`^(?i:passwd|password|passphrase|pwd|secret|token|api[_-]?key|auth[_-]?key|private[_-]?key|credentials?)["']?\s*(?:[:=]|:=|=>)\s*` +
				`(?:"([^"\s]+)"|'([^'\s]+)'|([^"'\s,;]+))`), // length checked by genericVerdict: a small program runs faster
			Validate: genericVerdict,
			Generic:  true,
		},
	}
}
