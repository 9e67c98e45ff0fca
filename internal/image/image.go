package image

import (
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Layer identifies one filesystem layer of an image.
type Layer struct {
	// Index is the layer's position, 0 for the base layer.
	Index int `json:"index"`
	// Digest is the layer blob's digest as the manifest names it
	// ("sha256:…"); empty for dir: sources.
	Digest string `json:"digest,omitempty"`
	// DiffID is the digest of the uncompressed tar.
	DiffID string `json:"diffID,omitempty"`
	// CreatedBy is the history instruction that produced the layer
	// ("RUN /bin/sh -c apt-get install …"), when the image has history.
	CreatedBy string `json:"createdBy,omitempty"`
}

// Metadata is the part of the image configuration that image-config
// checks read (CIS Docker Benchmark section 4).
type Metadata struct {
	Digest       string            // manifest digest; empty for dir: sources
	OS           string            // "linux"
	Architecture string            // "amd64"
	Variant      string            // "v8"
	User         string            // USER; empty means root
	Env          []string          // "KEY=value"
	Entrypoint   []string          // ENTRYPOINT
	Cmd          []string          // CMD
	WorkingDir   string            // WORKDIR
	ExposedPorts []string          // "80/tcp", sorted
	Healthcheck  *v1.HealthConfig  // nil when the image sets none
	Labels       map[string]string // LABEL
	History      []v1.History      // one entry per Dockerfile instruction
}

// Image is an opened image. It holds no open files: layers are opened one
// at a time while walking.
type Image struct {
	// Source is where the image came from.
	Source Source
	// Metadata is the image configuration; zero for dir: sources.
	Metadata Metadata
	// Layers lists the filesystem layers, base first.
	Layers []Layer

	img    v1.Image // nil for dir: sources
	layers []v1.Layer
	dir    string // root for dir: sources
}

// FromV1 wraps an already-resolved go-containerregistry image, e.g. one
// built in a test. src is only recorded.
func FromV1(src Source, img v1.Image) (*Image, error) {
	return fromV1(src, img)
}

func fromV1(src Source, img v1.Image) (*Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read image config: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("list layers: %w", err)
	}
	out := &Image{Source: src, img: img, layers: layers}
	if d, err := img.Digest(); err == nil {
		out.Metadata.Digest = d.String()
	}
	if cf != nil {
		out.Metadata.fill(cf)
	}
	created := layerHistory(cf, len(layers))
	for i, l := range layers {
		ly := Layer{Index: i, CreatedBy: created[i]}
		if d, err := l.Digest(); err == nil {
			ly.Digest = d.String()
		}
		// The config lists the diff IDs; asking the layer instead makes
		// go-containerregistry decompress it to compute one.
		if cf != nil && i < len(cf.RootFS.DiffIDs) {
			ly.DiffID = cf.RootFS.DiffIDs[i].String()
		}
		out.Layers = append(out.Layers, ly)
	}
	return out, nil
}

// fill copies the interesting parts of cf into m.
func (m *Metadata) fill(cf *v1.ConfigFile) {
	m.OS, m.Architecture, m.Variant = cf.OS, cf.Architecture, cf.Variant
	c := cf.Config
	m.User = c.User
	m.Env = c.Env
	m.Entrypoint = c.Entrypoint
	m.Cmd = c.Cmd
	m.WorkingDir = c.WorkingDir
	m.Healthcheck = c.Healthcheck
	m.Labels = c.Labels
	for p := range c.ExposedPorts {
		m.ExposedPorts = append(m.ExposedPorts, p)
	}
	slices.Sort(m.ExposedPorts)
	m.History = cf.History
}

// layerHistory maps history entries to layers: every entry without
// EmptyLayer produced the next layer, in order. It returns n strings; when
// the history has fewer non-empty entries than layers (squashed or
// hand-built images), the unmatched layers get "".
func layerHistory(cf *v1.ConfigFile, n int) []string {
	out := make([]string, n)
	if cf == nil {
		return out
	}
	i := 0
	for _, h := range cf.History {
		if h.EmptyLayer {
			continue
		}
		if i >= n {
			break
		}
		out[i] = strings.TrimSpace(strings.TrimPrefix(h.CreatedBy, "/bin/sh -c #(nop) "))
		i++
	}
	return out
}
