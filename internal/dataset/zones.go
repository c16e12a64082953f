package dataset

import (
	"math"
	"strconv"

	// The generator's output must not depend on the machine: the zones of
	// its opening hours must load wherever it runs, with or without a tz
	// database installed.
	_ "time/tzdata"
)

// zoneOf returns the IANA time zone of city c: the zone of its box in
// zoneBoxes if its country has several, else its country's in countryZones,
// else the Etc/GMT±N zone nearest its longitude.
func zoneOf(c City) string {
	for _, b := range zoneBoxes[c.Country] {
		if c.Lat >= b.south && c.Lat < b.north && c.Lon >= b.west && c.Lon < b.east {
			return b.zone
		}
	}
	if z, ok := countryZones[c.Country]; ok {
		return z
	}
	return etcZone(c.Lon)
}

// etcZone returns the Etc/GMT±N zone of whole hours nearest to the solar
// time at longitude lon (degrees). The sign of the names is POSIX's,
// inverted: Etc/GMT-9 is 9 hours ahead of UTC.
func etcZone(lon float64) string {
	n := int(math.Round(lon / 15)) // -12 to 12
	switch {
	case n > 0:
		return "Etc/GMT-" + strconv.Itoa(n)
	case n < 0:
		return "Etc/GMT+" + strconv.Itoa(-n)
	}
	return "Etc/GMT"
}

