package connect

import (
	"github.com/palisade-sec/palisade/internal/atomicfile"

	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// LoadJSON reads a checkpoint file into v; a missing file leaves v alone
// and is not an error (the connector starts from its configured start).
func LoadJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read checkpoint: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode checkpoint %s: %w", path, err)
	}
	return nil
}

// SaveJSON replaces path atomically with v: a crash leaves the old
// checkpoint or the new one, never a torn file, and the directory is synced
// so the rename survives a power cut.
func SaveJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}
