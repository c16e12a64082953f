package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/dataset"
)

func TestRunBusinessesToFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "businesses.csv")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-n", "1000", "-seed", "7", "-out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("wrote %d bytes to stdout, want none", stdout.Len())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "id,name,category,lat,lon,price,rating,review_count,hours\n") {
		t.Errorf("output starts %q", data[:min(len(data), 40)])
	}
	var ids []int64
	want := dataset.Generate(1000, 7)
	if err := dataset.ReadCSV(bytes.NewReader(data), func(b nearby.Business) error {
		if i := len(ids); i < len(want) && !b.Equal(want[i]) {
			t.Errorf("row %d: read %+v, generated %+v", i, b, want[i])
		}
		ids = append(ids, b.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1000 || ids[0] != 1 || ids[999] != 1000 {
		t.Errorf("read %d rows, ids %v..%v; want 1000 rows with ids 1..1000", len(ids), ids[0], ids[len(ids)-1])
	}
	// Same flags, same bytes; this time to stdout.
	stdout.Reset()
	if err := run(context.Background(), []string{"-seed", "7", "-n", "1000", "-out", "-"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stdout.Bytes(), data) {
		t.Error("stdout differs from the file written with the same flags")
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("%d files in the output folder, want 1 (no temporary files left)", len(entries))
	}
	t.Log(strings.TrimSpace(stderr.String()))
}

func TestRunQueries(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-kind", "queries", "-n", "500"}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "lat,lon,radius_m,limit,categories\n") {
		t.Errorf("output starts %q", stdout.String()[:min(stdout.Len(), 40)])
	}
	n := 0
	if err := dataset.ReadQueriesCSV(&stdout, func(dataset.Query) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 500 {
		t.Errorf("read %d queries, want 500", n)
	}
}

func TestRunHeaderOnly(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-n", "0"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "id,name,category,lat,lon,price,rating,review_count,hours\n" {
		t.Errorf("-n 0 wrote %q, want the header alone", stdout.String())
	}
}

func TestRunBadCommandLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknown flag", []string{"-x"}},
		{"negative n", []string{"-n", "-5"}},
		{"n not a number", []string{"-n", "many"}},
		{"negative seed", []string{"-seed", "-1"}},
		{"unknown kind", []string{"-kind", "cities"}},
		{"positional argument", []string{"out.csv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr)
			if err != errUsage {
				t.Errorf("run(%q) = %v, want errUsage", tt.args, err)
			}
			if !strings.Contains(stderr.String(), "Usage: nearby-gen") {
				t.Errorf("run(%q) printed no usage:\n%s", tt.args, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("run(%q) wrote output", tt.args)
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, &stdout, &stderr); err != nil {
		t.Errorf("-h: %v, want nil", err)
	}
	for _, want := range []string{"-kind", "businesses", "queries", "id,name,category,lat,lon", "GeoNames", "~1% sharing"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, stderr.String())
		}
	}
	// The usage is printed as it is, not as a format: an escape written
	// for Printf would show.
	if strings.Contains(stderr.String(), "%%") {
		t.Errorf("usage shows a Printf escape:\n%s", stderr.String())
	}
}

func TestRunFailures(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	missing := filepath.Join(dir, "missing", "x.csv")
	err := run(context.Background(), []string{"-n", "10", "-out", missing}, &stdout, &stderr)
	if err == nil {
		t.Error("writing into a missing folder succeeded")
	} else if msg := err.Error(); !strings.Contains(msg, missing) || strings.Contains(msg, ".x.csv.") {
		// The user named x.csv; the temporary file beside it is ours.
		t.Errorf("writing into a missing folder: %q, want it to name %s and no temporary file", msg, missing)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(dir, "cancelled.csv")
	if err := run(ctx, []string{"-n", "10", "-out", out}, &stdout, &stderr); err != context.Canceled {
		t.Errorf("cancelled run = %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("cancelled run left %d files behind", len(entries))
	}
}
