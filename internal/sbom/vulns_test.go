package sbom

import (
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/vulndb"
)

// TestVulnCategory keeps the category this package selects findings by
// equal to the one the advisory matcher writes.
func TestVulnCategory(t *testing.T) {
	if vulnCategory != vulndb.Category {
		t.Fatalf("vulnCategory = %q, vulndb.Category = %q", vulnCategory, vulndb.Category)
	}
}

func TestCVSSMethod(t *testing.T) {
	for _, tt := range []struct{ vector, want string }{
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "CVSSv4"},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSSv31"},
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSSv3"},
		{"AV:N/AC:L/Au:N/C:P/I:P/A:P", "CVSSv2"},
		{"CVSS:9.9/X", "other"},
	} {
		if got := cvssMethod(tt.vector); got != tt.want {
			t.Errorf("cvssMethod(%q) = %q, want %q", tt.vector, got, tt.want)
		}
	}
}

func TestImageName(t *testing.T) {
	for _, tt := range []struct {
		src                image.Source
		name, repoURL, tag string
	}{
		{image.Source{Kind: image.KindRegistry, Ref: "registry.example/shop/web:1.0"}, "web", "registry.example/shop/web", "1.0"},
		{image.Source{Kind: image.KindRegistry, Ref: "alpine"}, "alpine", "index.docker.io/library/alpine", "latest"},
		{image.Source{Kind: image.KindRegistry, Ref: "registry.example/web@sha256:" + strings.Repeat("a", 64)}, "web", "registry.example/web", ""},
		{image.Source{Kind: image.KindOCILayout, Path: "/images/alpine", Tag: "3.18"}, "alpine", "", "3.18"},
		{image.Source{Kind: image.KindOCILayout, Path: "/images/layout", Tag: "shop/web:1.0"}, "web", "", "1.0"},
		{image.Source{Kind: image.KindDockerArchive, Path: "/tmp/web.tar"}, "web.tar", "", ""},
		{image.Source{Kind: image.KindDir, Path: "/"}, "dir", "", ""},
	} {
		t.Run(tt.src.String(), func(t *testing.T) {
			n, r, tag := imageName(tt.src)
			if n != tt.name || r != tt.repoURL || tag != tt.tag {
				t.Errorf("imageName = %q, %q, %q; want %q, %q, %q", n, r, tag, tt.name, tt.repoURL, tt.tag)
			}
		})
	}
}
