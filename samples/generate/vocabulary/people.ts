import { digits, pick, type Random } from "../random.ts";

/** A country the shop sells to: names, places and number formats its people and companies get. */
export interface Country {
  code: string;
  name: string;
  currency: string;
  tld: string;
  legalForm: string;
  firstNames: readonly string[];
  lastNames: readonly string[];
  cities: readonly string[];
  emailDomains: readonly string[];
  /** Phone number shapes, national and international, `#` a random digit (the same digits in both). */
  phones: readonly (readonly [national: string, international: string])[];
}

export const countries: readonly Country[] = [
  {
    code: "DE",
    name: "Germany",
    currency: "EUR",
    tld: "de",
    legalForm: "GmbH",
    firstNames: [
      "Anna",
      "Lukas",
      "Lena",
      "Jonas",
      "Marie",
      "Felix",
      "Sophie",
      "Paul",
      "Hannah",
      "Maximilian",
      "Laura",
      "Leon",
      "Julia",
      "Tim",
    ],
    lastNames: [
      "Müller",
      "Schmidt",
      "Schneider",
      "Fischer",
      "Weber",
      "Meyer",
      "Wagner",
      "Becker",
      "Hoffmann",
      "Schulz",
      "Koch",
      "Richter",
      "Klein",
      "Wolf",
    ],
    cities: ["Berlin", "Hamburg", "Munich", "Cologne", "Frankfurt", "Stuttgart", "Leipzig"],
    emailDomains: ["web.de", "gmx.de", "t-online.de"],
    phones: [
      ["030 #######", "+49 30 #######"],
      ["040 #######", "+49 40 #######"],
      ["089 #######", "+49 89 #######"],
      ["0221 #######", "+49 221 #######"],
      ["069 #######", "+49 69 #######"],
      ["0151 ########", "+49 151 ########"],
    ],
  },
  {
    code: "GB",
    name: "United Kingdom",
    currency: "GBP",
    tld: "co.uk",
    legalForm: "Ltd",
    firstNames: [
      "Oliver",
      "Amelia",
      "George",
      "Isla",
      "Harry",
      "Olivia",
      "Jack",
      "Emily",
      "Charlie",
      "Poppy",
      "Thomas",
      "Grace",
    ],
    lastNames: [
      "Smith",
      "Jones",
      "Taylor",
      "Brown",
      "Williams",
      "Wilson",
      "Evans",
      "Thomas",
      "Roberts",
      "Walker",
      "Wright",
      "Hughes",
    ],
    cities: ["London", "Manchester", "Bristol", "Leeds", "Edinburgh", "Glasgow"],
    emailDomains: ["btinternet.com", "hotmail.co.uk", "sky.com"],
    phones: [
      ["020 7### ####", "+44 20 7### ####"],
      ["020 8### ####", "+44 20 8### ####"],
      ["0161 4## ####", "+44 161 4## ####"],
      ["0117 9## ####", "+44 117 9## ####"],
      ["0131 2## ####", "+44 131 2## ####"],
      ["07911 2#####", "+44 7911 2#####"],
    ],
  },
  {
    code: "FR",
    name: "France",
    currency: "EUR",
    tld: "fr",
    legalForm: "SAS",
    firstNames: ["Camille", "Louis", "Léa", "Gabriel", "Chloé", "Hugo", "Manon", "Arthur", "Inès", "Jules"],
    lastNames: ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"],
    cities: ["Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Bordeaux"],
    emailDomains: ["orange.fr", "free.fr", "laposte.net"],
    phones: [
      ["01 4# ## ## ##", "+33 1 4# ## ## ##"],
      ["04 7# ## ## ##", "+33 4 7# ## ## ##"],
      ["05 5# ## ## ##", "+33 5 5# ## ## ##"],
      ["06 1# ## ## ##", "+33 6 1# ## ## ##"],
      ["07 8# ## ## ##", "+33 7 8# ## ## ##"],
    ],
  },
  {
    code: "NL",
    name: "Netherlands",
    currency: "EUR",
    tld: "nl",
    legalForm: "B.V.",
    firstNames: ["Daan", "Emma", "Sem", "Julia", "Lucas", "Sophie", "Finn", "Tess", "Milan", "Anna"],
    lastNames: [
      "de Jong",
      "Jansen",
      "de Vries",
      "van den Berg",
      "van Dijk",
      "Bakker",
      "Visser",
      "Smit",
      "Meijer",
      "de Boer",
    ],
    cities: ["Amsterdam", "Rotterdam", "Utrecht", "The Hague", "Eindhoven"],
    emailDomains: ["ziggo.nl", "kpnmail.nl", "hetnet.nl"],
    phones: [["020 ### ####", "+31 20 ### ####"], ["010 ### ####", "+31 10 ### ####"], [
      "030 ### ####",
      "+31 30 ### ####",
    ], ["06 1#######", "+31 6 1#######"]],
  },
  {
    code: "SE",
    name: "Sweden",
    currency: "SEK",
    tld: "se",
    legalForm: "AB",
    firstNames: ["Alice", "William", "Maja", "Elias", "Elsa", "Hugo", "Astrid", "Oscar", "Ebba", "Nils"],
    lastNames: [
      "Andersson",
      "Johansson",
      "Karlsson",
      "Nilsson",
      "Eriksson",
      "Larsson",
      "Olsson",
      "Persson",
      "Berg",
      "Lindqvist",
    ],
    cities: ["Stockholm", "Gothenburg", "Malmö", "Uppsala", "Västerås"],
    emailDomains: ["telia.com", "bredband.net", "spray.se"],
    phones: [["08-### ## ##", "+46 8 ### ## ##"], ["031-### ## ##", "+46 31 ### ## ##"], [
      "040-### ## ##",
      "+46 40 ### ## ##",
    ], ["070-### ## ##", "+46 70 ### ## ##"]],
  },
  {
    code: "US",
    name: "United States",
    currency: "USD",
    tld: "com",
    legalForm: "Inc.",
    firstNames: ["James", "Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Mia", "Mason", "Harper", "Logan", "Ella"],
    lastNames: [
      "Johnson",
      "Miller",
      "Davis",
      "Garcia",
      "Rodriguez",
      "Martinez",
      "Anderson",
      "Clark",
      "Lewis",
      "Young",
      "Allen",
      "King",
    ],
    cities: ["New York", "Chicago", "Austin", "Seattle", "Boston", "Denver"],
    emailDomains: ["yahoo.com", "aol.com", "comcast.net"],
    phones: [
      ["(212) 555-01##", "+1 212-555-01##"],
      ["(312) 555-01##", "+1 312-555-01##"],
      ["(512) 555-01##", "+1 512-555-01##"],
      ["(206) 555-01##", "+1 206-555-01##"],
      ["(617) 555-01##", "+1 617-555-01##"],
    ],
  },
  {
    code: "ES",
    name: "Spain",
    currency: "EUR",
    tld: "es",
    legalForm: "S.L.",
    firstNames: ["Lucía", "Hugo", "Martina", "Mateo", "Paula", "Daniel", "Sofía", "Pablo", "Carmen", "Javier"],
    lastNames: [
      "García",
      "Fernández",
      "González",
      "Rodríguez",
      "López",
      "Martínez",
      "Sánchez",
      "Pérez",
      "Gómez",
      "Ruiz",
    ],
    cities: ["Madrid", "Barcelona", "Valencia", "Seville", "Bilbao"],
    emailDomains: ["telefonica.net", "movistar.es"],
    phones: [
      ["61# ### ###", "+34 61# ### ###"],
      ["65# ### ###", "+34 65# ### ###"],
      ["91# ### ###", "+34 91# ### ###"],
      ["93# ### ###", "+34 93# ### ###"],
    ],
  },
  {
    code: "IT",
    name: "Italy",
    currency: "EUR",
    tld: "it",
    legalForm: "S.r.l.",
    firstNames: [
      "Giulia",
      "Leonardo",
      "Sofia",
      "Francesco",
      "Aurora",
      "Alessandro",
      "Chiara",
      "Lorenzo",
      "Giorgia",
      "Matteo",
    ],
    lastNames: ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco"],
    cities: ["Milan", "Rome", "Turin", "Bologna", "Florence", "Naples"],
    emailDomains: ["libero.it", "tiscali.it", "alice.it"],
    phones: [["02 #### ####", "+39 02 #### ####"], ["06 #### ####", "+39 06 #### ####"], [
      "011 ### ####",
      "+39 011 ### ####",
    ], ["347 ### ####", "+39 347 ### ####"]],
  },
  {
    code: "AT",
    name: "Austria",
    currency: "EUR",
    tld: "at",
    legalForm: "GmbH",
    firstNames: ["Lena", "Tobias", "Sarah", "David", "Katharina", "Florian", "Lisa", "Stefan"],
    lastNames: ["Gruber", "Huber", "Bauer", "Wagner", "Pichler", "Steiner", "Moser", "Mayer"],
    cities: ["Vienna", "Graz", "Linz", "Salzburg", "Innsbruck"],
    emailDomains: ["aon.at", "chello.at"],
    phones: [["01 5## ## ##", "+43 1 5## ## ##"], ["0316 8## ###", "+43 316 8## ###"], [
      "0660 ### ####",
      "+43 660 ### ####",
    ]],
  },
  {
    code: "DK",
    name: "Denmark",
    currency: "DKK",
    tld: "dk",
    legalForm: "ApS",
    firstNames: ["Freja", "Magnus", "Ida", "Oliver", "Clara", "Emil", "Karla", "Noah"],
    lastNames: ["Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen"],
    cities: ["Copenhagen", "Aarhus", "Odense", "Aalborg"],
    emailDomains: ["mail.dk", "jubii.dk"],
    phones: [
      ["33 1# ## ##", "+45 33 1# ## ##"],
      ["35 3# ## ##", "+45 35 3# ## ##"],
      ["20 2# ## ##", "+45 20 2# ## ##"],
      ["86 1# ## ##", "+45 86 1# ## ##"],
    ],
  },
  {
    code: "PL",
    name: "Poland",
    currency: "PLN",
    tld: "pl",
    legalForm: "Sp. z o.o.",
    firstNames: ["Zuzanna", "Jakub", "Julia", "Antoni", "Maja", "Jan", "Zofia", "Szymon"],
    lastNames: ["Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński"],
    cities: ["Warsaw", "Kraków", "Wrocław", "Gdańsk", "Poznań"],
    emailDomains: ["wp.pl", "onet.pl", "interia.pl"],
    phones: [["22 ### ## ##", "+48 22 ### ## ##"], ["12 ### ## ##", "+48 12 ### ## ##"], [
      "50# ### ###",
      "+48 50# ### ###",
    ], ["60# ### ###", "+48 60# ### ###"]],
  },
  {
    code: "CH",
    name: "Switzerland",
    currency: "CHF",
    tld: "ch",
    legalForm: "AG",
    firstNames: ["Noah", "Mia", "Luca", "Emma", "Leon", "Lina", "Nico", "Elena"],
    lastNames: ["Müller", "Meier", "Schmid", "Keller", "Weber", "Huber", "Schneider", "Brunner"],
    cities: ["Zurich", "Geneva", "Basel", "Bern", "Lausanne"],
    emailDomains: ["bluewin.ch", "sunrise.ch"],
    phones: [["044 ### ## ##", "+41 44 ### ## ##"], ["022 ### ## ##", "+41 22 ### ## ##"], [
      "061 ### ## ##",
      "+41 61 ### ## ##",
    ], ["079 ### ## ##", "+41 79 ### ## ##"]],
  },
];

