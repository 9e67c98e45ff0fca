package inventorytest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BuildVulnerableGo builds a tiny module that requires golang.org/x/text
// v0.3.7 (GO-2022-1059) with the go command and the module proxy, and
// returns the executable. It skips the test when there is no go command.
func BuildVulnerableGo(t testing.TB) []byte {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go command not found (%v): cannot build the test binary", err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/vulnapp\n\ngo 1.22\n\nrequire golang.org/x/text v0.3.7\n",
		"main.go": `package main

import (
	"fmt"

	"golang.org/x/text/language"
)

func main() { fmt.Println(language.English) }
`,
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "vulnapp")
	cmd := exec.CommandContext(t.Context(), gobin, "build", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "CGO_ENABLED=0", "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
