package checks

import (
	"strings"
	"testing"
)

func TestJudgeSecret(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        secretKind
	}{
		{"DB_PASSWORD", "hunter2-prod", secretLiteral},
		{"db_password", "xxxxx", secretPlaceholder},
		{"AWS_SECRET_ACCESS_KEY", "XXXX", secretPlaceholder},
		{"admin_password", "changeme", secretPlaceholder},
		{"DB_PASSWORD", "<your password>", secretPlaceholder},
		{"DB_PASSWORD", "#{DbPassword}#", secretPlaceholder},
		{"DB_PASSWORD", "__DB_PASSWORD__", secretPlaceholder},
		{"pwd", "hi", secretPlaceholder}, // too short to be a working secret
		{"pwd", "Hpwd", secretLiteral},
		{"MYSQL_PWD", "s3cr3t", secretLiteral},
		{"AZURE_BATCH_KEY", "Hello from the environment", secretLiteral},
		{"OCI_CLI_KEY_CONTENT", "xxxxx", secretPlaceholder},
		{"DB_PASSWORD", "${DB_PASSWORD}", notSecret}, // resolved at run time
		{"DB_PASSWORD", "$(DB_PASS)", notSecret},     // expanded by Kubernetes
		{"DB_PASSWORD", "{{ .Values.password }}", notSecret},
		{"TOKEN_AUTH", "true", notSecret},
		{"REQUIRE_PASSWORD", "1", notSecret},
		{"MAX_TOKENS", "4096", notSecret},
		{"max_new_tokens", "512", notSecret},
		{"TOKEN_LIMIT", "1000", notSecret},
		{"PWD", "/app", notSecret},
		{"PASSWORD_FILE", "/run/secrets/db", notSecret},
		{"password", "", notSecret},
		{"cwd_pwdx", "value-value", notSecret}, // pwd only as a word
		{"AUTH_HEADER", "Bearer abc123def", secretLiteral},
		{"AUTH_HEADER", "Basic dXNlcjpwYXNzd29yZA==", secretLiteral},
		{"GREETING", "Token rotation", notSecret}, // no digit: words, not a token
		{"some-name", "JWT", notSecret},
		{"some-name", "my_key_value", notSecret},
		{"UPSTREAM", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhcGkifQ.c2lnbmF0dXJl", secretLiteral},
		{"the_good_stuff", "---BEGIN OPENSSH PRIVATE KEY---\nxxxxx\n---END OPENSSH PRIVATE KEY---", secretPlaceholder},
		{"LOG_LEVEL", "AKIAIOSFODNN7EXAMPLE", secretLiteral},
		{"username", "test", notSecret},
		{"DATABASE_URL", "postgres://app:s3cret@db:5432/app", secretLiteral},
		{"DATABASE_URL", "postgres://app:${DB_PASSWORD}@db:5432/app", notSecret},
		{"DATABASE_URL", "postgres://app@db:5432/app", notSecret},
		{"WEBHOOK", "https://hooks.example.com/in?channel=ops&token=9f8e7d6c5b4a", secretLiteral},
		{"WEBHOOK", "https://hooks.example.com/in?channel=ops&token=xxxx", notSecret},
		{"TOKEN_ENDPOINT", "https://idp.example.com/oauth/token", notSecret},
		{"token-expiration", "86400", notSecret},
	} {
		if got, why := judgeSecret(tc.name, tc.value); got != tc.want {
			t.Errorf("judgeSecret(%q, %q) = %v (%s), want %v", tc.name, tc.value, got, why, tc.want)
		}
	}
}