/** Where customers live: a shop in Germany selling across Europe, with some US buyers. */
export const countryWeights: readonly (readonly [Country, number])[] = countries.map((country) => [
  country,
  ({ DE: 25, GB: 12, FR: 10, NL: 8, SE: 8, US: 10, ES: 6, IT: 6, AT: 4, DK: 3, PL: 4, CH: 4 } as Record<
    string,
    number
  >)[country.code] ?? 1,
]);

/** Mailbox providers used everywhere. */
export const globalEmailDomains = [
  "gmail.com",
  "outlook.com",
  "icloud.com",
  "proton.me",
  "yahoo.com",
  "hotmail.com",
] as const;

/** Euro prices converted to each currency (fixed rates: the data must not depend on the day it is generated). */
export const eurRates: Readonly<Record<string, number>> = {
  EUR: 1,
  GBP: 0.85,
  SEK: 11.2,
  DKK: 7.46,
  PLN: 4.3,
  CHF: 0.94,
  USD: 1.08,
};

/** Currencies no shop or CRM uses: the `unknown_currency` bad value (three characters, so they fit `char(3)`). */
export const unknownCurrencies = ["XEU", "US$", "EUD", "ABC"] as const;

/** A phone number as people type it: national or international format. */
export function phoneNumber(random: Random, country: Country): string {
  const [national, international] = pick(random, country.phones);
  const pattern = random() < 0.5 ? national : international;
  const filled = digits(random, pattern.split("#").length - 1);
  let at = 0;
  return pattern.replace(/#/g, () => filled.charAt(at++));
}

/** `Wiśniewski` → `wisniewski`, `de Jong` → `dejong`: what an email address makes of a name. */
export function emailPart(name: string): string {
  return name
    .toLowerCase()
    .replace(/ß/g, "ss").replace(/æ/g, "ae").replace(/ø/g, "o").replace(/ł/g, "l")
    .normalize("NFD").replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]/g, "");
}

