package dataset_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/dataset"
)

func ExampleGenerate() {
	bs := dataset.Generate(1000, 42)
	again := dataset.Generate(1000, 42)
	fmt.Println(len(bs), bs[0].ID, bs[999].ID, bs[500] == again[500])
	// Output: 1000 1 1000 true
}

func ExampleWriteCSV() {
	bs := []nearby.Business{
		{ID: 1, Name: "Blue Door Café", Category: nearby.Cafe, Lat: 48.8566, Lon: 2.3522, Price: 2, Rating: nearby.RatingOf(45), ReviewCount: 312},
		{ID: 2, Name: `Smith, Patel & Kim Dental`, Category: nearby.Dentist, Lat: 40.7128, Lon: -74.006},
		{ID: 3, Name: `The "Crown & Anchor"`, Category: nearby.Bar, Lat: 51.5074, Lon: -0.1278},
	}
	if err := dataset.WriteCSV(os.Stdout, bs); err != nil {
		fmt.Println(err)
	}
	// Output:
	// id,name,category,lat,lon,price,rating,review_count,hours
	// 1,Blue Door Café,cafe,48.8566000,2.3522000,2,4.5,312,
	// 2,"Smith, Patel & Kim Dental",dentist,40.7128000,-74.0060000,,,0,
	// 3,"The ""Crown & Anchor""",bar,51.5074000,-0.1278000,,,0,
}

func ExampleReadCSV() {
	in := `id,name,category,lat,lon
1,"Smith, Patel & Kim Dental",dentist,40.7128,-74.006
2,Nguyen's Pharmacy,pharmacy,10.7769,106.7009
3,Bad Row,casino,0,0
`
	err := dataset.ReadCSV(strings.NewReader(in), func(b nearby.Business) error {
		fmt.Printf("%d %q %v\n", b.ID, b.Name, b.Category)
		return nil
	})
	fmt.Println(nearby.ErrorCode(err), nearby.ErrorMessage(err))
	// Output:
	// 1 "Smith, Patel & Kim Dental" dentist
	// 2 "Nguyen's Pharmacy" pharmacy
	// invalid line 4: unknown category "casino"
}

func ExampleQueryWriter() {
	qw := dataset.NewQueryWriter(os.Stdout)
	for _, q := range []dataset.Query{
		{Lat: 35.6895, Lon: 139.6917, RadiusM: 2000, Limit: 20, Categories: []nearby.Category{nearby.Cafe, nearby.Bakery}},
		{Lat: 48.8566, Lon: 2.3522, RadiusM: 500, Limit: 20},
	} {
		if err := qw.Write(q); err != nil {
			fmt.Println(err)
		}
	}
	if err := qw.Flush(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// lat,lon,radius_m,limit,categories
	// 35.6895000,139.6917000,2000,20,cafe|bakery
	// 48.8566000,2.3522000,500,20,
}
