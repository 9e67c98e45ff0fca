// Package sbom writes CycloneDX 1.6 JSON software bills of materials for
// images: the image as the main component, its distribution as an
// operating-system component, every inventoried package as a library with
// the layer that added it and the files it was found in, and, for a scan,
// the vulnerabilities matched against those packages.
//
// Output is deterministic: components keep the inventory's sorted order,
// bom-refs are the package URLs, and the serial number is derived from the
// image digest and the document time, so a fixed clock gives the same
// bytes on every run.
package sbom

// SpecVersion is the CycloneDX specification version of every document.
const SpecVersion = "1.6"

// SchemaURL is the $schema the documents declare.
const SchemaURL = "http://cyclonedx.org/schema/bom-1.6.schema.json"

// BOM is a CycloneDX document. Only the parts Palisade fills are modelled;
// field order follows the specification so the JSON reads like its
// examples.
type BOM struct {
	Schema          string          `json:"$schema"`
	BOMFormat       string          `json:"bomFormat"`
	SpecVersion     string          `json:"specVersion"`
	SerialNumber    string          `json:"serialNumber"`
	Version         int             `json:"version"`
	Metadata        Metadata        `json:"metadata"`
	Components      []Component     `json:"components"`
	Dependencies    []Dependency    `json:"dependencies,omitempty"`
	Vulnerabilities []Vulnerability `json:"vulnerabilities,omitempty"`
}

// Metadata describes the document: when, by what, about what.
type Metadata struct {
	Timestamp  string     `json:"timestamp"`
	Tools      Tools      `json:"tools"`
	Component  Component  `json:"component"`
	Properties []Property `json:"properties,omitempty"`
}

// Tools lists the tools that made the document (the 1.5+ object form; the
// bare array is deprecated).
type Tools struct {
	Components []Component `json:"components"`
}

// Component is an image, an operating system, an application or a library.
type Component struct {
	Type        string     `json:"type"`
	BOMRef      string     `json:"bom-ref,omitempty"`
	Name        string     `json:"name"`
	Version     string     `json:"version,omitempty"`
	Description string     `json:"description,omitempty"`
	PURL        string     `json:"purl,omitempty"`
	Properties  []Property `json:"properties,omitempty"`
	Evidence    *Evidence  `json:"evidence,omitempty"`
}

// Property is a name/value pair. Names are namespaced "palisade:…";
// CycloneDX allows repeated names.
type Property struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Evidence records where a component was found.
type Evidence struct {
	Occurrences []Occurrence `json:"occurrences,omitempty"`
}

// Occurrence is one file a component was found in.
type Occurrence struct {
	Location string `json:"location"`
}

// Dependency says which components a component contains or needs.
type Dependency struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn,omitempty"`
}

// Vulnerability is one advisory and the components it affects.
type Vulnerability struct {
	BOMRef         string      `json:"bom-ref,omitempty"`
	ID             string      `json:"id"`
	Source         *Source     `json:"source,omitempty"`
	References     []Reference `json:"references,omitempty"`
	Ratings        []Rating    `json:"ratings,omitempty"`
	Description    string      `json:"description,omitempty"`
	Recommendation string      `json:"recommendation,omitempty"`
	Advisories     []Advisory  `json:"advisories,omitempty"`
	Analysis       *Analysis   `json:"analysis,omitempty"`
	Affects        []Affect    `json:"affects"`
}

// Source is the database an identifier comes from.
type Source struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url,omitempty"`
}

// Reference is another identifier of the same vulnerability (an alias).
type Reference struct {
	ID     string `json:"id"`
	Source Source `json:"source"`
}

// Rating is a severity, with the CVSS score and vector when known.
type Rating struct {
	Source   *Source  `json:"source,omitempty"`
	Score    *float64 `json:"score,omitempty"`
	Severity string   `json:"severity,omitempty"`
	Method   string   `json:"method,omitempty"`
	Vector   string   `json:"vector,omitempty"`
}

// Advisory is a link to an advisory text.
type Advisory struct {
	URL string `json:"url"`
}

// Analysis records a decision about a vulnerability: Palisade fills it for
// findings an exception accepted.
type Analysis struct {
	State    string   `json:"state,omitempty"`
	Response []string `json:"response,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// Affect names an affected component and its versions.
type Affect struct {
	Ref      string          `json:"ref"`
	Versions []AffectVersion `json:"versions,omitempty"`
}

// AffectVersion is a version and whether it is affected.
type AffectVersion struct {
	Version string `json:"version"`
	Status  string `json:"status"`
}
