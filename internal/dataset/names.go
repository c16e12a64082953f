package dataset

import (
	"math/rand/v2"

	"github.com/nearby/nearby"
)

// categoryWeights are the relative frequencies of the categories, in
// thousandths, loosely after the mix of OpenStreetMap points of interest in
// a city: eating and shopping dominate, museums and cinemas are rare.
var categoryWeights = [...]float64{
	nearby.Restaurant: 200,
	nearby.Cafe:       90,
	nearby.Bar:        60,
	nearby.Bakery:     40,
	nearby.Grocery:    80,
	nearby.Pharmacy:   45,
	nearby.Hotel:      40,
	nearby.Gym:        30,
	nearby.Bank:       35,
	nearby.HairSalon:  70,
	nearby.Bookstore:  15,
	nearby.Florist:    15,
	nearby.Hardware:   25,
	nearby.PetStore:   15,
	nearby.Dentist:    40,
	nearby.Laundry:    25,
	nearby.GasStation: 40,
	nearby.Museum:     5,
	nearby.Cinema:     5,
	nearby.Clothing:   125,
}

// kinds are the words that say what a business is, per category.
var kinds = [...][]string{
	nearby.Restaurant: {"Restaurant", "Kitchen", "Grill", "Bistro", "Diner", "Trattoria", "Brasserie", "Noodle House", "Pizzeria", "Taqueria", "Steakhouse", "Sushi Bar", "Eatery", "Canteen", "Ramen", "Curry House", "Dumpling House", "BBQ"},
	nearby.Cafe:       {"Café", "Coffee", "Coffee House", "Espresso Bar", "Tea Room", "Roasters", "Coffee Co.", "Cafe"},
	nearby.Bar:        {"Bar", "Pub", "Tavern", "Taproom", "Lounge", "Wine Bar", "Brewery", "Cocktail Club", "Alehouse", "Beer Garden"},
	nearby.Bakery:     {"Bakery", "Bakehouse", "Boulangerie", "Patisserie", "Bread Co.", "Donuts", "Bagels", "Cake Shop"},
	nearby.Grocery:    {"Market", "Grocery", "Food Store", "Supermarket", "Deli", "Corner Shop", "Fresh Market", "Minimart", "Grocers", "Food Hall"},
	nearby.Pharmacy:   {"Pharmacy", "Chemist", "Drugstore", "Apotheke", "Farmacia", "Pharmacie", "Apothecary"},
	nearby.Hotel:      {"Hotel", "Inn", "Suites", "Lodge", "Guesthouse", "Hostel", "Motel", "Residences", "B&B"},
	nearby.Gym:        {"Gym", "Fitness", "Athletic Club", "CrossFit", "Yoga Studio", "Boxing Club", "Fitness Center", "Climbing Gym", "Pilates"},
	nearby.Bank:       {"Bank", "Savings Bank", "Credit Union", "Trust", "Savings & Loan", "Cooperative Bank"},
	nearby.HairSalon:  {"Hair Salon", "Barbers", "Barbershop", "Hair Studio", "Salon", "Cuts", "Hair & Beauty", "Coiffure"},
	nearby.Bookstore:  {"Books", "Bookshop", "Bookstore", "Booksellers", "Comics", "Used Books", "Librairie"},
	nearby.Florist:    {"Florist", "Flowers", "Blooms", "Flower Shop", "Floral Design", "Fleuriste"},
	nearby.Hardware:   {"Hardware", "Hardware Store", "DIY", "Tools", "Building Supply", "Home & Garden", "Locksmith & Hardware"},
	nearby.PetStore:   {"Pet Store", "Pet Supplies", "Pets", "Aquarium", "Pet Shop", "Pet Grooming", "Pet Food"},
	nearby.Dentist:    {"Dental", "Dental Clinic", "Dentistry", "Family Dentistry", "Orthodontics", "Dental Care", "Smile Studio"},
	nearby.Laundry:    {"Laundry", "Laundromat", "Dry Cleaners", "Wash & Fold", "Cleaners", "Launderette"},
	nearby.GasStation: {"Gas", "Fuel", "Service Station", "Petrol", "Gas & Go", "Auto Service", "Truck Stop"},
	nearby.Museum:     {"Museum", "Gallery", "Art Museum", "History Museum", "Heritage Centre", "Science Center", "Railway Museum"},
	nearby.Cinema:     {"Cinema", "Theatre", "Cinemas", "Picture House", "Movie Palace", "Film House", "Cineplex"},
	nearby.Clothing:   {"Boutique", "Clothing", "Apparel", "Outfitters", "Tailors", "Fashion", "Vintage", "Denim Co.", "Shoes", "Menswear"},
}

