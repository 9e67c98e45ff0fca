package checks

// How behaviour version 4 of the secrets checks (configmap-secrets,
// env-secret-literal, annotation-secrets) judges a name/value pair. Versions
// 1–3 keep looksSecret, so pinned scans do not move.
//
// What changed, and why:
//   - A secret-named field holding a fill-in placeholder (xxxxx, changeme,
//     <password>, #{DbPassword}#, a value under 4 characters) is reported,
//     at medium severity with evidence value=placeholder: manifests in git
//     carry placeholders that CI or a person replaces in place at deploy
//     time, so the field is where the real secret will land. changeme is
//     worse: left alone it is a working default password.
//   - A reference is not reported: ${VAR}, $(VAR) and {{ … }} are resolved
//     elsewhere (Kubernetes expands $(VAR) from other env vars, Spring and
//     most config loaders resolve ${VAR} at run time, Helm renders {{ }}),
//     and "password: ${DB_PASSWORD}" is the recommended way to keep the
//     secret out of a ConfigMap. Flag values (true, off, 0) are settings.
//   - Names: pwd as a word (MYSQL_PWD, db_pwd) and cloud keys named by what
//     they unlock (AZURE_BATCH_KEY, AZURE_STORAGE_ACCOUNT_KEY,
//     OCI_CLI_KEY_CONTENT) hold credentials; MAX_TOKENS, TOKEN_LIMIT and
//     the like count tokens and do not, nor do expirations and durations
//     (eks.amazonaws.com/token-expiration: "86400").
//   - Values: a JWT (eyJ….eyJ….sig), an HTTP Authorization value ("Bearer
//     abc123def", "Basic dXNlcjpwYXNz") and a URL with a password or a
//     secret-named parameter are credentials whatever their name; a URL
//     without them under a secret name is an address (TOKEN_ENDPOINT).

import (
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// secretKind is what a name/value pair holds.
type secretKind int

const (
	notSecret         secretKind = iota
	secretPlaceholder            // a secret-named field holding a placeholder
	secretLiteral                // a literal secret
)

// secretNameV4 is secretName plus pwd as a word and keys named by the cloud
// account they unlock. secretNameHints covers every match of it too.
var secretNameV4 = regexp.MustCompile(`(?i)(passw(or)?d|passwd|secret|token|api[_-]?key|apikey|private[_-]?key|access[_-]?key|credential|auth[_-]?key|client[_-]?secret|conn(ection)?[_-]?string` +
	`|(^|[^a-z])pwd([^a-z]|$)|(account|batch|storage|master|signing|encryption|shared|ssh)[_.-]?key|key[_.-]?content)`)

// notSecretNameV4 is notSecretName with '.' as a separator too (annotation
// names such as token-secret.name) and names that count or bound tokens.
var notSecretNameV4 = regexp.MustCompile(`(?i)([_.-](file|path|name|dir|url|uri|ref|key_?id|length|len|ttl|expiry|expiration|expires|seconds|duration|enabled|header|policy|type|count|limit|size|timeout|prefix)$|^.*_secret_name$|(max|min|num)[_.-]?(new[_.-]?)?tokens?$)`)

// jwtValue and authHeaderValue match bearer credentials that secretValue
// does not: a JWT anywhere in the value, and a whole value that is an
// Authorization header's ("Bearer <token>"; the token must hold a digit, so
// "Token rotation" is not one).
var (
	jwtValue        = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)
	authHeaderValue = regexp.MustCompile(`(?i)^(?:bearer|basic|token)\s+([A-Za-z0-9._~+/-]{8,}=*)$`)
)

// privateKeyFrame matches a private-key frame that is not PEM (three
// dashes, as in "---BEGIN OPENSSH PRIVATE KEY---"): a placeholder that says
// a private key goes here.
var privateKeyFrame = regexp.MustCompile(`-{3,}\s*BEGIN [A-Z ]*PRIVATE KEY\s*-{3,}`)

// referenceValue matches values that name a secret kept elsewhere.
var referenceValue = regexp.MustCompile(`^(\$\{[^}]*\}|\$\([^)]*\)|\{\{.*\}\})$`)

// flagValue matches values that are settings, not secrets.
var flagValue = regexp.MustCompile(`(?i)^(true|false|yes|no|on|off|none|null|nil|enabled|disabled|[0-9]{1,3})$`)

// placeholderV4 matches fill-in placeholders: the v1 words and the token
// syntaxes of deploy-time replacement tools (#{X}# in Azure DevOps and
// Octopus, __X__ and @X@ in sed-style pipelines).
var placeholderV4 = regexp.MustCompile(`(?i)^(<.*>|changeme|change-me|change_me|xxx+|\*+|\.\.\.+|example|redacted|dummy|test|todo|tbd|fixme|placeholder|#\{[^}]*\}#?|__[a-z0-9_]+__|@[a-z0-9_]+@)$`)

// urlPassword matches a URL whose userinfo holds a password, the classic
// DATABASE_URL=postgres://app:s3cret@db/app (a name notSecretName passes).
var urlPassword = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@]+:([^/\s@]+)@`)

// urlValue matches a value that is one URL.
var urlValue = regexp.MustCompile(`(?i)^[a-z][a-z0-9+.-]*://\S+$`)

