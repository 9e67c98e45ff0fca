package dpkg

import (
	"os"
	"testing"

	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/inventory/inventorytest"
)

func deb(name, version, src, srcVersion string) inventory.Package {
	p := inventory.Package{Ecosystem: "Debian", Name: name, Version: version, SourceName: src, SourceVersion: srcVersion, Arch: "amd64", Type: "deb"}
	p.PURL = inventory.OSPackagePURL(p, nil)
	return p
}

func TestExtract(t *testing.T) {
	status, err := os.ReadFile("testdata/status")
	if err != nil {
		t.Fatal(err)
	}
	single, err := os.ReadFile("testdata/status.d-libssl3")
	if err != nil {
		t.Fatal(err)
	}
	inventorytest.Run(t, New(), []inventorytest.Case{
		{
			Name: "debian12_status", Path: "var/lib/dpkg/status", Content: status,
			Want: []inventory.Package{
				deb("bash", "5.2.15-2+b8", "bash", "5.2.15-2"),
				deb("libc6", "2.36-9+deb12u14", "glibc", ""),
				deb("libssl3", "3.0.19-1~deb12u2", "openssl", ""),
				deb("tar", "1.34+dfsg-1.2+deb12u1", "tar", ""),
				deb("zlib1g", "1:1.2.13.dfsg-1", "zlib", ""),
			},
		},
		{
			Name: "distroless_status_d", Path: "var/lib/dpkg/status.d/libssl3", Content: single,
			Want: []inventory.Package{deb("libssl3", "3.0.19-1~deb12u2", "openssl", "")},
		},
		{
			Name: "missing_version", Path: "var/lib/dpkg/status", Content: []byte("Package: x\nStatus: install ok installed\n"),
			WantErr: true,
		},
		{
			Name: "garbage_line", Path: "var/lib/dpkg/status", Content: []byte("Package: x\nVersion: 1\nArchitecture: amd64\n\nnot a field\n"),
			Want: []inventory.Package{deb("x", "1", "x", "")}, WantErr: true,
		},
	})
}

func TestPURL(t *testing.T) {
	p := deb("libstdc++6", "12.2.0-14+deb12u1", "gcc-12", "")
	got := inventory.OSPackagePURL(p, &inventory.OS{ID: "debian", VersionID: "12"})
	want := "pkg:deb/debian/libstdc++6@12.2.0-14+deb12u1?arch=amd64&distro=debian-12"
	if got != want {
		t.Errorf("purl = %q, want %q", got, want)
	}
}

func TestRequired(t *testing.T) {
	for p, want := range map[string]bool{
		"var/lib/dpkg/status":                true,
		"var/lib/dpkg/status.d/base":         true,
		"var/lib/dpkg/status.d/base.md5sums": false,
		"var/lib/dpkg/status-old":            false,
		"var/lib/dpkg/status.d/x/nested":     false,
		"usr/share/doc/var/lib/dpkg/status":  false,
	} {
		if got := New().Required(p, inventorytest.Info(p, 0, 10)); got != want {
			t.Errorf("Required(%q) = %v, want %v", p, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("testdata/status"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("Package: a\n Version: 1\n\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		in := inventorytest.Input("var/lib/dpkg/status", 0, b, 1<<20)
		_, _ = New().Extract(t.Context(), in)
	})
}
