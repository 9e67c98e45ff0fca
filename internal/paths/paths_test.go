package paths

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDataDir(t *testing.T) {
	home := func() (string, error) { return "/home/u", nil }
	noHome := func() (string, error) { return "", errors.New("$HOME is not defined") }
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name   string
		getenv func(string) string
		home   func() (string, error)
		want   string
	}{
		{"PALISADE_DATA_DIR wins", env("PALISADE_DATA_DIR", "/vol", "XDG_DATA_HOME", "/data"), home, "/vol"},
		{"XDG_DATA_HOME", env("XDG_DATA_HOME", "/data"), noHome, "/data/palisade"},
		{"home", env(), home, "/home/u/.local/share/palisade"},
		{"relative XDG_DATA_HOME is ignored", env("XDG_DATA_HOME", "rel"), home, "/home/u/.local/share/palisade"},
		{"neither", env(), noHome, filepath.Join(os.TempDir(), "palisade-data")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dataDir(tt.getenv, tt.home); got != tt.want {
				t.Errorf("dataDir = %q, want %q", got, tt.want)
			}
		})
	}
}
