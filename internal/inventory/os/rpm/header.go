package rpm

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Header tags and types, from rpm's rpmtag.h.
const (
	tagName      = 1000
	tagVersion   = 1001
	tagRelease   = 1002
	tagEpoch     = 1003
	tagArch      = 1022
	tagSourceRPM = 1044

	typeInt32       = 4
	typeString      = 6
	typeStringArray = 8
	typeI18NString  = 9
)

// Limits from rpm's header.c (hdrchkTags, hdrchkData).
const (
	maxTags = 0xffff
	maxData = 256 << 20
)

// Header holds the tags Palisade reads from an RPM header.
type Header struct {
	Name, Version, Release, Arch, SourceRPM string
	Epoch                                   int32
	HasEpoch                                bool
}

var errShortHeader = errors.New("header shorter than its index says")

// ParseHeader parses an RPM header blob as the rpmdb stores it: a
// big-endian index count and data length, index entries of 16 bytes (tag,
// type, offset, count), then the data store.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < 8 {
		return h, errShortHeader
	}
	il := binary.BigEndian.Uint32(b[0:4])
	dl := binary.BigEndian.Uint32(b[4:8])
	if il == 0 || il > maxTags || dl > maxData {
		return h, fmt.Errorf("header index count %d or data length %d out of range", il, dl)
	}
	idxEnd := 8 + uint64(il)*16
	if idxEnd+uint64(dl) > uint64(len(b)) {
		return h, errShortHeader
	}
	data := b[idxEnd : idxEnd+uint64(dl)]
	for i := uint64(0); i < uint64(il); i++ {
		e := b[8+i*16 : 8+i*16+16]
		tag := binary.BigEndian.Uint32(e[0:4])
		typ := binary.BigEndian.Uint32(e[4:8])
		off := binary.BigEndian.Uint32(e[8:12])
		count := binary.BigEndian.Uint32(e[12:16])
		if uint64(off) >= uint64(len(data)) {
			if tag >= tagName && tag <= tagSourceRPM {
				return h, fmt.Errorf("tag %d: offset %d outside data of %d bytes", tag, off, len(data))
			}
			continue
		}
		switch tag {
		case tagName, tagVersion, tagRelease, tagArch, tagSourceRPM:
			if typ != typeString && typ != typeI18NString && typ != typeStringArray {
				return h, fmt.Errorf("tag %d: type %d, want a string", tag, typ)
			}
			s, err := cstring(data[off:])
			if err != nil {
				return h, fmt.Errorf("tag %d: %w", tag, err)
			}
			switch tag {
			case tagName:
				h.Name = s
			case tagVersion:
				h.Version = s
			case tagRelease:
				h.Release = s
			case tagArch:
				h.Arch = s
			case tagSourceRPM:
				h.SourceRPM = s
			}
		case tagEpoch:
			if typ != typeInt32 || count < 1 || uint64(off)+4 > uint64(len(data)) {
				return h, fmt.Errorf("tag %d: bad int32 entry", tag)
			}
			h.Epoch = int32(binary.BigEndian.Uint32(data[off : off+4]))
			h.HasEpoch = true
		}
	}
	return h, nil
}

// cstring returns the NUL-terminated string at the start of b.
func cstring(b []byte) (string, error) {
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), nil
		}
	}
	return "", errors.New("unterminated string")
}
