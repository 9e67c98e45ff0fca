package imageconfig

// CIS Docker Benchmark 4.8, "Ensure setuid and setgid permissions are
// removed": a setuid or setgid program runs with its owner's or group's
// privileges whoever starts it, so each one is a way from the container's
// user to root (or a privileged group) if it has a flaw.
//
// Decision: every setuid/setgid file (not directory: setgid directories
// only set the group of new files) of the squashed filesystem is reported,
// one finding per path, so that an exception can accept one binary and not
// the others. The programs Debian, Ubuntu, Alpine and RHEL base images ship
// setuid (su, passwd, mount, …) are reported at info severity — the
// benchmark's advice to strip them still applies, but they are expected
// and a scanner that ranks them beside an unknown setuid binary buries the
// one that matters; any other path is low. Files a later layer removed or
// replaced are not reported: they cannot be executed.

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
)

// standardSetuid lists the setuid/setgid programs common base images ship,
// by path without the leading slash; "usr/" is tried stripped too (merged
// /usr).
var standardSetuid = map[string]bool{
	"bin/su": true, "bin/mount": true, "bin/umount": true, "bin/ping": true, "bin/ping6": true, "bin/bbsuid": true,
	"bin/passwd": true, "bin/chsh": true, "bin/chfn": true, "bin/gpasswd": true, "bin/newgrp": true,
	"bin/chage": true, "bin/expiry": true, "bin/wall": true, "bin/write": true, "bin/crontab": true,
	"bin/sudo": true, "bin/ssh-agent": true, "bin/pkexec": true, "bin/fusermount": true, "bin/fusermount3": true,
	"bin/newuidmap": true, "bin/newgidmap": true, "bin/at": true, "bin/bsd-write": true,
	"sbin/unix_chkpwd": true, "sbin/pam_extrausers_chkpwd": true, "sbin/pam_timestamp_check": true,
	"sbin/userhelper": true, "sbin/mount.nfs": true,
	"lib/openssh/ssh-keysign": true, "libexec/openssh/ssh-keysign": true,
	"lib/dbus-1.0/dbus-daemon-launch-helper": true, "libexec/dbus-1/dbus-daemon-launch-helper": true,
	"lib/policykit-1/polkit-agent-helper-1": true, "lib/polkit-1/polkit-agent-helper-1": true,
	"libexec/utempter/utempter": true, "lib/x86_64-linux-gnu/utempter/utempter": true,
}

// isStandardSetuid reports whether p (no leading slash) is a setuid
// program base images are known to ship.
func isStandardSetuid(p string) bool {
	return standardSetuid[p] || standardSetuid[strings.TrimPrefix(p, "usr/")]
}

// SetuidFiles reports setuid and setgid files in the squashed filesystem.
func SetuidFiles() *Check {
	return &Check{
		ID:          "image/setuid-file",
		Title:       "Setuid or setgid file",
		Severity:    finding.SeverityLow,
		CIS:         "4.8",
		Rationale:   "A setuid or setgid program runs with its owner's or group's privileges for any user, so a flaw in it lets the container's user escalate to root.",
		Remediation: "Remove the bits the application does not need in the last layer that adds files: RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +",
		Files:       func() FileCheck { return &setuidCheck{} },
	}
}

type setuidFile struct {
	path  string
	mode  fs.FileMode
	layer image.Layer
}

type setuidCheck struct{ files []setuidFile }

func (c *setuidCheck) File(f *image.File) {
	if !f.Final || f.Info == nil {
		return
	}
	m := f.Info.Mode()
	if m.IsDir() || m&fs.ModeSymlink != 0 || m&(fs.ModeSetuid|fs.ModeSetgid) == 0 {
		return
	}
	c.files = append(c.files, setuidFile{path: f.Path, mode: m, layer: f.Layer})
}

func (c *setuidCheck) Problems() []Problem {
	slices.SortFunc(c.files, func(a, b setuidFile) int { return strings.Compare(a.path, b.path) })
	out := make([]Problem, 0, len(c.files))
	for _, f := range c.files {
		var bits []string
		if f.mode&fs.ModeSetuid != 0 {
			bits = append(bits, "setuid")
		}
		if f.mode&fs.ModeSetgid != 0 {
			bits = append(bits, "setgid")
		}
		l := f.layer
		p := Problem{
			Message: fmt.Sprintf("/%s is %s (mode %s), added in layer %d", f.path, strings.Join(bits, " and "), octalMode(f.mode), l.Index),
			File:    "/" + f.path,
			Layer:   &l,
			Evidence: []finding.Evidence{
				{Name: EvPath, Value: "/" + f.path, Key: true},
				{Name: "mode", Value: octalMode(f.mode)},
				{Name: "bits", Value: strings.Join(bits, ",")},
			},
		}
		if isStandardSetuid(f.path) {
			p.Severity = finding.SeverityInfo
			p.Message += "; a program base images ship " + path.Base(f.path) + " with these bits"
			p.Evidence = append(p.Evidence, finding.Evidence{Name: "standard", Value: "true"})
		}
		out = append(out, p)
	}
	return out
}

// octalMode formats m's permission and special bits as chmod takes them:
// "4755".
func octalMode(m fs.FileMode) string {
	v := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return fmt.Sprintf("%04s", strconv.FormatUint(uint64(v), 8))
}
