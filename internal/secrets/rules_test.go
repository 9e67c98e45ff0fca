package secrets

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type detectCase struct {
	name string
	path string // default /app/config.txt
	text string
	want []string // "rule:line:severity", any order
}

// runCases scans each case's text as one file with the default rules.
func runCases(t *testing.T, cases []detectCase) {
	t.Helper()
	var s Scanner
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.path
			if p == "" {
				p = "/app/config.txt"
			}
			res, err := s.ScanReader(t.Context(), p, strings.NewReader(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, f := range res.Findings {
				got = append(got, fmt.Sprintf("%s:%d:%s", f.RuleID, f.Resource.Line, f.Severity))
				for _, e := range f.Evidence {
					if strings.Contains(tc.text, e.Value) && len(e.Value) > 12 && e.Name == EvMatch {
						t.Errorf("evidence %s leaks the secret", e.Name)
					}
				}
			}
			want := append([]string{}, tc.want...)
			slices.Sort(got)
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAWS(t *testing.T) {
	runCases(t, []detectCase{
		{name: "access key id", text: "key_id = " + tokAWSID + "\n", want: []string{"secret/aws-access-key:1:high"}},
		{name: "temporary key id", text: `"AccessKeyId": "ASIA` + tokAWSID[4:] + `"`, want: []string{"secret/aws-access-key:1:high"}},
		{name: "secret key next to its name", text: "[default]\naws_access_key_id=" + tokAWSID + "\naws_secret_access_key = " + tokAWSSecret + "\n",
			want: []string{"secret/aws-access-key:2:high", "secret/aws-secret-key:3:critical"}},
		{name: "secret key in JSON", text: `{"SecretAccessKey": "` + tokAWSSecret + `"}`, want: []string{"secret/aws-secret-key:1:critical"}},
		// AWS documents these as example keys: reported, at low severity.
		{name: "documented example id", text: "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", want: []string{"secret/aws-access-key:1:low"}},
		{name: "documented example secret", text: "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", want: []string{"secret/aws-secret-key:1:low"}},
		{name: "filler id", text: "AKIAXXXXXXXXXXXXXXXX"},
		{name: "too short", text: "AKIA" + tokAWSID[4:18]},
		{name: "inside a longer word", text: "X" + tokAWSID + "Y"},
		{name: "lowercase", text: strings.ToLower(tokAWSID)},
		{name: "secret without name", text: "value: " + tokAWSSecret},
		{name: "secret placeholder", text: "aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}"},
		{name: "secret 39 chars", text: "aws_secret_access_key = " + tokAWSSecret[:39]},
	})
}

func TestGCP(t *testing.T) {
	sa := `{
  "type": "service_account",
  "project_id": "demo-123",
  "private_key_id": "` + gen("kid", 40, hexLow) + `",
  "private_key": "` + jsonEscape(fakeKeyPEM("PRIVATE KEY", "gcp")) + `",
  "client_email": "ci@demo-123.iam.gserviceaccount.com"
}`
	runCases(t, []detectCase{
		{name: "service account key", path: "/app/sa.json", text: sa, want: []string{"secret/gcp-service-account:4:critical"}},
		{name: "key id without service account", path: "/app/x.json", text: `{"private_key_id": "` + gen("kid", 40, hexLow) + `"}`},
		{name: "service account without key", path: "/app/x.json", text: `{"type": "service_account", "private_key_id": "` + gen("kid", 40, hexLow) + `"}`},
	})
}

func TestAzure(t *testing.T) {
	runCases(t, []detectCase{
		{name: "connection string", text: "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=" + tokAzureKey + ";EndpointSuffix=core.windows.net",
			want: []string{"secret/azure-storage-key:1:critical"}},
		{name: "storage key variable", text: `AZURE_STORAGE_KEY="` + tokAzureKey + `"`, want: []string{"secret/azure-storage-key:1:critical"}},
		{name: "client secret", text: "client_secret: " + tokAzureCS, want: []string{"secret/azure-client-secret:1:high"}},
		{name: "account key placeholder", text: "AccountKey=" + strings.Repeat("x", 86) + "==;"},
		{name: "no Q~ marker", text: "client_id: " + gen("azcs1", 3, alnum) + "7Qx" + gen("azcs2", 34, alnum)},
	})
}

func TestGitHub(t *testing.T) {
	if got := githubChecksum(publicGitHubToken[4:34]); got != publicGitHubToken[34:] {
		t.Fatalf("checksum of the published example = %s, want %s", got, publicGitHubToken[34:])
	}
	runCases(t, []detectCase{
		{name: "personal access token", text: "GITHUB_TOKEN=" + tokGitHub, want: []string{"secret/github-token:1:critical"}},
		{name: "published example", text: "token: " + publicGitHubToken, want: []string{"secret/github-token:1:critical"}},
		{name: "oauth token", text: `"` + ghToken("gho", "oauth") + `"`, want: []string{"secret/github-token:1:critical"}},
		{name: "app tokens", text: ghToken("ghs", "s") + "\n" + ghToken("ghu", "u") + "\n" + ghToken("ghr", "r"),
			want: []string{"secret/github-token:1:critical", "secret/github-token:2:critical", "secret/github-token:3:critical"}},
		{name: "fine-grained", text: "export GH=" + tokGitHubPAT, want: []string{"secret/github-token:1:critical"}},
		{name: "bad checksum", text: "x " + tokGitHubBad},
		{name: "placeholder", text: "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
		{name: "too short", text: tokGitHub[:30]},
		{name: "unknown prefix", text: "ghx_" + tokGitHub[4:]},
	})
}

func TestGitLabSlackStripe(t *testing.T) {
	runCases(t, []detectCase{
		{name: "gitlab pat", text: "CI_TOKEN=" + tokGitLab, want: []string{"secret/gitlab-token:1:critical"}},
		{name: "gitlab routable pat", text: "token " + tokGitLab + "." + gen("gl2", 2, "0123456789") + "." + gen("gl3", 9, alnum) + ".", want: []string{"secret/gitlab-token:1:critical"}},
		{name: "gitlab placeholder", text: "glpat-xxxxxxxxxxxxxxxxxxxx"},
		{name: "gitlab short", text: "glpat-abc"},
		{name: "slack bot token", text: "SLACK_BOT_TOKEN=" + tokSlack, want: []string{"secret/slack-token:1:high"}},
		{name: "slack placeholder", text: "SLACK_BOT_TOKEN=xoxb-your-token-here"},
		{name: "slack webhook", text: "url: " + tokSlackHook, want: []string{"secret/slack-webhook:1:medium"}},
		// The URL Slack's documentation shows.
		{name: "slack docs webhook", text: "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"},
		{name: "stripe live key", text: "stripe.api_key = '" + tokStripe + "'", want: []string{"secret/stripe-key:1:critical"}},
		{name: "stripe restricted key", text: "rk_live_" + tokStripe[8:], want: []string{"secret/stripe-key:1:critical"}},
		{name: "stripe test key", text: "sk_test_" + tokStripe[8:]},
	})
}

func TestPrivateKeys(t *testing.T) {
	key := testKeyPEM(t, "PRIVATE KEY")
	runCases(t, []detectCase{
		{name: "pkcs8", path: "/etc/ssl/private/app.key", text: key, want: []string{"secret/private-key:1:high"}},
		{name: "rsa after text", text: "some config\n" + fakeKeyPEM("RSA PRIVATE KEY", "rsa"), want: []string{"secret/private-key:2:high"}},
		{name: "openssh", text: fakeKeyPEM("OPENSSH PRIVATE KEY", "ossh"), want: []string{"secret/private-key:1:high"}},
		{name: "pgp", text: fakeKeyPEM("PGP PRIVATE KEY BLOCK", "pgp"), want: []string{"secret/private-key:1:high"}},
		{name: "pgp armor headers", text: strings.Replace(fakeKeyPEM("PGP PRIVATE KEY BLOCK", "pgp"), "-----\n", "-----\nVersion: GnuPG v2\nComment: test\n\n", 1), want: []string{"secret/private-key:1:high"}},
		{name: "escaped in json", text: `{"key": "` + jsonEscape(key) + `"}`, want: []string{"secret/private-key:1:high"}},
		{name: "encrypted pem", text: "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nabc\n", want: []string{"secret/private-key:1:high"}},
		{name: "certificate and public key", path: "/etc/ssl/certs/ca.pem", text: testCertPEM(t)},
		{name: "header constant in code", path: "/usr/lib/python3/ssl_helpers.py", text: "BEGIN = \"-----BEGIN RSA PRIVATE KEY-----\"\nif line == BEGIN:\n    pass\n"},
		{name: "docs with ellipsis", text: "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n"},
	})
}

func TestJWT(t *testing.T) {
	real := jwt(`{"alg":"RS256","typ":"JWT","kid":"k1"}`, `{"iss":"https://auth.acme.io","sub":"svc-ci","exp":1900000000}`)
	runCases(t, []detectCase{
		{name: "bearer token", text: "Authorization: Bearer " + real, want: []string{"secret/jwt:1:medium"}},
		{name: "jwt.io example", text: jwt(`{"alg":"HS256","typ":"JWT"}`, `{"sub":"1234567890","name":"John Doe","iat":1516239022}`), want: []string{"secret/jwt:1:low"}},
		{name: "pyjwt docs example", text: jwt(`{"alg":"HS256","typ":"JWT"}`, `{"some":"payload"}`), want: []string{"secret/jwt:1:low"}},
		{name: "alg none", text: jwt(`{"alg":"none"}`, `{"sub":"x"}`)},
		{name: "header not json", text: "eyJ" + gen("nj", 20, alnum) + ".eyJ" + gen("nj2", 20, alnum) + "." + gen("nj3", 30, alnum)},
		{name: "no alg", text: jwt(`{"typ":"JWT"}`, `{"sub":"x"}`)},
	})
}

func TestGenericAssignment(t *testing.T) {
	runCases(t, []detectCase{
		{name: "quoted password", text: `db_password = "` + tokPassword + `"`, want: []string{"secret/generic-assignment:1:medium"}},
		{name: "yaml secret", text: "auth:\n  client_secret: " + tokPassword + "\n", want: []string{"secret/generic-assignment:2:medium"}},
		{name: "dotenv style", path: "/app/settings.ini", text: "API_KEY=" + tokPassword, want: []string{"secret/generic-assignment:1:medium"}},
		{name: "quoted with sigils", text: `password: "a$Bc(9)` + tokPassword[:8] + `"`, want: []string{"secret/generic-assignment:1:medium"}},
		{name: "specific rule wins", text: "GITHUB_TOKEN=" + tokGitHub, want: []string{"secret/github-token:1:critical"}},
		{name: "changeme", text: `password = "changeme"`},
		{name: "template variable", text: `token: "${API_TOKEN}"`},
		{name: "angle placeholder", text: `api_key = "<your-api-key>"`},
		{name: "xxxx", text: `secret: "xxxxxxxxxxxxxxxx"`},
		{name: "example value", text: `password = "example-password-1"`},
		{name: "code call", text: `password = os.getenv("DB_PASSWORD")`},
		{name: "env reference", text: `password: DB_PASSWORD_FILE`},
		{name: "attribute path", text: `token = settings.auth.token`},
		{name: "file path", text: `PASSWORD_FILE=/run/secrets/db`},
		{name: "low entropy", text: `password = "aaaaabbbbb"`},
		{name: "too short", text: `password = "Zx9!"`},
		{name: "go constant", text: "\tSIOCGLIFTOKEN                 = -0x3f879678"},
		{name: "prose", text: `log.Printf("error acquiring upload token: creating token file: %v", err)`},
		{name: "unquoted lowercase word", text: "secret: confidential"},
		{name: "code identifier", text: "            userdata.password = password_ptr"},
		{name: "camel case member", text: "        self.token = accessToken"},
		{name: "label value", text: `    AttributeOID.CHALLENGE_PASSWORD: "challengePassword",`},
		{name: "kebab words", text: "#jdk.security.krb5.default.initiate.credential=always-impersonate"},
		{name: "vim member", text: "	let pwd = a:dict.istemp ? a:dict.tmpdir : ''"},
		{name: "type annotation", text: `    backend: "Backend", private_key: "_DSAPrivateKey", data: bytes`},
		{name: "random letters", text: `secret = "XkQmLvPrTzWn"`, want: []string{"secret/generic-assignment:1:medium"}},
		{name: "pascal constant", text: "                    token = Whitespace"},
		{name: "docs url", text: "        https://example.com/protected?access_token=kjfch2345sdf   # Query"},
		{name: "c++ scope", text: "hide node::credentials::HasOnly outside unit"},
		{name: "unquoted env value", path: "/app/settings.env", text: "SESSION_SECRET=" + tokPassword, want: []string{"secret/generic-assignment:1:medium"}},
		{name: "name not at the end", text: "token_url = https://auth.acme.io/oauth2/" + tokPassword},
	})
}

func TestRulesValid(t *testing.T) {
	if err := checkRules(Default()); err != nil {
		t.Fatal(err)
	}
	bad := []Rule{{ID: "Bad ID"}, {ID: "secret/x"}, {ID: "secret/x", Path: isDotenv}}
	if err := checkRules(bad); err == nil {
		t.Fatal("checkRules accepted bad rules")
	}
}

func TestMatchNeverPrintsSecret(t *testing.T) {
	m := &Match{Secret: tokGitHub, Line: []byte("x=" + tokGitHub)}
	for _, out := range []string{fmt.Sprint(m), fmt.Sprintf("%v %s", m, m), m.LogValue().String()} {
		if strings.Contains(out, tokGitHub[4:]) {
			t.Errorf("printed match leaks the secret: %s", out)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{tokGitHub, "ghp_…(40 chars)"},
		{"Zx9!abcd", "Zx…(8 chars)"},
		{"abc", "…(3 chars)"},
		{"", "…(0 chars)"},
		{"\x1b[2Jabcdefghijkl", "…(16 chars)"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
