package nearby_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMakeFuzzRunsEveryFuzzer: `make fuzz` (the README's way to run the
// fuzzers for a while) names every fuzz test in the tree, in its package.
func TestMakeFuzzRunsEveryFuzzer(t *testing.T) {
	makefile, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	// Lines like: $(GO) test -run '^$$' -fuzz 'FuzzDecode$$' -fuzztime 60s ./geohash/
	line := regexp.MustCompile(`-fuzz '?(Fuzz\w+)(?:\$\$)?'? .*\./(\S*?)/?$`)
	listed := map[string]bool{}
	for _, l := range strings.Split(string(makefile), "\n") {
		if m := line.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			listed[m[2]+"."+m[1]] = true
		}
	}
	fuzzer := regexp.MustCompile(`(?m)^func (Fuzz\w+)\(`)
	found := 0
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "tmp" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && path != ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range fuzzer.FindAllStringSubmatch(string(src), -1) {
			found++
			if key := filepath.ToSlash(filepath.Dir(path)) + "." + m[1]; !listed[key] {
				t.Errorf("%s in %s is not run by make fuzz", m[1], path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 || len(listed) == 0 {
		t.Fatalf("found %d fuzz tests and %d make fuzz lines", found, len(listed))
	}
}
