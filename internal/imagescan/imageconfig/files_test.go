package imageconfig

import (
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
)

type info struct {
	name string
	size int64
	mode fs.FileMode
}

func (i info) Name() string       { return i.name }
func (i info) Size() int64        { return i.size }
func (i info) Mode() fs.FileMode  { return i.mode }
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return i.mode.IsDir() }
func (i info) Sys() any           { return nil }

// entry is a walk entry for the filesystem checks.
type entry struct {
	path  string
	mode  fs.FileMode
	size  int64
	layer int
	final bool
}

func feed(c FileCheck, es []entry) []Problem {
	for _, e := range es {
		c.File(&image.File{Path: e.path, Info: info{name: e.path, size: e.size, mode: e.mode}, Layer: image.Layer{Index: e.layer, Digest: "sha256:l"}, Final: e.final, HiddenBy: -1})
	}
	return c.Problems()
}

// summary is what the tests compare: file, severity (0 = the check's)
// and key evidence.
func summary(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		s := p.File + " " + p.Severity.String()
		for _, e := range p.Evidence {
			if !e.Key {
				s += " " + e.Name + "=" + e.Value
			}
		}
		if p.Layer != nil {
			s += " layer=" + string(rune('0'+p.Layer.Index))
		}
		out = append(out, s)
	}
	return out
}

func TestSetuidFiles(t *testing.T) {
	tests := []struct {
		name string
		in   []entry
		want []string
	}{
		{name: "none", in: []entry{{path: "usr/bin/ls", mode: 0o755, final: true}}},
		{name: "standard and custom", in: []entry{
			{path: "usr/local/bin/helper", mode: 0o755 | fs.ModeSetuid, layer: 2, final: true},
			{path: "usr/bin/passwd", mode: 0o755 | fs.ModeSetuid, layer: 0, final: true},
			{path: "usr/bin/wall", mode: 0o755 | fs.ModeSetgid, layer: 0, final: true},
		}, want: []string{
			"/usr/bin/passwd info mode=4755 bits=setuid standard=true layer=0",
			"/usr/bin/wall info mode=2755 bits=setgid standard=true layer=0",
			"/usr/local/bin/helper unknown mode=4755 bits=setuid layer=2",
		}},
		{name: "both bits", in: []entry{{path: "opt/x", mode: 0o750 | fs.ModeSetuid | fs.ModeSetgid, layer: 1, final: true}},
			want: []string{"/opt/x unknown mode=6750 bits=setuid,setgid layer=1"}},
		{name: "setgid directory and hidden file skipped", in: []entry{
			{path: "var/mail", mode: fs.ModeDir | fs.ModeSetgid | 0o2775, final: true},
			{path: "opt/old", mode: 0o755 | fs.ModeSetuid, layer: 0, final: false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summary(feed(SetuidFiles().Files(), tt.in))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestPackageCaches(t *testing.T) {
	tests := []struct {
		name string
		in   []entry
		want []string
	}{
		{name: "clean image", in: []entry{
			{path: "var/lib/apt/lists/lock", size: 0, final: true},
			{path: "var/lib/apt/lists/partial/x", size: 10, final: true},
			{path: "var/cache/apt/archives/lock", size: 0, final: true},
			{path: "var/cache/apt/archives/old.deb", size: 999, final: false},
			{path: "usr/share/doc/x.deb", size: 5, final: true},
		}},
		{name: "apt and pip", in: []entry{
			{path: "var/cache/apt/archives/curl_7.88.1-10_amd64.deb", size: 300, layer: 2, final: true},
			{path: "var/cache/apt/archives/libc6_2.36_amd64.deb", size: 3000, layer: 1, final: true},
			{path: "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", size: 100, layer: 1, final: true},
			{path: "var/lib/apt/lists", mode: fs.ModeDir, layer: 1, final: true},
			{path: "root/.cache/pip/http/a/b", size: 7, layer: 3, final: true},
		}, want: []string{
			"/var/cache/apt/archives unknown files=2 bytes=3300 layers=1,2 layer=1",
			"/var/lib/apt/lists unknown files=1 bytes=100 layers=1 layer=1",
			"/root/.cache/pip unknown files=1 bytes=7 layers=3 layer=3",
		}},
		{name: "apk npm yum dnf", in: []entry{
			{path: "var/cache/apk/APKINDEX.abc.tar.gz", size: 1, final: true},
			{path: "root/.npm/_cacache/index-v5/aa", size: 2, final: true},
			{path: "var/cache/yum/x86_64/repomd.xml", size: 3, final: true},
			{path: "var/cache/dnf/repo.solv", size: 4, final: true},
		}, want: []string{
			"/var/cache/apk unknown files=1 bytes=1 layers=0 layer=0",
			"/root/.npm/_cacache unknown files=1 bytes=2 layers=0 layer=0",
			"/var/cache/yum unknown files=1 bytes=3 layers=0 layer=0",
			"/var/cache/dnf unknown files=1 bytes=4 layers=0 layer=0",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summary(feed(PackageCaches().Files(), tt.in))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestFindingShape(t *testing.T) {
	ps := feed(SetuidFiles().Files(), []entry{{path: "usr/local/bin/helper", mode: 0o755 | fs.ModeSetuid, layer: 1, final: true}})
	c := SetuidFiles()
	f := c.Finding(ps[0], "reg/app:1", "sha256:img")
	if f.RuleID != "image/setuid-file" || f.Severity != finding.SeverityLow || f.Category != Category || f.Resource.File != "/usr/local/bin/helper" {
		t.Fatalf("%+v", f)
	}
	if len(f.Controls) != 1 || f.Controls[0].ID != "4.8" || !strings.Contains(f.Message, "added in layer 1") {
		t.Fatalf("%+v", f)
	}
	if humanBytes(3<<20) != "3.0 MiB" || humanBytes(10) != "10 B" {
		t.Fatal(humanBytes(3<<20), humanBytes(10))
	}
}
