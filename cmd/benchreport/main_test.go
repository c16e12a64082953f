package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sample's CPU name is padded with spaces, as go test prints some.
const sample = "goos: linux\ncpu: Test CPU           \n" + `BenchmarkNearest/n=1M/k=20/r=2km-2   493104   5092 ns/op   15.71 hits/op   5872 p50-ns   0 B/op   0 allocs/op
BenchmarkBuild/n=1M-2   20   110570544 ns/op   20.86 index-B/business
PASS
`

func TestRewritesOnlyItsSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "B.md")
	doc := "# Bench\n\n<!-- bench:q -->\nold table\n<!-- /bench:q -->\n\ntext kept\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-section", "q", "-cmd", "make bench", "-file", path}, strings.NewReader(sample), nil); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	s := string(got)
	for _, want := range []string{
		"Command: `make bench`", "Machine: Test CPU, ",
		"| benchmark | ns/op | hits/op | p50-ns | B/op | allocs/op | index-B/business |",
		"| Nearest/n=1M/k=20/r=2km-2 | 5092 | 15.71 | 5872 | 0 | 0 |  |",
		"| Build/n=1M-2 | 110570544 |  |  |  |  | 20.86 |",
		"text kept", "# Bench",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in:\n%s", want, s)
		}
	}
	if strings.Contains(s, "old table") {
		t.Error("old table kept")
	}
	if err := run([]string{"-section", "nope", "-file", path}, strings.NewReader(sample), nil); err == nil {
		t.Error("missing markers accepted")
	}
}