// credentialValue reports whether v holds a credential by its form alone,
// and says why.
func credentialValue(v string) (bool, string) {
	if secretValue.MatchString(v) || jwtValue.MatchString(v) {
		return true, "value looks like a credential"
	}
	if m := authHeaderValue.FindStringSubmatch(v); m != nil && strings.ContainsAny(m[1], "0123456789") {
		return true, "value looks like a credential"
	}
	for _, m := range urlPassword.FindAllStringSubmatch(v, -1) {
		if p := m[1]; !strings.ContainsAny(p[:1], "${<%*") && !placeholderV4.MatchString(p) {
			return true, "value holds a URL with a password"
		}
	}
	if urlValue.MatchString(v) {
		if u, err := url.Parse(v); err == nil {
			q := u.Query()
			for _, k := range slices.Sorted(maps.Keys(q)) {
				for _, qv := range q[k] {
					if kind, _ := judgeSecret(k, qv); kind == secretLiteral {
						return true, "URL parameter " + k + " suggests a secret"
					}
				}
			}
		}
	}
	return false, ""
}

// judgeSecret is looksSecret of behaviour version 4 (see the file comment):
// it says whether name/value holds a literal secret or a placeholder for
// one, and why.
func judgeSecret(name, value string) (secretKind, string) {
	v := strings.TrimSpace(value)
	if v == "" {
		return notSecret, ""
	}
	if ok, why := credentialValue(v); ok {
		return secretLiteral, why
	}
	if privateKeyFrame.MatchString(v) {
		return secretPlaceholder, "value is framed as a private key around a placeholder"
	}
	if !maybeSecretName(name) || !secretNameV4.MatchString(name) || notSecretNameV4.MatchString(name) {
		return notSecret, ""
	}
	// A URL with no password and no secret parameter is an address
	// (TOKEN_ENDPOINT: https://idp.example.com/token).
	if strings.HasPrefix(v, "/") || urlValue.MatchString(v) || referenceValue.MatchString(v) || flagValue.MatchString(v) {
		return notSecret, ""
	}
	if len(v) < 4 || placeholderV4.MatchString(v) {
		return secretPlaceholder, "name " + name + " suggests a secret and the value is a placeholder the real secret will replace"
	}
	return secretLiteral, "name " + name + " suggests a secret"
}

// judgeFunc says whether a name/value pair holds a literal secret or a
// placeholder for one, and why: judgeSecret, judgeSecretV12.
type judgeFunc func(name, value string) (secretKind, string)

// settingNameV12 matches names whose value says how a secret is obtained
// or where it may be used, not the secret (behaviour version 12, from
// rendering Bitnami's charts): Airflow's *_CMD variables hold a command
// that prints the secret (AIRFLOW__API__SECRET_KEY_CMD: "cat
// /opt/…/secret-key"); *_IPS and *_CIDRS the addresses allowed to use a
// key (PARSE_SERVER_MASTER_KEY_IPS: "0.0.0.0/0"); etcd's ETCD_AUTH_TOKEN
// is its token provider ("simple", "jwt,priv-key=FILE,…") and
// ETCD_INITIAL_CLUSTER_TOKEN an identifier that etcd's documentation says
// only keeps clusters apart.
var settingNameV12 = regexp.MustCompile(`(?i)([_.-](cmd|command|ips|cidrs?)$|^etcd_(auth|initial_cluster)_token$)`)

// judgeSecretV12 is judgeSecret that passes settingNameV12 names, unless
// their value is a credential by its form.
func judgeSecretV12(name, value string) (secretKind, string) {
	return settingOr(settingNameV12.MatchString(name), name, value, judgeSecret)
}

// settingOr judges a pair whose value is about a secret (setting) as no
// secret unless the value is a credential by its form, and any other pair
// with next.
func settingOr(setting bool, name, value string, next judgeFunc) (secretKind, string) {
	if !setting {
		return next(name, value)
	}
	if ok, why := credentialValue(strings.TrimSpace(value)); ok {
		return secretLiteral, why
	}
	return notSecret, ""
}

// settingNameV14 matches names whose value is about a secret but not one
// (behaviour version 14, from rendering Bitnami's charts): how it is
// hashed or checked (FAB_PASSWORD_HASH_METHOD = "pbkdf2:sha256", a
// *_ALGORITHM), and the user a credential belongs to
// (REGISTRY_CREDENTIAL_USERNAME): a user name is not a secret, as Trivy's
// KSV01010 username case (DISAGREEMENTS.md) argues; and image pull
// secrets, which name Secrets (gitlab-runner's image_pull_secrets = []).
var settingNameV14 = regexp.MustCompile(`(?i)([_.-](method|algorithm|algo|scheme|user|username|login|email)|pull[_.-]?secrets?)$`)

// commandValue matches a shell command substitution, $(…) or `…`, nested
// ones included: export KEY=$(cat /secrets/key) reads the secret from a
// file when the script runs.
var commandValue = regexp.MustCompile("^(\\$\\(.*\\)|`[^`]*`)$")

// judgeSecretV14 is judgeSecretV12 that also passes settingNameV14 names
// and command substitutions, unless the value is a credential by its form.
func judgeSecretV14(name, value string) (secretKind, string) {
	return settingOr(settingNameV14.MatchString(name) || commandValue.MatchString(strings.TrimSpace(value)), name, value, judgeSecretV12)
}

// secretResult is a finding of kind at path: placeholders are medium, and
// say so in their evidence.
func secretResult(kind secretKind, path []string, msg string, id finding.Evidence) posture.Result {
	r := posture.Result{Path: path, Message: msg, Evidence: []finding.Evidence{id}}
	if kind == secretPlaceholder {
		r.Severity = finding.SeverityMedium
		r.Evidence = append(r.Evidence, ev("value", "placeholder"))
	}
	return r
}