/** How a person's email looks when typed into another system: other case, stray whitespace around it. */
export function retypedEmail(random: Random, email: string): string {
  const cased = pick(random, [
    (e: string) => e.replace(/(^|[.@_])([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase()),
    (e: string) => e.toUpperCase(),
    (e: string) => e.charAt(0).toUpperCase() + e.slice(1),
    (e: string) => e,
  ])(email);
  return pick(random, ["  ", " ", "", "\t"]) + cased + pick(random, [" ", "  ", "", " \t"]);
}

/** Addresses any validator rejects: no `@`, nothing after it, a space inside, a doubled `@`. */
export function invalidEmail(random: Random, email: string): string {
  return pick(random, [
    (e: string) => e.replace("@", ""),
    (e: string) => e.slice(0, e.indexOf("@") + 1),
    (e: string) => e.replace(/[.@]/, " "),
    (e: string) => e.replace("@", "@@"),
  ])(email);
}

/** The shop's own staff: sales reps and support agents, from every market. */
export const staffFirstNames = [
  "Anna",
  "Jonas",
  "Emma",
  "Oliver",
  "Sofia",
  "Lukas",
  "Ida",
  "Mateo",
  "Chloé",
  "Liam",
  "Freja",
  "Hugo",
  "Maja",
  "Daniel",
  "Grace",
  "Felix",
  "Elsa",
  "Noah",
  "Giulia",
  "Jan",
] as const;
export const staffLastNames = [
  "Lindberg",
  "Hartmann",
  "Okafor",
  "Novak",
  "Fontaine",
  "Brennan",
  "Castillo",
  "Vogel",
  "Haugen",
  "Rinaldi",
  "Kowalczyk",
  "Sato",
  "Meyer",
  "Dubois",
  "Kaya",
  "Andersen",
  "Walsh",
  "Moreau",
  "Keller",
  "Svensson",
  "Costa",
  "Bakker",
  "Ferreira",
] as const;
