// Package chromiumtest finds the Chromium that browser tests drive.
package chromiumtest

import (
	"os"
	"os/exec"
	"testing"
)

// Path returns the path of a Chromium to drive. Without one the test
// skips, except in CI (CI=true), where scripts/chromium.sh installs it and
// a missing browser is a failure.
func Path(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is not installed; scripts/chromium.sh installs it")
	}
	t.Skip("Chromium is not installed (scripts/chromium.sh installs it); skipping the browser test")
	return ""
}