// hospitable reports whether businesses of category c are often named like
// a pub, without saying what they are ("The Golden Lantern", "The Crown &
// Anchor").
func hospitable(c nearby.Category) bool {
	switch c {
	case nearby.Restaurant, nearby.Cafe, nearby.Bar, nearby.Hotel:
		return true
	}
	return false
}

var adjectives = []string{
	"Blue", "Red", "Green", "Golden", "Silver", "Black", "White", "Little", "Big", "Old",
	"New", "Happy", "Lucky", "Royal", "Grand", "Rustic", "Urban", "Sunny", "Wild", "Crimson",
	"Copper", "Iron", "Velvet", "Hidden", "Secret", "Humble", "Jolly", "Merry", "Quiet", "Bright",
	"Northern", "Southern", "Eastern", "Western", "Village", "Harbour", "Corner", "Twin", "Lazy", "Hungry",
	"Brave", "Gentle", "Purple", "Amber", "Coral", "Jade", "Ivory", "Smoky", "Salty", "Sweet",
}

var nouns = []string{
	"Door", "Oak", "Lantern", "Anchor", "Crown", "Fox", "Bear", "Lion", "Star", "Moon",
	"Sun", "Garden", "Bridge", "Harbor", "Owl", "Sparrow", "Tiger", "Dragon", "Lotus", "Maple",
	"Pine", "Willow", "Rose", "Bell", "Kettle", "Spoon", "Fork", "Barrel", "Mill", "Stone",
	"River", "Hill", "Meadow", "Bay", "Lighthouse", "Compass", "Key", "Feather", "Wolf", "Stag",
	"Swan", "Whale", "Orchid", "Olive", "Fig", "Lemon", "Cherry", "Plum", "Acorn", "Ship",
	"Castle", "Tower", "Gate", "Lamp", "Mirror", "Clock", "Horse", "Rabbit", "Hen", "Goat",
	"Pelican", "Heron", "Falcon", "Thistle", "Bamboo", "Cedar", "Saffron", "Pepper", "Mango", "Lime",
}

var surnames = []string{
	"Nguyen", "Smith", "Garcia", "Kim", "Müller", "Rossi", "Tanaka", "Silva", "Kowalski", "Patel",
	"Ali", "Chen", "Wang", "Li", "Singh", "Kumar", "Santos", "Ivanov", "Dubois", "Martin",
	"Jones", "Brown", "Johnson", "Lopez", "Hernández", "González", "Okafor", "Mensah", "Haddad", "Cohen",
	"Novak", "Jensen", "Nielsen", "Andersson", "Virtanen", "Yılmaz", "Kaya", "Papadopoulos", "Suzuki", "Sato",
	"Park", "Lee", "Tran", "Pham", "Murphy", "O'Brien", "Kelly", "Fischer", "Schmidt", "Weber",
	"Bianchi", "Romano", "Ferrari", "Costa", "Pereira", "Oliveira", "Fernandes", "Hoang", "Nakamura", "Watanabe",
	"Ito", "Choi", "Jung", "Das", "Sharma", "Gupta", "Khan", "Ahmed", "Hassan", "Ibrahim",
	"Mohamed", "Abdullah", "Rahman", "Hussain", "Moreau", "Laurent", "Lefebvre", "Bernard", "Petit", "Dupont",
	"Jansen", "de Vries", "Bakker", "Visser", "Horvat", "Kovač", "Popescu", "Nagy", "Szabó", "Dvořák",
	"Kuznetsov", "Smirnov", "Popov", "Wójcik", "Rodríguez", "Martínez", "Sánchez", "Pérez", "Ramírez", "Torres",
	"Flores", "Rivera", "Gómez", "Díaz", "Cruz", "Morales", "Reyes", "Wilson", "Taylor", "Anderson",
	"Thomas", "Moore", "Jackson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall", "Young",
	"King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell",
	"Roberts", "Carter", "Phillips", "Evans", "Turner", "Parker", "Collins", "Edwards", "Stewart", "Mwangi",
	"Otieno", "Adeyemi", "Bello", "Tesfaye", "Nowak", "Horváth", "Lindqvist", "Hansen", "Berg", "Eriksson",
}

