package inventory_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/inventory/list"
)

func ExampleScan() {
	root, _ := os.MkdirTemp("", "rootfs")
	defer os.RemoveAll(root)
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.MkdirAll(filepath.Join(root, "lib/apk/db"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/os-release"), []byte("ID=alpine\nVERSION_ID=3.11.6\n"), 0o644)
	os.WriteFile(filepath.Join(root, "lib/apk/db/installed"), []byte("P:musl\nV:1.1.24-r2\nA:x86_64\no:musl\n\n"), 0o644)

	ctx := context.Background()
	src, err := image.ParseSource("dir:" + root)
	if err != nil {
		fmt.Println(err)
		return
	}
	img, err := image.Open(ctx, src, image.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := inventory.Scan(ctx, img, list.Default(), inventory.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.OS.Ecosystem, "partial:", res.Partial)
	for _, p := range res.Packages {
		fmt.Println(p.Ecosystem, p.Name, p.Version, p.PURL)
	}
	// Output:
	// Alpine:v3.11 partial: false
	// Alpine:v3.11 musl 1.1.24-r2 pkg:apk/alpine/musl@1.1.24-r2?arch=x86_64&distro=3.11.6
}
