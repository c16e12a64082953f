// Command benchreport turns `go test -bench` output into a Markdown table and
// writes it into a file between the markers
//
//	<!-- bench:NAME -->
//	<!-- /bench:NAME -->
//
// so `make bench` can rewrite the tables of BENCHMARKS.md in place, each with
// the command that produced it and the machine it ran on.
//
//	go test -bench . ./quadtree | benchreport -section quadtree -cmd "go test -bench . ./quadtree" -file BENCHMARKS.md
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	section := fs.String("section", "", "marker name of the table in the file")
	command := fs.String("cmd", "", "the command that produced the input, shown above the table")
	file := fs.String("file", "", "Markdown file to rewrite; empty prints the table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *section == "" {
		return errors.New("-section is required")
	}
	table, err := render(stdin, *command)
	if err != nil {
		return err
	}
	if *file == "" {
		_, err := io.WriteString(stdout, table)
		return err
	}
	doc, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	doc, err = replaceSection(doc, *section, table)
	if err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	return os.WriteFile(*file, doc, 0o644)
}

// render reads benchmark output and returns a Markdown block: the command,
// the machine, and a table of every benchmark line with all its metrics.
func render(r io.Reader, command string) (string, error) {
	var cpu string
	var units []string
	type row struct {
		name    string
		metrics map[string]string
	}
	var rows []row
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "cpu: "); ok {
			cpu = strings.TrimSpace(v) // go test pads some CPU names with spaces
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		rw := row{name: strings.TrimPrefix(f[0], "Benchmark"), metrics: map[string]string{}}
		for i := 2; i+1 < len(f); i += 2 {
			unit := f[i+1]
			if _, seen := rw.metrics[unit]; !seen && !slices.Contains(units, unit) {
				units = append(units, unit)
			}
			rw.metrics[unit] = f[i]
		}
		rows = append(rows, rw)
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	if len(rows) == 0 {
		return "", errors.New("no benchmark lines in the input")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Command: `%s`  \n", command)
	fmt.Fprintf(&b, "Machine: %s, %d CPUs, %s/%s, %s; run %s\n\n", cpu, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH,
		runtime.Version(), time.Now().UTC().Format("2006-01-02 15:04 MST"))
	b.WriteString("| benchmark | " + strings.Join(units, " | ") + " |\n")
	b.WriteString("|---" + strings.Repeat("|---:", len(units)) + "|\n")
	for _, rw := range rows {
		b.WriteString("| " + rw.name)
		for _, u := range units {
			b.WriteString(" | " + rw.metrics[u])
		}
		b.WriteString(" |\n")
	}
	return b.String(), nil
}

// replaceSection swaps what lies between the section's markers for table.
func replaceSection(doc []byte, section, table string) ([]byte, error) {
	begin := []byte("<!-- bench:" + section + " -->\n")
	end := []byte("<!-- /bench:" + section + " -->")
	i := bytes.Index(doc, begin)
	j := bytes.Index(doc, end)
	if i < 0 || j < i {
		return nil, fmt.Errorf("no markers for section %q", section)
	}
	var out bytes.Buffer
	out.Write(doc[:i+len(begin)])
	out.WriteString(table)
	out.Write(doc[j:])
	return out.Bytes(), nil
}