// TestJudgeSecretVersions: version 12 passes names that say how a secret
// is obtained or where it may be used, version 14 those that say how it is
// hashed or whose it is, and command substitutions — unless the value is a
// credential by its form; each judges the rest as the version before.
func TestJudgeSecretVersions(t *testing.T) {
	for _, tc := range []struct {
		name, value  string
		v4, v12, v14 secretKind
	}{
		{"AIRFLOW__API__SECRET_KEY_CMD", "cat /opt/bitnami/airflow/secrets/secret-key", secretLiteral, notSecret, notSecret},
		{"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD", "bash -c 'echo $CONN'", notSecret, notSecret, notSecret},
		{"PARSE_SERVER_MASTER_KEY_IPS", "0.0.0.0/0,::/0", secretLiteral, notSecret, notSecret},
		{"ETCD_AUTH_TOKEN", "jwt,priv-key=/opt/bitnami/etcd/certs/token/jwt-token.pem,sign-method=RS256,ttl=10m", secretLiteral, notSecret, notSecret},
		{"ETCD_AUTH_TOKEN", "simple", secretLiteral, notSecret, notSecret},
		{"ETCD_INITIAL_CLUSTER_TOKEN", "etcd-cluster-k8s", secretLiteral, notSecret, notSecret},
		{"API_TOKEN_CMD", "Bearer 9f8e7d6c5b4a3f2e", secretLiteral, secretLiteral, secretLiteral}, // a credential by its form
		{"VAULT_DEV_ROOT_TOKEN_ID", "s.9f8e7d6c5b4a", secretLiteral, secretLiteral, secretLiteral},
		{"DB_PASSWORD", "hunter2-prod", secretLiteral, secretLiteral, secretLiteral},
		{"SECRET_KEY_COMMANDER", "hunter2-prod", secretLiteral, secretLiteral, secretLiteral}, // a suffix, not a word inside
		{"FAB_PASSWORD_HASH_METHOD", "pbkdf2:sha256", secretLiteral, secretLiteral, notSecret},
		{"JWT_SECRET_ALGORITHM", "HS256", secretLiteral, secretLiteral, notSecret},
		{"REGISTRY_CREDENTIAL_USERNAME", "harbor_registry_user", secretLiteral, secretLiteral, notSecret},
		{"CACHE_GCS_PRIVATE_KEY", "$(echo -e $(cat /secrets/gcs-private-key))", secretLiteral, secretLiteral, notSecret},
		{"API_TOKEN", "`cat /run/secrets/token`", secretLiteral, secretLiteral, notSecret},
		{"image_pull_secrets", "[]", secretPlaceholder, secretPlaceholder, notSecret},
		{"imagePullSecrets", "regcred", secretLiteral, secretLiteral, notSecret},
		{"REGISTRY_CREDENTIAL_USERNAME", "AKIAIOSFODNN7EXAMPLE", secretLiteral, secretLiteral, secretLiteral},                          // a credential by its form
		{"DB_PASSWORD", "$(x)y", secretLiteral, secretLiteral, secretLiteral},                                                          // not one substitution
		{"PASSWORD_HASH", "$2y$10$Qw8kGZ5Lh7tU1p9vX3eR.OqJmB6cN4sD2fH8jK0lZ5xV7bN9mQ1wE", secretLiteral, secretLiteral, secretLiteral}, // a hash of one
	} {
		for _, j := range []struct {
			name  string
			judge judgeFunc
			want  secretKind
		}{{"judgeSecret", judgeSecret, tc.v4}, {"judgeSecretV12", judgeSecretV12, tc.v12}, {"judgeSecretV14", judgeSecretV14, tc.v14}} {
			if got, why := j.judge(tc.name, tc.value); got != j.want {
				t.Errorf("%s(%q, %q) = %v (%s), want %v", j.name, tc.name, tc.value, got, why, j.want)
			}
		}
	}
}

func TestJudgeAnnotation(t *testing.T) {
	for _, tc := range []struct {
		key, value string
		want       secretKind
	}{
		{"example.com/api-token", "7f3a9c2e1b4d8f60", secretLiteral},
		{"example.com/admin-password", "changeme", secretPlaceholder},
		{"nginx.ingress.kubernetes.io/auth-secret", "basic-auth", notSecret},
		{"nginx.ingress.kubernetes.io/auth-tls-secret", "shop/ca-secret", notSecret},
		{"vault.hashicorp.com/agent-inject-secret-db", "database/creds/api", notSecret},
		{"checksum/secret", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", notSecret},
		{"example.com/token-secret.name", "api-token-x7k2p", notSecret},
		{"example.com/token-secret.value", "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJrdWJlcm5ldGVzIn0.c2lnbmF0dXJl", secretLiteral},
		{"example.com/auth-secret", "AKIAIOSFODNN7EXAMPLE", secretLiteral}, // a reference name, a credential value
		{"kubernetes.io/change-cause", "kubectl set env deployment/api DB_PASSWORD=hunter2hunter2", secretLiteral},
		{"kubernetes.io/change-cause", "kubectl create secret generic db --from-literal=password=hunter2hunter2", secretLiteral},
		{"kubernetes.io/change-cause", "kubectl set env deployment/api DB_PASSWORD=xxxx", notSecret},
		{"kubernetes.io/change-cause", "kubectl set image deployment/api api=registry.example.com/api:1.4", notSecret},
	} {
		if got, why := judgeAnnotation(tc.key, tc.value, judgeSecret); got != tc.want {
			t.Errorf("judgeAnnotation(%q, %q) = %v (%s), want %v", tc.key, tc.value, got, why, tc.want)
		}
	}
}

func TestParseLastApplied(t *testing.T) {
	a, err := parseLastApplied(`{"kind":"Secret","metadata":{"annotations":{"a":"1","n":2}},"data":{"x":"eA=="},"stringData":{"y":"why","z":null}}`)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != "Secret" || a.Annotations["a"] != "1" || len(a.Annotations) != 1 || a.Data["x"] != "eA==" || a.Data["y"] != "why" || len(a.Data) != 2 {
		t.Errorf("parseLastApplied = %+v", a)
	}
	for _, bad := range []string{"", "[]", `{"metadata":"x"}`, `{"data":[1]}`, `{"kind":"Secret"`} {
		if _, err := parseLastApplied(bad); err == nil || !strings.Contains(err.Error(), lastApplied) {
			t.Errorf("parseLastApplied(%q): error %v, want one naming %s", bad, err, lastApplied)
		}
	}
}

// FuzzParseLastApplied checks that no annotation value makes the parser or
// the judging of what it returns panic.
func FuzzParseLastApplied(f *testing.F) {
	for _, s := range []string{
		`{"apiVersion":"v1","data":{"DB_PASSWORD":"s3cr3t"},"kind":"ConfigMap","metadata":{"annotations":{"example.com/api-key":"0123456789"},"name":"app"}}`,
		`{"kind":"Secret","stringData":{"password":"hunter2"}}`,
		`{"metadata":{"annotations":null}}`, `null`, `{`, `{"data":{"a":{"b":1}}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseLastApplied(s)
		if err != nil {
			return
		}
		for k, v := range a.Data {
			judgeSecret(k, v)
			secretLine(v, judgeSecret)
		}
		for k, v := range a.Annotations {
			judgeAnnotation(k, v, judgeSecretV12)
		}
	})
}
