package tail

import (
	"github.com/palisade-sec/palisade/internal/atomicfile"

	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// Checkpoint is where a tailer resumes: a file identity and the offset just
// past the last line whose events the bus acknowledged.
type Checkpoint struct {
	Path   string `json:"path"`
	Dev    uint64 `json:"dev"`
	Inode  uint64 `json:"inode"`
	Offset int64  `json:"offset"`
	Line   int    `json:"line"` // lines consumed, for file:line in reports
	// Head is a hash of the file's first bytes (up to the first newline,
	// at most headBytes): an inode reused by a new file, or a file truncated
	// and rewritten in place, has another head, so the offset is not trusted.
	Head string `json:"head"`
}

// headBytes bounds how much of the first line the head hash covers; an
// audit event's first few KiB (auditID, timestamps) are unique enough.
const headBytes = 4096

// fileID is a file's identity on disk.
type fileID struct{ dev, ino uint64 }

func idOf(fi os.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{uint64(st.Dev), uint64(st.Ino)} //nolint:unconvert // Dev is int32 on some platforms
	}
	return fileID{}
}

// headOf hashes f's first line (up to headBytes); "" when the file has no
// complete first line yet, which matches no checkpoint.
func headOf(f *os.File) (string, error) {
	b := make([]byte, headBytes)
	n, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read head of %s: %w", f.Name(), err)
	}
	b = b[:n]
	end := -1
	for i, c := range b {
		if c == '\n' {
			end = i
			break
		}
	}
	switch {
	case end >= 0:
		b = b[:end]
	case n < headBytes:
		return "", nil // first line still being written
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// loadCheckpoint reads path; a missing file is no checkpoint, not an error.
func loadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read tail checkpoint: %w", err)
	}
	var c Checkpoint
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("decode tail checkpoint %s: %w", path, err)
	}
	if c.Offset < 0 || c.Line < 0 {
		return nil, fmt.Errorf("tail checkpoint %s: negative offset or line", path)
	}
	return &c, nil
}

// saveCheckpoint replaces path atomically: a crash leaves the old checkpoint
// or the new one, never a torn file. The directory is synced so the rename
// itself survives a power cut.
func saveCheckpoint(path string, c *Checkpoint) error {
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode tail checkpoint: %w", err)
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("save tail checkpoint: %w", err)
	}
	return nil
}
