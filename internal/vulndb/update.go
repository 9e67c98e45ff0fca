package vulndb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// DefaultMirror is where osv.dev publishes its per-ecosystem bundles:
// <mirror>/<Ecosystem>/all.zip.
const DefaultMirror = "https://osv-vulnerabilities.storage.googleapis.com"

// DefaultEcosystems are the bundles `palisade db update` fetches by default:
// the ecosystems the image inventory produces packages for.
func DefaultEcosystems() []string {
	return []string{"Alpine", "Debian", "Ubuntu", "Rocky Linux", "AlmaLinux", "Go", "npm", "PyPI", "Maven", "crates.io"}
}

// UpdateOptions tunes Update.
type UpdateOptions struct {
	// Mirror is the base URL (DefaultMirror when empty).
	Mirror string
	// Ecosystems to fetch (DefaultEcosystems when empty).
	Ecosystems []string
	// Client is the HTTP client (http.DefaultClient when nil).
	Client *http.Client
	Import ImportOptions
}

// ErrDownload is returned (wrapped) when a bundle cannot be downloaded.
var ErrDownload = errors.New("download advisory bundle")

// Update downloads each ecosystem's all.zip into temporary files next to
// dbPath and imports them with Import, the same code path as `palisade db
// import`. Nothing is replaced unless every download and the import succeed.
func Update(ctx context.Context, dbPath string, opts UpdateOptions) (*ImportResult, error) {
	mirror := strings.TrimRight(opts.Mirror, "/")
	if mirror == "" {
		mirror = DefaultMirror
	}
	ecosystems := opts.Ecosystems
	if len(ecosystems) == 0 {
		ecosystems = DefaultEcosystems()
	}
	client := opts.Client
	if client == nil {
		client = http.DefaultClient
	}
	dir := filepath.Dir(dbPath)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create database directory %s: %w", dir, err)
	}
	tmpDir, err := os.MkdirTemp(dir, ".download-*")
	if err != nil {
		return nil, fmt.Errorf("create download directory in %s: %w", dir, err)
	}
	defer os.RemoveAll(tmpDir)
	var bundles []string
	for _, eco := range ecosystems {
		u := mirror + "/" + url.PathEscape(eco) + "/all.zip"
		// The file is named after the ecosystem so the database records
		// "Go-all.zip" as the source, like the published bundles.
		path := filepath.Join(tmpDir, strings.ReplaceAll(eco, " ", "_")+"-all.zip")
		if err := download(ctx, client, u, path); err != nil {
			return nil, err
		}
		bundles = append(bundles, path)
	}
	return Import(ctx, dbPath, bundles, opts.Import)
}

func download(ctx context.Context, client *http.Client, u, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%w %s: %w", ErrDownload, u, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w %s: %w", ErrDownload, u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w %s: HTTP %s", ErrDownload, u, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("%w %s: %w", ErrDownload, u, err)
	}
	n, err := io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%w %s: %w", ErrDownload, u, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("%w %s: got %d of %d bytes", ErrDownload, u, n, resp.ContentLength)
	}
	return nil
}
