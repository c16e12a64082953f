// Command indexer builds per-region quadtrees of businesses and publishes
// them as seeds for searchd.
//
//	indexer build --from-csv FILE --out DIR [--regions FILE]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nearby/nearby/internal/indexer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "indexer:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  indexer build --from-csv FILE --out DIR [--regions FILE]

build reads businesses from a CSV file (header id,name,category,lat,lon;
extra columns allowed), builds one quadtree per region and publishes the
seeds and a new manifest in DIR, which searchd --seeds DIR serves.`

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "build":
		return build(ctx, args[1:], getenv, stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

func build(_ context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("indexer build", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fromCSV := fs.String("from-csv", "", "CSV file of businesses to index")
	out := fs.String("out", getenv("NEARBY_SEEDS"), "seed directory to publish to (env NEARBY_SEEDS)")
	regionsFile := fs.String("regions", getenv("NEARBY_REGIONS"), "JSON file of regions; empty uses the built-in world split (env NEARBY_REGIONS)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *fromCSV == "" || *out == "" {
		return errors.New("build needs --from-csv FILE and --out DIR (database builds come with --db)")
	}
	logger := slog.New(slog.NewJSONHandler(stdout, nil))
	regions, err := indexer.NewRegions(indexer.DefaultRegions)
	if *regionsFile != "" {
		regions, err = indexer.ReadRegions(*regionsFile)
	}
	if err != nil {
		return err
	}
	start := time.Now()
	m, err := indexer.PublishCSV(*fromCSV, *out, regions)
	if err != nil {
		return err
	}
	total := 0
	for _, r := range m.Regions {
		total += r.Count
		logger.Info("seed", "region", r.Name, "file", r.File, "businesses", r.Count, "bytes", r.Bytes)
	}
	logger.Info("published", "dir", *out, "generation", m.Generation, "businesses", total,
		"took", time.Since(start).Round(time.Millisecond).String())
	return nil
}
