// Package chromiumtest finds the Chromium that browser tests drive.
package chromiumtest

import (
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
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

// Options are the options of a headless Chromium at exe for tests, with
// its profile in dir and a window of width × height: no sandbox (tests may
// run as root), no GPU, and none of the background traffic a first run
// makes (the pages under test work offline).
func Options(exe, dir string, width, height int) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(width, height),
	)
}
