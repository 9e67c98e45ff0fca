package inventory

import "strings"

// OS package purl types.
const (
	TypeDeb = "deb"
	TypeAPK = "apk"
	TypeRPM = "rpm"
)

// family returns the package format an os-release ID uses.
func family(id string) string {
	switch id {
	case "debian", "ubuntu", "raspbian", "linuxmint", "kali":
		return TypeDeb
	case "alpine", "wolfi", "chainguard", "postmarketos":
		return TypeAPK
	case "rhel", "rocky", "almalinux", "centos", "fedora", "amzn", "ol",
		"opensuse-leap", "opensuse-tumbleweed", "sles", "mariner", "azurelinux", "photon":
		return TypeRPM
	}
	return ""
}

// OSPackagePURL returns the purl of an OS package. os may be nil; the
// namespace then falls back to the format's usual distribution and the
// distro qualifier is left out.
//
//	pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12
//	pkg:apk/alpine/musl@1.1.24-r2?arch=x86_64&distro=3.11.6
//	pkg:rpm/redhat/bash@5.1.8-6.el9?arch=x86_64&epoch=1&distro=rhel-9.2
func OSPackagePURL(p Package, os *OS) string {
	u := PURL{Type: p.Type, Name: p.Name, Version: p.Version}
	ns := map[string]string{TypeDeb: "debian", TypeAPK: "alpine", TypeRPM: ""}[p.Type]
	distro := ""
	if os != nil && family(os.ID) == p.Type {
		ns = os.ID
		distro = os.DistroQualifier()
	}
	if p.Type == TypeRPM {
		if ns == "rhel" {
			ns = "redhat"
		}
		epoch, rest, ok := strings.Cut(p.Version, ":")
		if ok {
			u.Version = rest
			u.Qualifiers = append(u.Qualifiers, [2]string{"epoch", epoch})
		}
	}
	u.Namespace = ns
	u.Qualifiers = append(u.Qualifiers, [2]string{"arch", p.Arch}, [2]string{"distro", distro})
	return u.String()
}

// applyOS gives OS packages the detected release: the OSV ecosystem with
// the version ("Debian:12") and the purl's namespace and distro.
func applyOS(pkgs []Package, os *OS) {
	for i := range pkgs {
		p := &pkgs[i]
		if p.Type != TypeDeb && p.Type != TypeAPK && p.Type != TypeRPM {
			continue
		}
		if os != nil && family(os.ID) == p.Type {
			p.Ecosystem = os.Ecosystem
		}
		p.PURL = OSPackagePURL(*p, os)
	}
}
