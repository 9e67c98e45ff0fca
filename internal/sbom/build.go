package sbom

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/inventory"
)

// Property names. The "palisade:" namespace keeps them apart from the
// registered "cdx:" taxonomy.
const (
	propReference     = "palisade:image:reference"
	propPlatform      = "palisade:image:platform"
	propEcosystem     = "palisade:package:ecosystem"
	propExtractor     = "palisade:package:extractor"
	propSourceName    = "palisade:package:sourceName"
	propSourceVersion = "palisade:package:sourceVersion"
	propLayerIndex    = "palisade:layer:index"
	propLayerDigest   = "palisade:layer:digest"
	propLayerDiffID   = "palisade:layer:diffID"
	propOSEcosystem   = "palisade:os:ecosystem"
	propOSCodename    = "palisade:os:codename"
	propPartial       = "palisade:inventory:partial"
	propLayerError    = "palisade:inventory:layerError"
	propFileError     = "palisade:inventory:fileError"
)

// Input is what a document describes.
type Input struct {
	// Image is the opened image.
	Image *image.Image
	// Reference is the reference the user gave ("registry/app:1.0",
	// "oci:DIR"), recorded as a property.
	Reference string
	// Inventory is the image's packages.
	Inventory *inventory.Result
	// Findings, when not nil, are a scan's findings: the vulnerability
	// findings become the vulnerabilities array; others are ignored.
	Findings []finding.Finding
}

// Options are the parts of a document that do not come from the image.
type Options struct {
	// Tool is the tool recorded in metadata.tools (palisade and its
	// version).
	Tool finding.Tool
	// Time is the document timestamp; it also seeds the serial number.
	Time time.Time
}

// Build returns the CycloneDX document for in.
func Build(in Input, opts Options) *BOM {
	img := in.Image
	subject := imageComponent(img, in.Reference)
	b := &BOM{
		Schema: SchemaURL, BOMFormat: "CycloneDX", SpecVersion: SpecVersion, Version: 1,
		Metadata: Metadata{
			Timestamp: opts.Time.UTC().Format(time.RFC3339),
			Tools:     Tools{Components: []Component{{Type: "application", Name: opts.Tool.Name, Version: opts.Tool.Version}}},
			Component: subject,
		},
		Components: []Component{},
	}
	top := Dependency{Ref: subject.BOMRef}
	var osDep *Dependency
	inv := in.Inventory
	if inv != nil && inv.OS != nil {
		c := osComponent(inv.OS)
		b.Components = append(b.Components, c)
		top.DependsOn = append(top.DependsOn, c.BOMRef)
		osDep = &Dependency{Ref: c.BOMRef}
	}
	refs := newRefIndex()
	if inv != nil {
		for i := range inv.Packages {
			p := &inv.Packages[i]
			c := packageComponent(p, refs.add(p))
			b.Components = append(b.Components, c)
			// OS packages belong to the distribution; language packages
			// sit in the image beside it.
			if osDep != nil && isOSType(p.Type) {
				osDep.DependsOn = append(osDep.DependsOn, c.BOMRef)
			} else {
				top.DependsOn = append(top.DependsOn, c.BOMRef)
			}
		}
		b.Metadata.Properties = inventoryProperties(inv)
	}
	b.Dependencies = append(b.Dependencies, top)
	if osDep != nil {
		b.Dependencies = append(b.Dependencies, *osDep)
	}
	kind := "sbom"
	if in.Findings != nil {
		kind = "scan"
		b.Vulnerabilities = vulnerabilities(in.Findings, refs)
	}
	identity := img.Metadata.Digest
	if identity == "" {
		identity = img.Source.String()
	}
	b.SerialNumber = serialNumber(kind, identity, opts.Time)
	return b
}

// Write encodes b as indented JSON. Nothing is written when encoding
// fails.
func Write(w io.Writer, b *BOM) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b); err != nil {
		return fmt.Errorf("encode CycloneDX document: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write CycloneDX document: %w", err)
	}
	return nil
}

