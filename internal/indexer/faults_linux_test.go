package indexer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// These tests make the operating system refuse the seed directory for real.
// Tests run as root, which file modes do not stop (chmod 0555 would not
// fail a write), so they mount file systems: that needs root
// (CAP_SYS_ADMIN) and Linux.

// mount mounts and unmounts when t ends; without root it skips t, saying
// why.
func mount(t *testing.T, source, target, fstype string, flags uintptr, data string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CAP_SYS_ADMIN) to mount a file system for the seed directory")
	}
	if err := syscall.Mount(source, target, fstype, flags, data); err != nil {
		t.Fatalf("mount %s on %s: %v", fstype, target, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(target, 0); err != nil {
			t.Errorf("unmount %s: %v", target, err)
		}
	})
}

// TestSeedDirOutOfDisk publishes into a 1 MiB tmpfs: a small build fits, a
// large one fills the disk (ENOSPC while writing a seed). The failed build
// removes what it wrote, so the space is free again, and the previous
// seeds stay in force.
func TestSeedDirOutOfDisk(t *testing.T) {
	dir := t.TempDir()
	mount(t, "tmpfs", dir, "tmpfs", 0, "size=1m")
	rs := defaultRegions(t)
	prev, err := Build(context.Background(), Config{Dir: dir, Regions: rs}, sliceSource(testBusinesses(2000, 7), time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	before := dirState(t, dir)
	var free0 syscall.Statfs_t
	syscall.Statfs(dir, &free0)

	// ~18 bytes a business in seeds: 200k need ~3.6 MB.
	_, err = Build(context.Background(), Config{Dir: dir, Regions: rs}, sliceSource(testBusinesses(200000, 8), time.Time{}))
	t.Logf("build into a full disk: %v", err)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err %v, want ENOSPC", err)
	}
	assertUnchanged(t, dir, before, prev.Manifest)
	var free1 syscall.Statfs_t
	syscall.Statfs(dir, &free1)
	if free1.Bfree != free0.Bfree {
		t.Errorf("free blocks %d after the failed build, %d before: its files were not all removed", free1.Bfree, free0.Bfree)
	}
}

// TestSeedDirReadOnly publishes, then remounts the seed directory
// read-only (a read-only bind mount of itself): the next build fails with
// EROFS and the previous seeds stay in force.
func TestSeedDirReadOnly(t *testing.T) {
	dir := t.TempDir()
	rs := defaultRegions(t)
	prev, err := Build(context.Background(), Config{Dir: dir, Regions: rs}, sliceSource(testBusinesses(2000, 9), time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	before := dirState(t, dir)
	mount(t, dir, dir, "", syscall.MS_BIND, "")
	if err := syscall.Mount("", dir, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
	_, err = Build(context.Background(), Config{Dir: dir, Regions: rs}, sliceSource(testBusinesses(3000, 10), time.Time{}))
	t.Logf("build into a read-only directory: %v", err)
	if !errors.Is(err, syscall.EROFS) {
		t.Fatalf("err %v, want EROFS", err)
	}
	assertUnchanged(t, dir, before, prev.Manifest)
}

// TestSeedDirUnderAFile asks for a seed directory whose parent is a
// regular file (ENOTDIR): no mount needed, and it fails for root too.
func TestSeedDirUnderAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Build(context.Background(), Config{Dir: filepath.Join(file, "seeds"), Regions: defaultRegions(t)},
		sliceSource(testBusinesses(100, 11), time.Time{}))
	if !errors.Is(err, syscall.ENOTDIR) {
		t.Fatalf("err %v, want ENOTDIR", err)
	}
}
