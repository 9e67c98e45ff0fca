package nodecheck

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// factsSource answers from what a node collector gathered (Kubescape's
// host-sensor, Trivy's node-collector) instead of a filesystem. It tells
// a file the collector looked for and did not find (not applicable) from
// one it did not look for (errNotCollected: not evaluated).
type factsSource struct {
	collector string // "Kubescape host-sensor": says who did not collect what
	files     map[string]*fileFact
	// looked are paths the collector looked for: absent from files, they do
	// not exist on the node.
	looked map[string]bool
	// dirs list, by directory, the files the collector reported in it.
	dirs map[string][]string
	// units are the kubelet unit files; unitsKnown says the collector
	// looked for them.
	units      []string
	unitsKnown bool
	// places map a kubeadm path or a flag role to where the file is.
	places map[string]string
}

// fileFact is what a collector reported of one file; nil fields were not
// reported.
type fileFact struct {
	path    string
	mode    *fs.FileMode
	owner   *Owner
	names   string // "user:group"
	content []byte
	hasData bool
	isDir   bool
}

func newFactsSource(collector string) *factsSource {
	return &factsSource{collector: collector, files: map[string]*fileFact{}, looked: map[string]bool{}, dirs: map[string][]string{}, places: map[string]string{}}
}

// add records a file fact, merging with what is known of the same path.
func (s *factsSource) add(f *fileFact) {
	old := s.files[f.path]
	if old == nil {
		s.files[f.path] = f
		return
	}
	if f.mode != nil {
		old.mode = f.mode
	}
	if f.owner != nil {
		old.owner = f.owner
	}
	if f.names != "" {
		old.names = f.names
	}
	if f.hasData {
		old.content, old.hasData = f.content, true
	}
	old.isDir = old.isDir || f.isDir
}

// place records that the file kept at (or named by) key is at p.
func (s *factsSource) place(key, p string) {
	if key != p && p != "" {
		s.places[key] = p
	}
}

func (s *factsSource) notCollected(what string) error {
	return fmt.Errorf("%s: %w by %s", what, errNotCollected, s.collector)
}

func (s *factsSource) located(p string) (string, bool) {
	q, ok := s.places[p]
	return q, ok
}

func (s *factsSource) read(p string) ([]byte, error) {
	f := s.files[p]
	switch {
	case f != nil && f.hasData:
		return f.content, nil
	case f == nil && s.looked[p]:
		return nil, fmt.Errorf("read %s: %w", p, fs.ErrNotExist)
	}
	return nil, s.notCollected("contents of " + p)
}

func (f *fileFact) has(a aspect) bool {
	if a == aspectOwner {
		return f.owner != nil || f.names != ""
	}
	return f.mode != nil
}

func (s *factsSource) stat(p string, a aspect) (*fileInfo, error) {
	f := s.files[p]
	if f == nil {
		if s.looked[p] {
			return nil, nil
		}
		return nil, s.notCollected(a.String() + " of " + p)
	}
	if !f.has(a) {
		return nil, s.notCollected(a.String() + " of " + p)
	}
	fi := &fileInfo{Path: p, IsDir: f.isDir, Names: f.names}
	if f.mode != nil {
		fi.Mode = *f.mode
	}
	if f.owner != nil {
		fi.Owner, fi.numeric = *f.owner, true
	}
	return fi, nil
}

func (s *factsSource) walk(_ context.Context, dir string, a aspect) ([]string, error) {
	listed, ok := s.dirs[dir]
	if !ok {
		return nil, s.notCollected("files under " + dir)
	}
	var out []string
	for _, p := range listed {
		if f := s.files[p]; f != nil && f.has(a) {
			out = append(out, p)
		}
	}
	if len(out) == 0 && len(listed) > 0 {
		return nil, s.notCollected(a.String() + " of files under " + dir)
	}
	sort.Strings(out)
	return out, nil
}

func (s *factsSource) unitFiles() ([]string, error) {
	if !s.unitsKnown {
		return nil, s.notCollected("kubelet unit files")
	}
	return s.units, nil
}

// componentFromCmdline returns a component from a collected command line
// ("kube-apiserver --a=b ..."), the way the kernel's cmdline gives it but
// joined by spaces: values with spaces in them cannot be told apart.
func componentFromCmdline(name, source, cmdline string) *Component {
	words := strings.Fields(cmdline)
	if len(words) > 0 && !strings.HasPrefix(words[0], "-") {
		words = words[1:]
	}
	return &Component{Name: name, Source: source, Flags: ParseArgs(words)}
}

var _ source = (*factsSource)(nil)
