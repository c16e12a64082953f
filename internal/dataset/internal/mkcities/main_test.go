package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"strings"
	"testing"
)

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestDerive(t *testing.T) {
	in := gz(t, `name,country,lat,lon,population
Big Town,XX,12.345678,-98.765432,150000
Unknown Seat,XX,1.5,2.5,0
Village,XX,3,4,1999
"Comma, Town",XX,-0.00001,179.99999,2000
`)
	var out bytes.Buffer
	st, err := derive(bytes.NewReader(in), &out, 2000)
	if err != nil {
		t.Fatal(err)
	}
	want := `name,country,lat,lon,population
Big Town,XX,12.3457,-98.7654,150000
"Comma, Town",XX,-0,180,2000
`
	if got := gunzip(t, out.Bytes()); got != want {
		t.Errorf("derived\n%s\nwant\n%s", got, want)
	}
	if st.read != 4 || st.kept != 2 || st.totalWeight != 150000+1000+1999+2000 || st.keptWeight != 152000 {
		t.Errorf("stats %+v", st)
	}
	// Byte-identical on a second run.
	var again bytes.Buffer
	if _, err := derive(bytes.NewReader(in), &again, 2000); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), again.Bytes()) {
		t.Error("two runs differ")
	}
}

func TestDeriveErrors(t *testing.T) {
	for _, in := range []string{
		"city,country,lat,lon,population\n",
		"name,country,lat,lon,population\nA,XX,91,0,5000\n",
		"name,country,lat,lon,population\nA,XX,1,0,-5\n",
		"name,country,lat,lon,population\nA,XX,1,0\n",
	} {
		if _, err := derive(bytes.NewReader(gz(t, in)), io.Discard, 2000); err == nil {
			t.Errorf("derive(%q) succeeded, want an error", in)
		}
	}
}

// TestEmbeddedIsFresh checks that the embedded file is exactly what
// mkcities makes from the shared source, when the source is in the tree.
func TestEmbeddedIsFresh(t *testing.T) {
	const source = "../../../../../shared/data/cities.csv.gz"
	src, err := os.ReadFile(source)
	if os.IsNotExist(err) {
		t.Skipf("source %s not present; cannot check the embedded file", source)
	}
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := os.ReadFile("../../cities.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := derive(bytes.NewReader(src), &out, 2000); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), embedded) {
		t.Errorf("internal/dataset/cities.csv.gz (%d bytes) differs from a fresh derivation (%d bytes): run go generate in internal/dataset",
			len(embedded), out.Len())
	}
	if !strings.HasPrefix(gunzip(t, embedded), "name,country,lat,lon,population\n") {
		t.Error("embedded file has the wrong header")
	}
}
