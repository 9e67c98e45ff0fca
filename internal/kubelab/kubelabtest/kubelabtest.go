// Package kubelabtest starts a kubelab cluster for a test and stops it when
// the test ends, whether it passed or failed.
package kubelabtest

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/kubelab"
)

// RequireEnv names the environment variable that turns a missing kubelab
// into a test failure. `make test` sets it; plain `go test ./...` skips.
const RequireEnv = "PALISADE_REQUIRE_KUBELAB"

// Start starts a cluster with opts and registers its Stop with t.Cleanup.
// When the binaries are absent the test is skipped, or fails when
// PALISADE_REQUIRE_KUBELAB=1.
func Start(t testing.TB, opts kubelab.Options) *kubelab.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := kubelab.Start(ctx, opts)
	if errors.Is(err, kubelab.ErrBinariesMissing) {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%v; %s=1 makes this a failure", err, RequireEnv)
		}
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatalf("start kubelab: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop kubelab: %v", err)
		}
	})
	t.Logf("kubelab %s ready in %v", c.URL, c.StartupTime.Round(time.Millisecond))
	return c
}
