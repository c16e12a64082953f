// Command nearby-gen writes realistic synthetic data for nearby as CSV:
// businesses placed around real cities weighted by population, with price
// levels, ratings, review counts and opening hours, or a search workload
// drawn the same way. Output depends only on -kind, -n and -seed.
//
// Usage:
//
//	nearby-gen [-kind businesses|queries] [-n N] [-seed S] [-out FILE]
//
// Run nearby-gen -h for the formats. The data is generated around cities from
// GeoNames: it "Contains data from GeoNames (geonames.org), CC BY 4.0".
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nearby/nearby/internal/dataset"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, errUsage):
		os.Exit(2) // the flag package has printed the problem and the usage
	case err != nil:
		fmt.Fprintln(os.Stderr, "nearby-gen:", err)
		os.Exit(1)
	}
}

// errUsage marks a bad command line, already reported with the usage text.
var errUsage = errors.New("bad command line")

// Kinds of output.
const (
	kindBusinesses = "businesses"
	kindQueries    = "queries"
)

// config is the effective configuration of one run.
type config struct {
	kind string
	n    int
	seed uint64
	out  string // "" or "-" for stdout
}

const usage = `Usage: nearby-gen [flags]

Writes realistic synthetic data for nearby as CSV (RFC 4180, "\n" line ends):
businesses placed around real cities weighted by population (dense downtowns,
sparse countryside, empty oceans, ~1% sharing a location), or a search
workload drawn the same way. The output depends only on -kind, -n and -seed.

  -kind businesses  header id,name,category,lat,lon,price,rating,review_count,
                    hours (ids 1..n, lat/lon in degrees with 7 decimals,
                    category wire names, price 1-4, rating in stars with one
                    decimal, hours as JSON in the city's time zone; an empty
                    price, rating or hours is not known)
  -kind queries     header lat,lon,radius_m,limit,categories (categories is
                    empty for no filter or wire names joined by "|")

Flags:
`

const usageExamples = `
Examples:
  nearby-gen -n 10000000 -out businesses.csv
  nearby-gen -kind queries -n 100000 -seed 7 -out queries.csv

Contains data from GeoNames (geonames.org), CC BY 4.0.
`

// parseFlags reads the command line into a config.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("nearby-gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
		fmt.Fprint(stderr, usageExamples)
	}
	fs.StringVar(&c.kind, "kind", kindBusinesses, "`kind` of rows to write: businesses or queries")
	fs.IntVar(&c.n, "n", 100_000, "number of rows to write (0 writes the header alone)")
	fs.Uint64Var(&c.seed, "seed", 1, "random seed; the same seed gives the same rows")
	fs.StringVar(&c.out, "out", "", "output `file`, replaced atomically once complete (default stdout)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, errUsage
	}
	bad := func(format string, a ...any) (config, error) {
		fmt.Fprintf(stderr, "nearby-gen: "+format+"\n", a...)
		fs.Usage()
		return c, errUsage
	}
	switch {
	case fs.NArg() > 0:
		return bad("unexpected arguments %q", fs.Args())
	case c.kind != kindBusinesses && c.kind != kindQueries:
		return bad("-kind %q: want %s or %s", c.kind, kindBusinesses, kindQueries)
	case c.n < 0:
		return bad("-n %d: want 0 or more", c.n)
	}
	return c, nil
}

// run generates what the command line asks for. It stops with ctx's error
// when ctx is cancelled, leaving no partial output file behind.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	start := time.Now()
	dest := "stdout"
	if c.out == "" || c.out == "-" {
		bw := bufio.NewWriterSize(stdout, 1<<16)
		if err := generate(ctx, c, bw); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
	} else {
		dest = c.out
		if err := writeFile(c.out, func(w io.Writer) error { return generate(ctx, c, w) }); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "nearby-gen: wrote %d %s (seed %d) to %s in %v\n",
		c.n, c.kind, c.seed, dest, time.Since(start).Round(time.Millisecond))
	return nil
}

// checkEvery is how many rows are written between checks for cancellation.
const checkEvery = 1 << 16

// generate writes c.n rows of c.kind to w as CSV.
func generate(ctx context.Context, c config, w io.Writer) error {
	var write func() error
	var flush func() error
	switch c.kind {
	case kindQueries:
		g, qw := dataset.NewQueryGenerator(c.seed), dataset.NewQueryWriter(w)
		write = func() error { return qw.Write(g.Next()) }
		flush = qw.Flush
	default:
		g, bw := dataset.NewGenerator(c.seed), dataset.NewWriter(w)
		write = func() error { return bw.Write(g.Next()) }
		flush = bw.Flush
	}
	for i := range c.n {
		if i%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := write(); err != nil {
			return err
		}
	}
	return flush()
}

// writeFile writes a file through fill: into a temporary file beside it,
// synced and renamed into place only when complete, so readers never see
// half a file.
func writeFile(path string, fill func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		// Name the file asked for, not the temporary one beside it.
		if pe := (*os.PathError)(nil); errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err := fill(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	// Synced before the rename: after a crash the name holds the whole
	// file, never an empty or partial one.
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
