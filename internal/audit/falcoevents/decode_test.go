package falcoevents

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestSamples decodes each real-shaped Falco alert and checks the audit
// event it becomes against testdata/<sample>.golden.
func TestSamples(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"terminal-shell", "miner-pool", "legacy-no-namespace"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			alerts, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(alerts) != 1 {
				t.Fatalf("%d alerts, want 1", len(alerts))
			}
			ev := alerts[0].Event()
			got, _ := json.MarshalIndent(&ev, "", "  ")
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				os.WriteFile(golden, append(got, '\n'), 0o644)
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("run go test -update: %v", err)
			}
			if diff := cmp.Diff(string(want), string(got)+"\n"); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGoldensHaveSamples(t *testing.T) {
	t.Parallel()
	goldens, _ := filepath.Glob("testdata/*.golden")
	for _, g := range goldens {
		if _, err := os.Stat(strings.TrimSuffix(g, ".golden") + ".json"); err != nil {
			t.Errorf("orphaned golden %s", g)
		}
	}
}

func TestWorkloadAndID(t *testing.T) {
	t.Parallel()
	data, _ := os.ReadFile("testdata/terminal-shell.json")
	a, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	want := Workload{Namespace: "shop", Pod: "web-0", ContainerID: "788861c3cf83", ContainerName: "web", Image: "docker.io/library/nginx:1.27"}
	if diff := cmp.Diff(want, a[0].Workload()); diff != "" {
		t.Errorf("workload (-want +got):\n%s", diff)
	}
	if id := a[0].ID(); id != "falco-6a0a2c0e-8f5e-4cf1-9d35-4c8ff1b0a0f1" {
		t.Errorf("ID with uuid = %s", id)
	}
	legacy, _ := os.ReadFile("testdata/legacy-no-namespace.json")
	l1, _ := Decode(legacy)
	l2, _ := Decode(legacy)
	if l1[0].ID() != l2[0].ID() || !strings.HasPrefix(l1[0].ID(), "falco-") {
		t.Errorf("content IDs differ or malformed: %s %s", l1[0].ID(), l2[0].ID())
	}
	if w := l1[0].Workload(); w.Namespace != "" || w.Pod != "falco-6htpw" {
		t.Errorf("legacy workload = %+v", w)
	}
}

func TestDecodeForms(t *testing.T) {
	t.Parallel()
	one, _ := os.ReadFile("testdata/terminal-shell.json")
	two, _ := os.ReadFile("testdata/miner-pool.json")
	for _, tc := range []struct {
		name    string
		body    string
		n       int
		wantErr string
	}{
		{name: "object", body: string(one), n: 1},
		{name: "json lines", body: string(one) + "\n" + string(two), n: 2},
		{name: "array", body: "[" + string(one) + "," + string(two) + "]", n: 2},
		{name: "empty", body: "  ", wantErr: "empty body"},
		{name: "not an object", body: `"hello"`, wantErr: "alert 1: want a JSON object"},
		{name: "no rule", body: `{"priority":"Notice","time":"2026-11-25T10:00:00Z"}`, wantErr: `alert 1: "rule" is required`},
		{name: "bad time", body: `{"rule":"r","priority":"Notice","time":"yesterday"}`, wantErr: `alert 1: "time" "yesterday"`},
		{name: "bad priority", body: `{"rule":"r","priority":"Urgent","time":"2026-11-25T10:00:00Z"}`, wantErr: `"priority" "Urgent"`},
		{name: "second bad", body: string(one) + "\n{", wantErr: "alert 2:"},
		{name: "truncated", body: string(one[:40]), wantErr: "alert 1:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode([]byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || len(got) != tc.n {
				t.Fatalf("got %d alerts, %v; want %d", len(got), err, tc.n)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, n := range []string{"terminal-shell", "miner-pool", "legacy-no-namespace"} {
		data, err := os.ReadFile(filepath.Join("testdata", n+".json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`[{"rule":"r","time":"2026-11-25T10:00:00Z","output_fields":{"k8s.pod.name":null,"container.id":"host"}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		alerts, err := Decode(data)
		if err != nil {
			return
		}
		for i := range alerts {
			ev := alerts[i].Event()
			if _, err := json.Marshal(&ev); err != nil {
				t.Fatalf("decoded alert does not encode as an event: %v", err)
			}
			if ev.AuditID == "" || alerts[i].Rule == "" {
				t.Fatalf("decoded alert without ID or rule: %+v", alerts[i])
			}
		}
	})
}
