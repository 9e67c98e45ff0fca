package rpm

import (
	"database/sql"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/inventory/inventorytest"
)

func rpmPkg(name, version, src string) inventory.Package {
	p := inventory.Package{Ecosystem: "Red Hat", Name: name, Version: version, SourceName: src, Arch: "x86_64", Type: "rpm"}
	p.PURL = inventory.OSPackagePURL(p, nil)
	return p
}

// testdata/rpmdb.sqlite was written by rpm 4.18 (rpm --initdb, then
// rpm -i --justdb of three packages built with rpmbuild under real
// package names and versions).
func TestExtract(t *testing.T) {
	db, err := os.ReadFile("testdata/rpmdb.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	inventorytest.Run(t, &Extractor{TempDir: t.TempDir()}, []inventorytest.Case{
		{
			Name: "rpm418_sqlite", Path: "var/lib/rpm/rpmdb.sqlite", Content: db,
			Want: []inventory.Package{
				rpmPkg("openssl-libs", "1:3.0.7-24.el9", "openssl-libs"),
				rpmPkg("tzdata", "2023c-1.el9", "tzdata"),
				rpmPkg("bash", "1:5.1.8-6.el9", "bash"),
			},
		},
		{Name: "not_sqlite", Path: "var/lib/rpm/rpmdb.sqlite", Content: []byte("not a database at all"), WantErr: true},
	})
}

func TestPURL(t *testing.T) {
	p := rpmPkg("bash", "1:5.1.8-6.el9", "bash")
	got := inventory.OSPackagePURL(p, &inventory.OS{ID: "rhel", VersionID: "9.2"})
	if want := "pkg:rpm/redhat/bash@5.1.8-6.el9?arch=x86_64&distro=rhel-9.2&epoch=1"; got != want {
		t.Errorf("purl = %q, want %q", got, want)
	}
}

func TestSourceName(t *testing.T) {
	for in, want := range map[string]string{
		"bash-5.1.8-6.el9.src.rpm":        "bash",
		"python3.11-3.11.2-2.el9.src.rpm": "python3.11",
		"glibc-2.34-60.el9_2.7.nosrc.rpm": "glibc",
		"nonsense":                        "",
	} {
		if got := SourceName(in); got != want {
			t.Errorf("SourceName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBadHeaderInDB(t *testing.T) {
	// A database whose second row is a corrupt header still yields the
	// other packages, and names the bad row.
	src, err := os.ReadFile("testdata/rpmdb.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "rpmdb.sqlite")
	if err := os.WriteFile(p, src, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", p)
	if err != nil {
		t.Fatal(err)
	}
	bad := make([]byte, 16)
	binary.BigEndian.PutUint32(bad, 5000) // index count beyond the blob
	if _, err := db.Exec("UPDATE Packages SET blob = ? WHERE hnum = 2", bad); err != nil {
		t.Fatal(err)
	}
	db.Close()
	pkgs, err := ReadDB(t.Context(), p)
	if err == nil {
		t.Error("no error for a corrupt header")
	}
	if len(pkgs) != 2 {
		t.Errorf("got %d packages, want 2", len(pkgs))
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 3, 232, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 1, 'a', 'b', 'c', 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseHeader(b) // must not panic or hang
	})
}

func TestParseHeaderSeed(t *testing.T) {
	h, err := ParseHeader([]byte{0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 3, 232, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 1, 'a', 'b', 'c', 0})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Header{Name: "abc"}, h); diff != "" {
		t.Error(diff)
	}
}
