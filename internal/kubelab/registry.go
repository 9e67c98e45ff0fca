package kubelab

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Registry is an OCI registry (go-containerregistry's, with the OCI 1.1
// referrers API) on a loopback port, for the lab and the demo: images to
// scan, attest and admit without Docker or the internet.
type Registry struct {
	Host string // 127.0.0.1:PORT
	srv  *http.Server
	done chan struct{}
}

// StartRegistry serves a registry on addr ("127.0.0.1:0" for any port).
func StartRegistry(addr string) (*Registry, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for lab registry: %w", err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("lab registry: %s is not a loopback address (it serves plain HTTP)", ln.Addr())
	}
	r := &Registry{
		Host: ln.Addr().String(),
		srv: &http.Server{
			Handler:           registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))),
			ReadHeaderTimeout: 10 * time.Second,
		},
		done: make(chan struct{}),
	}
	go func() {
		defer close(r.done)
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Printf("lab registry: %v", err)
		}
	}()
	return r, nil
}

// Stop shuts the registry down.
func (r *Registry) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := r.srv.Shutdown(ctx)
	<-r.done
	return err
}

// SampleImage is one image PushSamples writes.
type SampleImage struct {
	Ref         string
	Description string
}

// PushSamples pushes two small Debian 12 images: shop/web:1.0 with the
// patched openssl and curl of Debian 12 (as of 2026-11), and shop/legacy:1.0 with 2019 versions that real Debian
// advisories name. They hold only package metadata, not binaries: enough
// for a scanner, nothing to run.
func (r *Registry) PushSamples(ctx context.Context) ([]SampleImage, error) {
	samples := []struct {
		repo, desc string
		pkgs       [][2]string // name, version; source = name
		env        string      // an /app/.env file, when set
	}{
		{"shop/web:1.0", "current Debian 12 openssl 3.0.19 and curl 7.88.1 (patched)", [][2]string{{"openssl", "3.0.19-1~deb12u2"}, {"curl", "7.88.1-10+deb12u14"}}, ""},
		{"shop/legacy:1.0", "openssl 1.1.1c and curl 7.64.0 from 2019, and AWS keys in /app/.env", [][2]string{{"openssl", "1.1.1c-1"}, {"curl", "7.64.0-4"}}, "AWS_ACCESS_KEY_ID=AKIA4HKQ7TNBZX2PMWRY\nAWS_SECRET_ACCESS_KEY=9fJq2vLx8TzR4kWm7NpB3cYd6HsGa1EuKo5iQwZt\n"},
	}
	var out []SampleImage
	for _, s := range samples {
		ref, err := name.ParseReference(r.Host+"/"+s.repo, name.Insecure)
		if err != nil {
			return nil, fmt.Errorf("sample reference: %w", err)
		}
		img, err := debianImage(s.pkgs, s.env)
		if err != nil {
			return nil, err
		}
		if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
			return nil, fmt.Errorf("push sample %s: %w", ref, err)
		}
		out = append(out, SampleImage{Ref: ref.String(), Description: s.desc})
	}
	return out, nil
}

func debianImage(pkgs [][2]string, env string) (v1.Image, error) {
	var status bytes.Buffer
	for _, p := range pkgs {
		fmt.Fprintf(&status, "Package: %s\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: %s\nDescription: %s\n\n", p[0], p[1], p[0])
	}
	files := []struct {
		path string
		data []byte
	}{
		{"etc/os-release", []byte("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\n")},
		{"var/lib/dpkg/status", status.Bytes()},
	}
	if env != "" {
		files = append(files, struct {
			path string
			data []byte
		}{"app/.env", []byte(env)})
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.path, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}); err != nil {
			return nil, fmt.Errorf("build sample layer: %w", err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("build sample layer: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("build sample layer: %w", err)
	}
	raw := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil })
	if err != nil {
		return nil, fmt.Errorf("build sample layer: %w", err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: "COPY rootfs /", Created: v1.Time{Time: time.Unix(1700000000, 0)}}})
	if err != nil {
		return nil, fmt.Errorf("build sample image: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("build sample image: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture, cfg.OS, cfg.Config.User = "amd64", "linux", "10001"
	return mutate.ConfigFile(img, cfg)
}
