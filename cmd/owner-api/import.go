package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/postgres"
)

// importCSV bulk-loads a CSV of businesses (header id,name,category,lat,lon,
// optionally price,rating,review_count,hours with hours as JSON text, empty
// cells not known; other columns ignored) into the primary as one owner's,
// in one transaction. It is for seeding a deployment, e.g. with nearby-gen's
// data.
func importCSV(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newFlags("owner-api import", getenv, stdout)
	var dsn, path string
	var owner int64
	f.db(&dsn)
	f.StringVar(&path, "from-csv", "", "CSV file of businesses to load")
	f.Int64Var(&owner, "owner", 1, "owner id the businesses are loaded for")
	if err := f.parse(args); err != nil {
		return err
	}
	if dsn == "" || path == "" {
		return errors.New("import needs --db (or NEARBY_DB) and --from-csv FILE")
	}
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	db, err := postgres.Open(ctx, postgres.Config{Primary: dsn})
	if err != nil {
		return err
	}
	defer db.Close()

	// ReadCSV pushes rows; COPY pulls them. A goroutine bridges the two.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rows := make(chan nearby.Business, 1024)
	readErr := make(chan error, 1)
	go func() {
		defer close(rows)
		readErr <- dataset.ReadCSV(file, func(b nearby.Business) error {
			select {
			case rows <- b:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	start := time.Now()
	n, err := postgres.Import(ctx, db, owner, func() (nearby.Business, bool, error) {
		b, ok := <-rows
		if !ok {
			if err := <-readErr; err != nil {
				return b, false, err
			}
		}
		return b, ok, nil
	})
	if err != nil {
		return err
	}
	slog.New(slog.NewJSONHandler(stdout, nil)).Info("imported", "businesses", n, "owner", owner,
		"took", time.Since(start).Round(time.Millisecond).String())
	return nil
}