var firstNames = []string{
	"Maria", "Joe", "Anna", "Luca", "Sofia", "Omar", "Mei", "Hiro", "Priya", "Carlos",
	"Fatima", "Jack", "Lena", "Yuki", "Ahmed", "Olga", "Pedro", "Aisha", "Tom", "Nina",
	"Sam", "Rosa", "Ivan", "Chloé", "Kofi", "Amara", "Jin", "Elena", "Mateo", "Zoe",
}

var nicknames = []string{"Big", "The Boss", "Lucky", "Doc", "Smiley", "Red", "Shorty", "Ace", "Papa", "Chef"}

// name returns a business name for category c in the named city. The
// patterns and their shares (in thousandths) are below; about 2.5% of names
// contain a comma and 1.5% a double quote, so CSV quoting gets exercised,
// and city names bring their own accents, commas and quotes.
func name(r *rand.Rand, c nearby.Category, city string) string {
	kind := pick(r, kinds[c])
	switch p := r.IntN(1000); {
	case p < 240: // Blue Door Café
		return pick(r, adjectives) + " " + pick(r, nouns) + " " + kind
	case p < 390: // Nguyen's Pharmacy
		return pick(r, surnames) + "'s " + kind
	case p < 480: // Rossi Bakery
		return pick(r, surnames) + " " + kind
	case p < 570: // The Golden Lantern
		if hospitable(c) {
			return "The " + pick(r, adjectives) + " " + pick(r, nouns)
		}
		return pick(r, adjectives) + " " + kind
	case p < 620: // The Crown & Anchor
		if hospitable(c) {
			return "The " + pick(r, nouns) + " & " + pick(r, nouns)
		}
		return pick(r, nouns) + " & " + pick(r, nouns) + " " + kind
	case p < 720: // Osaka Bakery
		return city + " " + kind
	case p < 780: // Café Rossi
		return kind + " " + pick(r, surnames)
	case p < 860: // Maria's Bakery
		return pick(r, firstNames) + "'s " + kind
	case p < 940: // Lantern Books
		return pick(r, nouns) + " " + kind
	case p < 965: // Novak & Sons Hardware
		return pick(r, surnames) + " & Sons " + kind
	case p < 975: // Smith, Patel & Kim Dental
		return pick(r, surnames) + ", " + pick(r, surnames) + " & " + pick(r, surnames) + " " + kind
	case p < 985: // Blue Door Café, Lyon
		return pick(r, adjectives) + " " + pick(r, nouns) + " " + kind + ", " + city
	case p < 990: // Joe "The Boss" Rossi's Pizzeria
		return pick(r, firstNames) + ` "` + pick(r, nicknames) + `" ` + pick(r, surnames) + "'s " + kind
	case p < 995: // The "Blue Door" Café
		return `The "` + pick(r, adjectives) + " " + pick(r, nouns) + `" ` + kind
	default: // "Sweet Fig", Bakery
		return `"` + pick(r, adjectives) + " " + pick(r, nouns) + `", ` + kind
	}
}

func pick(r *rand.Rand, words []string) string { return words[r.IntN(len(words))] }
