package sink

import (
	"bufio"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/finding"
)

func fixedNow() time.Time { return time.Date(2026, 11, 25, 10, 5, 0, 0, time.UTC) }

func TestWebhook(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, nil)
	const secret = Secret("s3cr3t-hmac-key")
	w, err := NewWebhook(WebhookOptions{Name: "soc", URL: rec.srv.URL + "/hooks/palisade", Secret: secret, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Send(t.Context(), sampleAlerts()); err != nil {
		t.Fatal(err)
	}
	reqs := rec.requests()
	checkGolden(t, "webhook", render(t, reqs, "Content-Type", TimestampHeader, SignatureHeader))
	r := reqs[0]
	ts, sig := r.Header.Get(TimestampHeader), r.Header.Get(SignatureHeader)
	if err := Verify(secret, ts, sig, r.Body, fixedNow().Add(30*time.Second), 5*time.Minute); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
	for name, tc := range map[string]struct {
		secret  Secret
		ts, sig string
		body    []byte
		now     time.Time
	}{
		"wrong secret":  {"other", ts, sig, r.Body, fixedNow()},
		"tampered body": {secret, ts, sig, append([]byte(" "), r.Body...), fixedNow()},
		"replayed late": {secret, ts, sig, r.Body, fixedNow().Add(time.Hour)},
		"moved stamp":   {secret, strconv.FormatInt(fixedNow().Unix()+1, 10), sig, r.Body, fixedNow()},
	} {
		if err := Verify(tc.secret, tc.ts, tc.sig, tc.body, tc.now, 5*time.Minute); err == nil {
			t.Errorf("%s: Verify accepted it", name)
		}
	}
}

func TestWebhookUnsignedWithoutSecret(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, nil)
	w, _ := NewWebhook(WebhookOptions{Name: "plain", URL: rec.srv.URL})
	if err := w.Send(t.Context(), sampleAlerts()[:1]); err != nil {
		t.Fatal(err)
	}
	if h := rec.requests()[0].Header.Get(SignatureHeader); h != "" {
		t.Errorf("unsigned delivery carries %s: %s", SignatureHeader, h)
	}
}

func TestSlack(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, nil)
	s, err := NewSlack(SlackOptions{Name: "oncall", URL: rec.srv.URL + "/services/T000/B000/XXX"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), sampleAlerts()); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "slack", render(t, rec.requests(), "Content-Type"))
}

func TestAlertmanager(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, nil)
	am, err := NewAlertmanager(AlertmanagerOptions{Name: "am", URL: rec.srv.URL + "/", ExternalURL: "https://palisade.example:8443", Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if err := am.Send(t.Context(), sampleAlerts()); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "alertmanager", render(t, rec.requests(), "Content-Type"))
}

func TestTheHive(t *testing.T) {
	t.Parallel()
	// The second alert is "already known" to TheHive: delivered before.
	rec := newRecorder(t, func(n int) (int, string) {
		if n == 2 {
			return http.StatusBadRequest, `{"type":"CreateError","message":"Alert already exists"}`
		}
		return http.StatusCreated, `{"_id":"~4096"}`
	})
	th, err := NewTheHive(TheHiveOptions{Name: "hive", URL: rec.srv.URL, APIKey: "hive-api-key", Organisation: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if err := th.Send(t.Context(), sampleAlerts()); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "thehive", render(t, rec.requests(), "Authorization", "X-Organisation", "Content-Type"))
}

func TestHTTPSinkErrors(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, func(int) (int, string) { return http.StatusInternalServerError, "boom" })
	for _, s := range []Sink{
		must(NewWebhook(WebhookOptions{Name: "w", URL: rec.srv.URL, Secret: "k"})),
		must(NewSlack(SlackOptions{Name: "s", URL: rec.srv.URL})),
		must(NewAlertmanager(AlertmanagerOptions{Name: "a", URL: rec.srv.URL})),
		must(NewTheHive(TheHiveOptions{Name: "h", URL: rec.srv.URL, APIKey: "hive-api-key"})),
	} {
		err := s.Send(t.Context(), sampleAlerts())
		var se *StatusError
		if !errors.As(err, &se) || se.Code != 500 || se.Sink != s.Name() {
			t.Errorf("%s: got %v, want a StatusError 500", s.Name(), err)
		}
		if strings.Contains(err.Error(), "hive-api-key") {
			t.Errorf("%s: error leaks the API key: %v", s.Name(), err)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	f, err := NewFile(FileOptions{Name: "jsonl", Path: path, MaxBytes: 700, MaxFiles: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	alerts := sampleAlerts()
	if err := f.Send(t.Context(), alerts[:1]); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(path)
	checkGolden(t, "file", string(first))
	// The first line is over 700 bytes and the others about 600, so every
	// later send rotates.
	for i := 0; i < 4; i++ {
		if err := f.Send(t.Context(), alerts[1:]); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{path, path + ".1", path + ".2"} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("after rotation: %v", err)
		}
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		lines := 0
		for sc.Scan() {
			lines++
			if !strings.Contains(sc.Text(), `"id":"ALERT-5A1F00C0FFEE0002"`) {
				t.Errorf("%s: unexpected line %s", p, sc.Text())
			}
		}
		if lines != 1 {
			t.Errorf("%s: %d lines, want 1", p, lines)
		}
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("kept more than MaxFiles rotated files: %v", err)
	}
}

func TestLoadSecret(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	os.WriteFile(file, []byte("from-file\n"), 0o600)
	env := map[string]string{"HOOK_KEY": "from-env"}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct {
		name, env, file string
		want            Secret
		wantErr         bool
	}{
		{name: "env", env: "HOOK_KEY", want: "from-env"},
		{name: "file", file: file, want: "from-file"},
		{name: "none"},
		{name: "unset env", env: "NOPE", wantErr: true},
		{name: "both", env: "HOOK_KEY", file: file, wantErr: true},
		{name: "missing file", file: filepath.Join(dir, "nope"), wantErr: true},
	} {
		got, err := LoadSecret(getenv, tc.env, tc.file)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s: got %q, %v", tc.name, got, err)
		}
	}
	if s := Secret("x"); s.String() != "REDACTED" || s.LogValue().String() != "REDACTED" {
		t.Error("Secret prints its value")
	}
}

func TestMinSeverity(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, nil)
	w := must(NewWebhook(WebhookOptions{Name: "w", URL: rec.srv.URL}))
	s := MinSeverity(w, finding.SeverityCritical)
	if err := s.Send(t.Context(), sampleAlerts()); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), sampleAlerts()[1:]); err != nil { // high only: nothing to send
		t.Fatal(err)
	}
	reqs := rec.requests()
	if len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), "ALERT-5A1F00C0FFEE0001") || strings.Contains(string(reqs[0].Body), "ALERT-5A1F00C0FFEE0002") {
		t.Errorf("got %d requests; want one with only the critical alert", len(reqs))
	}
	if s.Name() != "w" {
		t.Errorf("Name() = %q", s.Name())
	}
}
