package checks

import "testing"

// FuzzMaybeSecretName checks that the prefilter never hides a name the
// secretName or secretNameV4 regexp matches: with it, looksSecret and
// judgeSecret answer as without.
func FuzzMaybeSecretName(f *testing.F) {
	for _, s := range []string{"DB_PASSWORD", "password", "Passwd", "api-key", "APIKEY", "client_secret", "AUTH_KEY",
		"connectionString", "ACCESS_KEY", "private_key", "GITHUB_TOKEN", "credentials", "LOG_LEVEL", "ſecret", "KEY", "tOkEn"} {
		f.Add(s)
	}
	for _, s := range []string{"MYSQL_PWD", "pwd", "AZURE_BATCH_KEY", "storage.key", "OCI_CLI_KEY_CONTENT", "Signing-Key"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if secretName.MatchString(name) && !maybeSecretName(name) {
			t.Errorf("maybeSecretName(%q) = false, but secretName matches it", name)
		}
		if secretNameV4.MatchString(name) && !maybeSecretName(name) {
			t.Errorf("maybeSecretName(%q) = false, but secretNameV4 matches it", name)
		}
	})
}

func TestLooksSecret(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        bool
	}{
		{"DB_PASSWORD", "hunter2-prod", true},
		{"db_password", "xxxxx", false}, // placeholder
		{"DB_PASSWORD", "abc", false},   // too short to be a credential
		{"DB_PASSWORD_FILE", "/run/secrets/db", false},
		{"LOG_LEVEL", "debug", false},
		{"LOG_LEVEL", "AKIAIOSFODNN7EXAMPLE", true}, // a credential by its value
		{"ſecret", "s3cr3t-value", true},            // non-ASCII names go to the regexp
		{"Api-Key", "0123456789", true},
	} {
		if got, _ := looksSecret(tc.name, tc.value); got != tc.want {
			t.Errorf("looksSecret(%q, %q) = %v, want %v", tc.name, tc.value, got, tc.want)
		}
	}
}
