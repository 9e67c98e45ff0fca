package binary

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/inventory/inventorytest"
)

func TestBuiltBinary(t *testing.T) {
	bin := inventorytest.BuildVulnerableGo(t)
	in := inventorytest.Input("usr/local/bin/vulnapp", 0o755, bin, inventory.DefaultMaxFileSize)
	pkgs, err := New().Extract(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	var text, stdlib *inventory.Package
	for i := range pkgs {
		switch pkgs[i].Name {
		case "golang.org/x/text":
			text = &pkgs[i]
		case "stdlib":
			stdlib = &pkgs[i]
		}
	}
	if text == nil || text.Version != "0.3.7" || text.PURL != "pkg:golang/golang.org/x/text@v0.3.7" || text.Ecosystem != "Go" {
		t.Errorf("golang.org/x/text = %+v, want version 0.3.7", text)
	}
	if stdlib == nil || stdlib.Version == "" || stdlib.Version[0] != '1' {
		t.Errorf("stdlib = %+v, want the toolchain version", stdlib)
	}
	if slices.ContainsFunc(pkgs, func(p inventory.Package) bool { return p.Name == "example.com/vulnapp" }) {
		t.Errorf("main module with a (devel) version should be left out: %+v", pkgs)
	}
}

func TestNotGo(t *testing.T) {
	for name, b := range map[string][]byte{
		"script": []byte("#!/bin/sh\necho hi\n"),
		"elf":    append([]byte("\x7fELF"), make([]byte, 2000)...),
		"empty":  nil,
	} {
		t.Run(name, func(t *testing.T) {
			pkgs, err := New().Extract(t.Context(), inventorytest.Input("bin/x", 0o755, b, 1<<20))
			if err != nil || len(pkgs) != 0 {
				t.Errorf("Extract = %v, %v; want nothing", pkgs, err)
			}
		})
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := New().Extract(ctx, inventorytest.Input("bin/x", 0o755, []byte("\x7fELF"), 10)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestGoVersion(t *testing.T) {
	for in, want := range map[string]string{
		"go1.22.5":                "1.22.5",
		"go1.22.5 X:boringcrypto": "1.22.5",
		"devel go1.23-abc":        "",
		"go1.21rc2":               "1.21rc2",
		"":                        "",
	} {
		if got := goVersion(in); got != want {
			t.Errorf("goVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRequired(t *testing.T) {
	if !New().Required("usr/bin/app", inventorytest.Info("usr/bin/app", 0o755, 1<<20)) {
		t.Error("executable not required")
	}
	if New().Required("etc/passwd", inventorytest.Info("etc/passwd", 0o644, 1<<20)) {
		t.Error("non-executable required")
	}
}

func FuzzExtract(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Add([]byte("MZ\x90\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = New().Extract(t.Context(), inventorytest.Input("bin/x", 0o755, b, 1<<20))
	})
}