// countryZones is the zone of each country of the embedded cities: the one
// zone.tab gives it, or for a country with several, the zone of most of its
// people (zoneBoxes has the others). XK (Kosovo) keeps Belgrade's clock.
var countryZones = map[string]string{
	"AD": "Europe/Andorra", "AE": "Asia/Dubai", "AF": "Asia/Kabul", "AG": "America/Antigua",
	"AI": "America/Anguilla", "AL": "Europe/Tirane", "AM": "Asia/Yerevan", "AO": "Africa/Luanda",
	"AR": "America/Argentina/Buenos_Aires", "AS": "Pacific/Pago_Pago", "AT": "Europe/Vienna",
	"AU": "Australia/Sydney", "AW": "America/Aruba", "AX": "Europe/Mariehamn", "AZ": "Asia/Baku",
	"BA": "Europe/Sarajevo", "BB": "America/Barbados", "BD": "Asia/Dhaka", "BE": "Europe/Brussels",
	"BF": "Africa/Ouagadougou", "BG": "Europe/Sofia", "BH": "Asia/Bahrain", "BI": "Africa/Bujumbura",
	"BJ": "Africa/Porto-Novo", "BL": "America/St_Barthelemy", "BN": "Asia/Brunei", "BO": "America/La_Paz",
	"BQ": "America/Kralendijk", "BR": "America/Sao_Paulo", "BS": "America/Nassau", "BT": "Asia/Thimphu",
	"BW": "Africa/Gaborone", "BY": "Europe/Minsk", "BZ": "America/Belize",
	"CA": "America/Toronto", "CD": "Africa/Kinshasa", "CF": "Africa/Bangui", "CG": "Africa/Brazzaville",
	"CH": "Europe/Zurich", "CI": "Africa/Abidjan", "CK": "Pacific/Rarotonga", "CL": "America/Santiago",
	"CM": "Africa/Douala", "CN": "Asia/Shanghai", "CO": "America/Bogota", "CR": "America/Costa_Rica",
	"CU": "America/Havana", "CV": "Atlantic/Cape_Verde", "CW": "America/Curacao", "CY": "Asia/Nicosia",
	"CZ": "Europe/Prague",
	"DE": "Europe/Berlin", "DJ": "Africa/Djibouti", "DK": "Europe/Copenhagen", "DM": "America/Dominica",
	"DO": "America/Santo_Domingo", "DZ": "Africa/Algiers",
	"EC": "America/Guayaquil", "EE": "Europe/Tallinn", "EG": "Africa/Cairo", "EH": "Africa/El_Aaiun",
	"ER": "Africa/Asmara", "ES": "Europe/Madrid", "ET": "Africa/Addis_Ababa",
	"FI": "Europe/Helsinki", "FJ": "Pacific/Fiji", "FK": "Atlantic/Stanley", "FM": "Pacific/Chuuk",
	"FO": "Atlantic/Faroe", "FR": "Europe/Paris",
	"GA": "Africa/Libreville", "GB": "Europe/London", "GD": "America/Grenada", "GE": "Asia/Tbilisi",
	"GF": "America/Cayenne", "GG": "Europe/Guernsey", "GH": "Africa/Accra", "GI": "Europe/Gibraltar",
	"GL": "America/Nuuk", "GM": "Africa/Banjul", "GN": "Africa/Conakry", "GP": "America/Guadeloupe",
	"GQ": "Africa/Malabo", "GR": "Europe/Athens", "GT": "America/Guatemala", "GU": "Pacific/Guam",
	"GW": "Africa/Bissau", "GY": "America/Guyana",
	"HK": "Asia/Hong_Kong", "HN": "America/Tegucigalpa", "HR": "Europe/Zagreb", "HT": "America/Port-au-Prince",
	"HU": "Europe/Budapest",
	"ID": "Asia/Jakarta", "IE": "Europe/Dublin", "IL": "Asia/Jerusalem", "IM": "Europe/Isle_of_Man",
	"IN": "Asia/Kolkata", "IQ": "Asia/Baghdad", "IR": "Asia/Tehran", "IS": "Atlantic/Reykjavik",
	"IT": "Europe/Rome",
	"JE": "Europe/Jersey", "JM": "America/Jamaica", "JO": "Asia/Amman", "JP": "Asia/Tokyo",
	"KE": "Africa/Nairobi", "KG": "Asia/Bishkek", "KH": "Asia/Phnom_Penh", "KI": "Pacific/Tarawa",
	"KM": "Indian/Comoro", "KN": "America/St_Kitts", "KP": "Asia/Pyongyang", "KR": "Asia/Seoul",
	"KW": "Asia/Kuwait", "KY": "America/Cayman", "KZ": "Asia/Almaty",
	"LA": "Asia/Vientiane", "LB": "Asia/Beirut", "LC": "America/St_Lucia", "LI": "Europe/Vaduz",
	"LK": "Asia/Colombo", "LR": "Africa/Monrovia", "LS": "Africa/Maseru", "LT": "Europe/Vilnius",
	"LU": "Europe/Luxembourg", "LV": "Europe/Riga", "LY": "Africa/Tripoli",
	"MA": "Africa/Casablanca", "MC": "Europe/Monaco", "MD": "Europe/Chisinau", "ME": "Europe/Podgorica",
	"MF": "America/Marigot", "MG": "Indian/Antananarivo", "MH": "Pacific/Majuro", "MK": "Europe/Skopje",
	"ML": "Africa/Bamako", "MM": "Asia/Yangon", "MN": "Asia/Ulaanbaatar", "MO": "Asia/Macau",
	"MP": "Pacific/Saipan", "MQ": "America/Martinique", "MR": "Africa/Nouakchott", "MT": "Europe/Malta",
	"MU": "Indian/Mauritius", "MV": "Indian/Maldives", "MW": "Africa/Blantyre", "MX": "America/Mexico_City",
	"MY": "Asia/Kuala_Lumpur", "MZ": "Africa/Maputo",
	"NA": "Africa/Windhoek", "NC": "Pacific/Noumea", "NE": "Africa/Niamey", "NG": "Africa/Lagos",
	"NI": "America/Managua", "NL": "Europe/Amsterdam", "NO": "Europe/Oslo", "NP": "Asia/Kathmandu",
	"NR": "Pacific/Nauru", "NZ": "Pacific/Auckland",
	"OM": "Asia/Muscat",
	"PA": "America/Panama", "PE": "America/Lima", "PF": "Pacific/Tahiti", "PG": "Pacific/Port_Moresby",
	"PH": "Asia/Manila", "PK": "Asia/Karachi", "PL": "Europe/Warsaw", "PM": "America/Miquelon",
	"PR": "America/Puerto_Rico", "PS": "Asia/Hebron", "PT": "Europe/Lisbon", "PW": "Pacific/Palau",
	"PY": "America/Asuncion",
	"QA": "Asia/Qatar",
	"RE": "Indian/Reunion", "RO": "Europe/Bucharest", "RS": "Europe/Belgrade", "RU": "Europe/Moscow",
	"RW": "Africa/Kigali",
	"SA": "Asia/Riyadh", "SB": "Pacific/Guadalcanal", "SC": "Indian/Mahe", "SD": "Africa/Khartoum",
	"SE": "Europe/Stockholm", "SG": "Asia/Singapore", "SI": "Europe/Ljubljana", "SJ": "Arctic/Longyearbyen",
	"SK": "Europe/Bratislava", "SL": "Africa/Freetown", "SM": "Europe/San_Marino", "SN": "Africa/Dakar",
	"SO": "Africa/Mogadishu", "SR": "America/Paramaribo", "SS": "Africa/Juba", "ST": "Africa/Sao_Tome",
	"SV": "America/El_Salvador", "SX": "America/Lower_Princes", "SY": "Asia/Damascus", "SZ": "Africa/Mbabane",
	"TC": "America/Grand_Turk", "TD": "Africa/Ndjamena", "TG": "Africa/Lome", "TH": "Asia/Bangkok",
	"TJ": "Asia/Dushanbe", "TL": "Asia/Dili", "TM": "Asia/Ashgabat", "TN": "Africa/Tunis",
	"TO": "Pacific/Tongatapu", "TR": "Europe/Istanbul", "TT": "America/Port_of_Spain", "TV": "Pacific/Funafuti",
	"TW": "Asia/Taipei", "TZ": "Africa/Dar_es_Salaam",
	"UA": "Europe/Kyiv", "UG": "Africa/Kampala", "US": "America/New_York", "UY": "America/Montevideo",
	"UZ": "Asia/Tashkent",
	"VC": "America/St_Vincent", "VE": "America/Caracas", "VG": "America/Tortola", "VI": "America/St_Thomas",
	"VN": "Asia/Ho_Chi_Minh", "VU": "Pacific/Efate",
	"WS": "Pacific/Apia",
	"XK": "Europe/Belgrade",
	"YE": "Asia/Aden", "YT": "Indian/Mayotte",
	"ZA": "Africa/Johannesburg", "ZM": "Africa/Lusaka", "ZW": "Africa/Harare",
}

