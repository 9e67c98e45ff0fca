package inventory

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseOSRelease(t *testing.T) {
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name, in string
		want     OS
		ok       bool
	}{
		{name: "debian12", in: read("testdata/debian12-os-release"), ok: true,
			want: OS{ID: "debian", VersionID: "12", VersionCodename: "bookworm", PrettyName: "Debian GNU/Linux 12 (bookworm)", Ecosystem: "Debian:12"}},
		{name: "alpine3.11.6", in: read("testdata/alpine3.11-os-release"), ok: true,
			want: OS{ID: "alpine", VersionID: "3.11.6", PrettyName: "Alpine Linux v3.11", Ecosystem: "Alpine:v3.11"}},
		{name: "ubuntu_lts", in: "ID=ubuntu\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\nVERSION_ID=\"22.04\"\n", ok: true,
			want: OS{ID: "ubuntu", VersionID: "22.04", Ecosystem: "Ubuntu:22.04:LTS"}},
		{name: "ubuntu_interim", in: "ID=ubuntu\nVERSION=\"23.10 (Mantic Minotaur)\"\nVERSION_ID=\"23.10\"\n", ok: true,
			want: OS{ID: "ubuntu", VersionID: "23.10", Ecosystem: "Ubuntu:23.10"}},
		{name: "rocky", in: "ID=\"rocky\"\nVERSION_ID=\"9.3\"\n", ok: true, want: OS{ID: "rocky", VersionID: "9.3", Ecosystem: "Rocky Linux:9"}},
		{name: "alma", in: "ID=\"almalinux\"\nVERSION_ID=\"8.9\"\n", ok: true, want: OS{ID: "almalinux", VersionID: "8.9", Ecosystem: "AlmaLinux:8"}},
		{name: "rhel", in: "ID=\"rhel\"\nVERSION_ID=\"9.2\"\n", ok: true, want: OS{ID: "rhel", VersionID: "9.2", Ecosystem: "Red Hat:enterprise_linux:9"}},
		{name: "debian_sid", in: "ID=debian\nPRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\n", ok: true, want: OS{ID: "debian", PrettyName: "Debian GNU/Linux trixie/sid", Ecosystem: "Debian"}},
		{name: "alpine_edge", in: "ID=alpine\nVERSION_ID=3.21_alpha20240807\n", ok: true, want: OS{ID: "alpine", VersionID: "3.21_alpha20240807", Ecosystem: "Alpine:v3.21"}},
		{name: "no_id", in: "NAME=x\n", ok: false},
		{name: "garbage", in: "\x00\x01\n=\n", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseOSRelease([]byte(tt.in))
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseOSRelease(f *testing.F) {
	f.Add([]byte("ID=debian\nVERSION_ID=\"12\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) { ParseOSRelease(b) })
}

func TestPURLString(t *testing.T) {
	tests := []struct {
		name string
		in   PURL
		want string
	}{
		{"npm_scoped", PURL{Type: "npm", Namespace: "@babel", Name: "core", Version: "7.0.0"}, "pkg:npm/%40babel/core@7.0.0"},
		{"golang", PURL{Type: "golang", Namespace: "golang.org/x", Name: "text", Version: "v0.3.7"}, "pkg:golang/golang.org/x/text@v0.3.7"},
		{"deb_epoch_plus", PURL{Type: "deb", Namespace: "debian", Name: "libstdc++6", Version: "1:2.3+b1", Qualifiers: [][2]string{{"distro", "debian-12"}, {"arch", "amd64"}}},
			"pkg:deb/debian/libstdc++6@1:2.3+b1?arch=amd64&distro=debian-12"},
		{"escape_specials", PURL{Type: "Generic", Name: "a b/c?d#e@f", Version: "1.0 beta", Qualifiers: [][2]string{{"k", "v&w=x"}, {"empty", ""}}, Subpath: "/x y/z/"},
			"pkg:generic/a%20b%2Fc%3Fd%23e%40f@1.0%20beta?k=v%26w%3Dx#x%20y/z"},
		{"unicode", PURL{Type: "pypi", Name: "ñ"}, "pkg:pypi/%C3%B1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.String(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
