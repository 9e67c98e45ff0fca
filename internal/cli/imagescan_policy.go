package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/imagescan"
	"github.com/palisade-sec/palisade/internal/store"
	storeopen "github.com/palisade-sec/palisade/internal/store/open"
)

// openScanStore opens the store that keeps first-seen dates for SLAs:
// --store, else store.dsn; nil when neither is set. Unlike serve, a scan
// does not fall back to the default SQLite file: a CI job that configured
// no store should not quietly grow a database in its home directory (and
// lose it with the runner). The verdict then says SLAs were not evaluated.
func openScanStore(ctx context.Context, g *globals, flagDSN string) (store.Store, error) {
	dsn := firstNonEmpty(flagDSN, g.cfg.Store.DSN)
	if dsn == "" {
		return nil, nil
	}
	st, err := storeopen.Open(ctx, dsn, g.logger)
	switch {
	case errors.Is(err, store.ErrInvalid):
		return nil, usageError(fmt.Errorf("store: %w", err))
	case err != nil:
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}

// imageRepository returns the registry and repository of a registry
// reference, without tag or digest ("ghcr.io/acme/web"), under which
// first-seen dates are kept; "" for images from files and directories.
func imageRepository(src image.Source, insecure bool) string {
	if src.Kind != image.KindRegistry {
		return ""
	}
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(src.Ref, opts...)
	if err != nil {
		return ""
	}
	return ref.Context().Name()
}

// printPolicyWarnings writes the verdict's warnings to stderr, where a CI
// log shows them whatever the output format; the table output also lists
// them under the verdict.
func printPolicyWarnings(w io.Writer, v imagescan.Verdict) {
	for _, s := range v.Warnings {
		fmt.Fprintf(w, "palisade: warning: %s\n", s)
	}
}
