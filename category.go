package nearby

import (
	"fmt"
	"strings"
)

// Category is the kind of a business, one of a fixed set. Its numeric value
// is stored in seeds and in the index, so values are never renumbered: new
// categories are appended at the end.
type Category uint8

// The categories, in their stored order.
const (
	Restaurant Category = iota
	Cafe
	Bar
	Bakery
	Grocery
	Pharmacy
	Hotel
	Gym
	Bank
	HairSalon
	Bookstore
	Florist
	Hardware
	PetStore
	Dentist
	Laundry
	GasStation
	Museum
	Cinema
	Clothing
	numCategories
)

// categoryNames are the wire and database names, indexed by Category.
var categoryNames = [numCategories]string{
	"restaurant", "cafe", "bar", "bakery", "grocery", "pharmacy", "hotel",
	"gym", "bank", "hair_salon", "bookstore", "florist", "hardware",
	"pet_store", "dentist", "laundry", "gas_station", "museum", "cinema",
	"clothing",
}

// Categories returns every category in stored order.
func Categories() []Category {
	cs := make([]Category, numCategories)
	for i := range cs {
		cs[i] = Category(i)
	}
	return cs
}

// CategoryNames returns the wire names of every category in stored order.
func CategoryNames() []string { return append([]string(nil), categoryNames[:]...) }

// Valid reports whether c is one of the known categories.
func (c Category) Valid() bool { return c < numCategories }

// String returns the wire name of c, e.g. "hair_salon".
func (c Category) String() string {
	if !c.Valid() {
		return fmt.Sprintf("Category(%d)", uint8(c))
	}
	return categoryNames[c]
}

// ParseCategory returns the category with the wire name s.
func ParseCategory(s string) (Category, error) {
	for i, n := range categoryNames {
		if n == s {
			return Category(i), nil
		}
	}
	return 0, Errorf(EINVALID, "unknown category %q (known: %s)", s, strings.Join(categoryNames[:], ", "))
}

// CategorySet is a set of categories as a bit mask (bit c set for category
// c). The zero set means "no filter" wherever a filter is taken.
type CategorySet uint32

// Add returns s with c added.
func (s CategorySet) Add(c Category) CategorySet { return s | 1<<c }

// Has reports whether c is in s.
func (s CategorySet) Has(c Category) bool { return s&(1<<c) != 0 }

// ParseCategorySet parses a comma-separated list of category names.
func ParseCategorySet(list string) (CategorySet, error) {
	var s CategorySet
	for _, name := range strings.Split(list, ",") {
		c, err := ParseCategory(strings.TrimSpace(name))
		if err != nil {
			return 0, err
		}
		s = s.Add(c)
	}
	return s, nil
}