// zoneBox is an area of a country, [south, north) × [west, east) in
// degrees, that keeps the clock of zone.
type zoneBox struct {
	south, north, west, east float64
	zone                     string
}

// zoneBoxes are the areas of countries spanning several time zones whose
// zone is not the country's in countryZones; the first box holding a city
// gives its zone. They follow borders loosely (a town near one may get its
// neighbour's zone), which is enough for synthetic data. Argentina and
// Kazakhstan keep one clock nationwide but for the west of Kazakhstan;
// China, one (Asia/Shanghai).
var zoneBoxes = map[string][]zoneBox{
	"US": {
		{-90, 30, -180, -150, "Pacific/Honolulu"},
		{50, 90, -180, -129, "America/Anchorage"},
		{31.3, 37, -114.82, -109.05, "America/Phoenix"},
		{-90, 42, -180, -114.04, "America/Los_Angeles"},
		{42, 90, -180, -116.9, "America/Los_Angeles"},
		{-90, 90, -180, -102, "America/Denver"},
		{-90, 35, -180, -85, "America/Chicago"},
		{35, 36.7, -180, -85.6, "America/Chicago"},
		{36.7, 90, -180, -86.3, "America/Chicago"},
	},
	"CA": {
		{60, 90, -180, -124, "America/Whitehorse"},
		{-90, 90, -180, -120, "America/Vancouver"},
		{-90, 53, -180, -118.5, "America/Vancouver"},
		{-90, 90, -180, -110, "America/Edmonton"},
		{-90, 90, -180, -101.5, "America/Regina"},
		{-90, 90, -180, -90, "America/Winnipeg"},
		{46.5, 90, -59.7, 0, "America/St_Johns"},
		{-90, 48.05, -69.1, -59.7, "America/Halifax"},
		{51.5, 60, -67.5, -59.7, "America/Goose_Bay"},
	},
	"MX": {
		{28, 33, -118, -114.85, "America/Tijuana"},
		{-90, 28, -118, -109.4, "America/Mazatlan"},
		{26.3, 33, -115, -108.4, "America/Hermosillo"},
		{22, 26.3, -109.4, -105.6, "America/Mazatlan"},
		{21, 22, -105.7, -104.2, "America/Mazatlan"},
		{31.3, 32, -107, -106.2, "America/Ciudad_Juarez"},
		{17.8, 20, -89.2, -86, "America/Cancun"},
		{20, 21.7, -87.6, -86, "America/Cancun"},
	},
	"BR": {
		{-11.5, 90, -74, -66.6, "America/Rio_Branco"},
		{-7.5, 6, -74, -56.5, "America/Manaus"},
		{-22.5, -7.5, -66.6, -52.3, "America/Cuiaba"},
		{-24.1, -22.5, -58, -54.3, "America/Campo_Grande"},
		{-4, -3.7, -32.6, -32.3, "America/Noronha"},
	},
	"RU": {
		{-90, 90, 19, 23, "Europe/Kaliningrad"},
		{45.5, 48.6, 45.5, 49.5, "Europe/Astrakhan"},
		{51, 52.6, 42.6, 47.9, "Europe/Saratov"},
		{52, 53.9, 47.9, 52.6, "Europe/Samara"},
		{53.9, 55, 46.5, 50.2, "Europe/Ulyanovsk"},
		{-90, 58.2, 50.5, 54.6, "Europe/Samara"},
		{-90, 90, 23, 54.6, "Europe/Moscow"},
		{58.5, 90, 54.6, 82, "Asia/Yekaterinburg"},
		{-90, 90, 54.6, 67.5, "Asia/Yekaterinburg"},
		{-90, 90, 67.5, 77, "Asia/Omsk"},
		{-90, 90, 77, 89, "Asia/Novosibirsk"},
		{-90, 90, 89, 98, "Asia/Krasnoyarsk"},
		{-90, 90, 98, 112, "Asia/Irkutsk"},
		{42, 51.5, 130.5, 141.5, "Asia/Vladivostok"},
		{-90, 90, 112, 141.5, "Asia/Yakutsk"},
		{-90, 54.5, 141.5, 150, "Asia/Sakhalin"},
		{-90, 90, 141.5, 157, "Asia/Magadan"},
		{-90, 90, 157, 172, "Asia/Kamchatka"},
		{-90, 90, 172, 180.1, "Asia/Anadyr"},
		{-90, 90, -180, -168, "Asia/Anadyr"},
	},
	"AU": {
		{-44, -39.5, 143, 149, "Australia/Hobart"},
		{-31.7, -31.4, 158.9, 159.2, "Australia/Lord_Howe"},
		{-90, 90, 112, 129, "Australia/Perth"},
		{-26, 0, 129, 138, "Australia/Darwin"},
		{-90, -26, 129, 141, "Australia/Adelaide"},
		{-32.5, -31.5, 141, 141.8, "Australia/Broken_Hill"},
		{-29, 0, 138, 154, "Australia/Brisbane"},
		{-39.5, -36.1, 140.9, 148.2, "Australia/Melbourne"},
		{-36.1, -33.9, 140.9, 144, "Australia/Melbourne"},
		{-39.5, -37.1, 148.2, 150, "Australia/Melbourne"},
	},
	"CL": {
		{-90, 90, -115, -100, "Pacific/Easter"},
		{-60, -49, -76, -66, "America/Punta_Arenas"},
	},
	"ID": {
		{-90, 90, 126.5, 142, "Asia/Jayapura"},
		{-90, 90, 114.5, 126.5, "Asia/Makassar"},
	},
	"KZ": {{-90, 90, 46, 58.5, "Asia/Aqtobe"}},
	"ES": {
		{-90, 30, -19, -13, "Atlantic/Canary"},
		{35, 36, -6, -2, "Africa/Ceuta"},
	},
	"PT": {
		{-90, 90, -32, -24, "Atlantic/Azores"},
		{-90, 34, -18, -15, "Atlantic/Madeira"},
	},
	"EC": {{-90, 90, -92, -88, "Pacific/Galapagos"}},
	"CD": {{-90, 90, 20, 32, "Africa/Lubumbashi"}},
	"MN": {{-90, 90, 87, 100, "Asia/Hovd"}},
	"FM": {
		{-90, 90, 162, 164, "Pacific/Kosrae"},
		{-90, 90, 155, 162, "Pacific/Pohnpei"},
	},
	"PG": {{-90, 90, 154, 157, "Pacific/Bougainville"}},
	"MY": {{-90, 90, 109, 120, "Asia/Kuching"}},
	"PS": {{-90, 90, 34, 34.6, "Asia/Gaza"}},
}