// serialNumber is a name-based (version 5 layout) UUID URN over the kind
// of document, the image identity and the time: the same scan at the same
// instant gets the same serial number, any other document another one.
func serialNumber(kind, identity string, t time.Time) string {
	sum := sha256.Sum256([]byte(kind + "\n" + identity + "\n" + t.UTC().Format(time.RFC3339Nano)))
	u := sum[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u)
	return "urn:uuid:" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// imageComponent describes the image itself: a container whose purl is
// pkg:oci/NAME@DIGEST with the repository, tag and architecture as
// qualifiers (purl-spec's oci type).
func imageComponent(img *image.Image, reference string) Component {
	md := img.Metadata
	nameStr, repoURL, tag := imageName(img.Source)
	p := inventory.PURL{Type: "oci", Name: strings.ToLower(nameStr), Version: md.Digest, Qualifiers: [][2]string{
		{"repository_url", repoURL}, {"tag", tag}, {"arch", md.Architecture},
	}}
	display := nameStr
	if repoURL != "" {
		display = repoURL
	}
	c := Component{Type: "container", BOMRef: p.String(), Name: display, Version: md.Digest, PURL: p.String()}
	if md.Digest == "" {
		// A dir: source is no OCI artifact: without a digest a pkg:oci
		// purl would name nothing.
		c.PURL, c.BOMRef = "", "palisade:image:"+img.Source.String()
	}
	if reference == "" {
		reference = img.Source.String()
	}
	c.Properties = append(c.Properties, Property{propReference, reference})
	if md.OS != "" {
		plat := md.OS + "/" + md.Architecture
		if md.Variant != "" {
			plat += "/" + md.Variant
		}
		c.Properties = append(c.Properties, Property{propPlatform, plat})
	}
	for _, l := range img.Layers {
		pre := "palisade:layer:" + strconv.Itoa(l.Index) + ":"
		if l.Digest != "" {
			c.Properties = append(c.Properties, Property{pre + "digest", l.Digest})
		}
		if l.DiffID != "" {
			c.Properties = append(c.Properties, Property{pre + "diffID", l.DiffID})
		}
		if l.CreatedBy != "" {
			c.Properties = append(c.Properties, Property{pre + "createdBy", l.CreatedBy})
		}
	}
	return c
}

// imageName returns the purl name (the last path segment of the
// repository), the repository URL and the tag of src. Local sources have
// no repository; their name is the tag's repository or the file's name.
func imageName(src image.Source) (nm, repoURL, tag string) {
	if src.Kind == image.KindRegistry {
		if ref, err := name.ParseReference(src.Ref, name.WeakValidation); err == nil {
			repo := ref.Context()
			full := repo.RegistryStr() + "/" + repo.RepositoryStr()
			if t, ok := ref.(name.Tag); ok {
				tag = t.TagStr()
			}
			return lastSegment(repo.RepositoryStr()), full, tag
		}
	}
	// A docker archive's tags and some OCI layouts' ref names are whole
	// references ("app:v1"); other ref names are bare tags ("3.18").
	if strings.ContainsAny(src.Tag, ":/") {
		if t, err := name.NewTag(src.Tag, name.WeakValidation); err == nil {
			return lastSegment(t.RepositoryStr()), "", t.TagStr()
		}
	}
	base := filepath.Base(filepath.Clean(src.Path))
	if base == "." || base == string(filepath.Separator) || base == "" {
		base = src.Kind.String()
	}
	return base, "", src.Tag
}

func lastSegment(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func osComponent(o *inventory.OS) Component {
	ref := "os:" + o.ID
	if o.VersionID != "" {
		ref += "@" + o.VersionID
	}
	c := Component{Type: "operating-system", BOMRef: ref, Name: o.ID, Version: o.VersionID, Description: o.PrettyName}
	c.Properties = appendNonEmpty(c.Properties, propOSEcosystem, o.Ecosystem)
	c.Properties = appendNonEmpty(c.Properties, propOSCodename, o.VersionCodename)
	if o.Path != "" {
		c.Evidence = &Evidence{Occurrences: []Occurrence{{Location: o.Path}}}
	}
	return c
}

func packageComponent(p *inventory.Package, ref string) Component {
	c := Component{Type: "library", BOMRef: ref, Name: p.Name, Version: p.Version, PURL: p.PURL}
	if c.Name == "" {
		// The schema requires a name; a package always has one, but a
		// document must not become invalid if an extractor slips.
		c.Name = p.PURL
	}
	c.Properties = appendNonEmpty(c.Properties, propEcosystem, p.Ecosystem)
	c.Properties = appendNonEmpty(c.Properties, propExtractor, p.Extractor)
	if p.SourceName != "" && p.SourceName != p.Name {
		c.Properties = append(c.Properties, Property{propSourceName, p.SourceName})
	}
	c.Properties = appendNonEmpty(c.Properties, propSourceVersion, p.SourceVersion)
	c.Properties = append(c.Properties, Property{propLayerIndex, strconv.Itoa(p.Layer.Index)})
	c.Properties = appendNonEmpty(c.Properties, propLayerDigest, p.Layer.Digest)
	c.Properties = appendNonEmpty(c.Properties, propLayerDiffID, p.Layer.DiffID)
	if len(p.Locations) > 0 {
		ev := &Evidence{}
		for _, l := range p.Locations {
			ev.Occurrences = append(ev.Occurrences, Occurrence{Location: l})
		}
		c.Evidence = ev
	}
	return c
}

func inventoryProperties(inv *inventory.Result) []Property {
	var ps []Property
	if inv.Partial {
		ps = append(ps, Property{propPartial, "true"})
	}
	for _, e := range inv.LayerErrors {
		ps = append(ps, Property{propLayerError, e.Error()})
	}
	for _, e := range inv.FileErrors {
		ps = append(ps, Property{propFileError, e.Error()})
	}
	return ps
}

func appendNonEmpty(ps []Property, name, value string) []Property {
	if value == "" {
		return ps
	}
	return append(ps, Property{name, value})
}

func isOSType(t string) bool { return t == "deb" || t == "apk" || t == "rpm" }

// refIndex hands out bom-refs and finds them again for findings. A
// bom-ref is the package's purl; the same purl installed twice (two
// node_modules copies) gets "#LOCATION" on the later copies, because
// bom-refs must be unique within a document.
type refIndex struct {
	used     map[string]bool
	byPURL   map[string]string    // purl → first bom-ref
	byPURLAt map[[2]string]string // purl, first location → bom-ref
}

func newRefIndex() *refIndex {
	return &refIndex{used: map[string]bool{}, byPURL: map[string]string{}, byPURLAt: map[[2]string]string{}}
}

func (x *refIndex) add(p *inventory.Package) string {
	loc := ""
	if len(p.Locations) > 0 {
		loc = p.Locations[0]
	}
	base := p.PURL
	if base == "" {
		base = "palisade:package:" + p.Ecosystem + "/" + p.Name + "@" + p.Version
	}
	ref := base
	if x.used[ref] {
		ref = base + "#" + loc
	}
	for n := 2; x.used[ref]; n++ {
		ref = base + "#" + loc + "#" + strconv.Itoa(n)
	}
	x.used[ref] = true
	if _, ok := x.byPURL[p.PURL]; !ok {
		x.byPURL[p.PURL] = ref
	}
	if _, ok := x.byPURLAt[[2]string{p.PURL, loc}]; !ok {
		x.byPURLAt[[2]string{p.PURL, loc}] = ref
	}
	return ref
}

// lookup returns the bom-ref of the package with purl found at file.
func (x *refIndex) lookup(purl, file string) (string, bool) {
	if r, ok := x.byPURLAt[[2]string{purl, file}]; ok {
		return r, true
	}
	r, ok := x.byPURL[purl]
	return r, ok
}
