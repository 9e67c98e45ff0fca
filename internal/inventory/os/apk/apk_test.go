package apk

import (
	"os"
	"testing"

	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/inventory/inventorytest"
)

func apkPkg(name, version, origin string) inventory.Package {
	p := inventory.Package{Ecosystem: "Alpine", Name: name, Version: version, SourceName: origin, Arch: "x86_64", Type: "apk"}
	p.PURL = inventory.OSPackagePURL(p, nil)
	return p
}

func TestExtract(t *testing.T) {
	db, err := os.ReadFile("testdata/installed")
	if err != nil {
		t.Fatal(err)
	}
	inventorytest.Run(t, New(), []inventorytest.Case{
		{
			Name: "alpine3.11", Path: "lib/apk/db/installed", Content: db,
			Want: []inventory.Package{
				apkPkg("musl", "1.1.24-r2", "musl"),
				apkPkg("busybox", "1.31.1-r9", "busybox"),
				apkPkg("libcrypto1.1", "1.1.1g-r0", "openssl"),
				apkPkg("libssl1.1", "1.1.1g-r0", "openssl"),
				apkPkg("ssl_client", "1.31.1-r9", "busybox"),
			},
		},
		{Name: "bad_line", Path: "lib/apk/db/installed", Content: []byte("P:a\nV:1\nxyz\n"), WantErr: true},
		{Name: "no_version", Path: "lib/apk/db/installed", Content: []byte("P:a\n\n"), WantErr: true},
	})
}

func TestPURL(t *testing.T) {
	p := apkPkg("musl", "1.1.24-r2", "musl")
	got := inventory.OSPackagePURL(p, &inventory.OS{ID: "alpine", VersionID: "3.11.6"})
	if want := "pkg:apk/alpine/musl@1.1.24-r2?arch=x86_64&distro=3.11.6"; got != want {
		t.Errorf("purl = %q, want %q", got, want)
	}
}

func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("testdata/installed"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("P:x\nV:1\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = New().Extract(t.Context(), inventorytest.Input("lib/apk/db/installed", 0, b, 1<<20))
	})
}
