package main

import (
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nearby/nearby/seeds"
)

// TestHealthyWhileSeedsLoad: searchd answers /healthz, and /readyz with
// 503, while its seeds load. The load is held up by a manifest that is a
// named pipe, released when the test ends.
func TestHealthyWhileSeedsLoad(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, seeds.ManifestName)
	if err := syscall.Mkfifo(manifest, 0o644); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	base, _ := launchSearchd(t, []string{"--seeds", dir, "--reload-interval", "1h"}, nil)
	t.Cleanup(func() {
		// Let the load go on (and fail: the manifest is not JSON) before
		// searchd is stopped. Opening the pipe does not wait: it fails
		// until the load opens the other end.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if f, err := os.OpenFile(manifest, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.WriteString("not a manifest")
				f.Close()
				break
			}
		}
	})
	client := &http.Client{Timeout: 3 * time.Second}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 503} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("%s while the seeds load: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s while the seeds load: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
