package image

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSource(t *testing.T) {
	tests := []struct {
		in      string
		want    Source
		wantErr bool
	}{
		{in: "alpine:3.11", want: Source{Kind: KindRegistry, Ref: "alpine:3.11"}},
		{in: "registry.example.com:5000/team/app@sha256:" + sixtyFour, want: Source{Kind: KindRegistry, Ref: "registry.example.com:5000/team/app@sha256:" + sixtyFour}},
		{in: "127.0.0.1:5000/app:v1", want: Source{Kind: KindRegistry, Ref: "127.0.0.1:5000/app:v1"}},
		{in: "oci:/tmp/layout", want: Source{Kind: KindOCILayout, Path: "/tmp/layout"}},
		{in: "oci:/tmp/layout:v1", want: Source{Kind: KindOCILayout, Path: "/tmp/layout", Tag: "v1"}},
		{in: "oci:layout", want: Source{Kind: KindOCILayout, Path: "layout"}},
		{in: "docker-archive:/tmp/app.tar", want: Source{Kind: KindDockerArchive, Path: "/tmp/app.tar"}},
		{in: "docker-archive:/tmp/app.tar:app:v1", want: Source{Kind: KindDockerArchive, Path: "/tmp/app.tar", Tag: "app:v1"}},
		{in: "dir:/srv/rootfs", want: Source{Kind: KindDir, Path: "/srv/rootfs"}},
		{in: "", wantErr: true},
		{in: "oci:", wantErr: true},
		{in: "dir:", wantErr: true},
		{in: "docker-archive:", wantErr: true},
		{in: "https://registry.example.com/app:v1", wantErr: true},
		{in: "docker-daemon:app:v1", wantErr: true},
		{in: "UPPER/case:tag", wantErr: true},
		{in: "app@sha256:short", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSource(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrBadReference) {
					t.Fatalf("ParseSource(%q) error = %v, want ErrBadReference", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

const sixtyFour = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
