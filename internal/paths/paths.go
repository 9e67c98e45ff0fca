// Package paths says where Palisade keeps files on a machine: state (the
// SQLite store, the API token file, the server certificate) in the user data
// directory, rebuildable data (the advisory database) in the user cache
// directory. Environment overrides come first so containers and CI can point
// them at volumes.
package paths

import (
	"os"
	"path/filepath"
)

// DataDir is $PALISADE_DATA_DIR, else $XDG_DATA_HOME/palisade, else
// ~/.local/share/palisade. A relative XDG_DATA_HOME is ignored, as the XDG
// spec requires; with no home either, a directory under the temp dir is used.
func DataDir() string { return dataDir(os.Getenv, os.UserHomeDir) }

func dataDir(getenv func(string) string, home func() (string, error)) string {
	if d := getenv("PALISADE_DATA_DIR"); d != "" {
		return d
	}
	if d := getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "palisade")
	}
	if h, err := home(); err == nil && h != "" {
		return filepath.Join(h, ".local", "share", "palisade")
	}
	return filepath.Join(os.TempDir(), "palisade-data")
}

// CacheDir is $PALISADE_CACHE_DIR, else the OS user cache dir + /palisade.
func CacheDir() string {
	if d := os.Getenv("PALISADE_CACHE_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "palisade")
	}
	return filepath.Join(os.TempDir(), "palisade-cache")
}

// VulnDB is the advisory database file that `palisade db import` writes.
func VulnDB() string { return filepath.Join(CacheDir(), "vulndb", "osv.db") }

// Store is the default SQLite store.
func Store() string { return filepath.Join(DataDir(), "palisade.db") }

// APITokens is the default API token file of `palisade serve`.
func APITokens() string { return filepath.Join(DataDir(), "api-tokens.csv") }

// ServerTLSDir holds the generated self-signed serving certificate.
func ServerTLSDir() string { return filepath.Join(DataDir(), "tls") }

// BusDir is the embedded NATS JetStream store.
func BusDir() string { return filepath.Join(DataDir(), "bus") }
