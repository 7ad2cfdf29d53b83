import type { LeafVocabulary } from "./leaf.ts";

export const coffeeMachines: LeafVocabulary = {
  code: "COF",
  nouns: ["Espresso Machine", "Bean-to-Cup Coffee Machine", "Dual Boiler Espresso Machine", "Compact Espresso Maker"],
  features: [
    "a 15-bar pump",
    "a built-in conical grinder",
    "a steam wand for milk foam",
    "a 1.8-litre water tank",
    "a programmable timer",
    "a cup warmer",
    "one-touch cappuccino",
    "automatic descaling reminders",
  ],
  uses: ["busy mornings", "a home office", "weekend brunch", "small offices"],
  praise: [
    "the espresso has a rich crema every time",
    "the milk foam is silky enough for latte art",
    "it's ready to brew in under a minute",
    "the grinder is quieter than I expected",
    "the timer means coffee is waiting when I wake up",
  ],
  complaints: [
    "it started leaking water after two weeks",
    "the grinder jammed within a month",
    "it stopped heating after a week",
    "the coffee tastes burnt whatever the setting",
    "the steam wand broke off",
  ],
  tips: [
    [
      "How do I descale it?",
      "fill the tank with descaler and water, then hold both cup buttons for five seconds to start the descaling programme",
    ],
    ["How do I adjust the grind size?", "turn the grinder dial while it is running, one step finer at a time"],
    [
      "Why is my espresso watery?",
      "use a finer grind and tamp firmly; also check that the water filter is seated properly",
    ],
  ],
  price: [39, 999],
};

export const kettles: LeafVocabulary = {
  code: "KET",
  nouns: ["Electric Kettle", "Glass Kettle", "Temperature Control Kettle", "Gooseneck Kettle", "Travel Kettle"],
  features: [
    "a 1.7-litre capacity",
    "five temperature presets",
    "a keep-warm function",
    "a 3000 W rapid-boil element",
    "a limescale filter",
    "a 360-degree base",
    "a borosilicate glass body",
    "a precision gooseneck spout",
  ],
  uses: ["tea lovers", "pour-over coffee", "family breakfasts", "small kitchens"],
  praise: [
    "it boils a full kettle in about three minutes",
    "the temperature presets are perfect for green tea",
    "the gooseneck gives total control for pour-over",
    "it's whisper quiet",
    "the keep-warm function is brilliant",
  ],
  complaints: [
    "it started leaking from the base",
    "the lid stopped closing properly",
    "it stopped switching off automatically",
    "the water tastes of plastic",
    "it broke after a month",
  ],
  tips: [
    [
      "How do I set the temperature?",
      "press the thermometer button until the light under the temperature you want is on, then press start",
    ],
    ["How do I remove the limescale?", "boil a mix of water and citric acid, leave it for an hour and rinse twice"],
    ["How long does keep-warm last?", "thirty minutes, then it switches off by itself"],
  ],
  price: [19, 129],
};

export const cookware: LeafVocabulary = {
  code: "CKW",
  nouns: ["Non-Stick Frying Pan", "Cast Iron Skillet", "Stainless Steel Frying Pan", "Wok", "Sauté Pan"],
  features: [
    "a PFAS-free ceramic coating",
    "induction compatibility",
    "oven safety up to 260 °C",
    "riveted stay-cool handles",
    "a tri-ply stainless body",
    "a tempered glass lid",
    "pre-seasoned cast iron",
    "dishwasher-safe construction",
  ],
  uses: ["weeknight dinners", "Sunday pancakes", "stir-fries", "searing steaks"],
  praise: [
    "eggs slide right off without any oil",
    "it heats evenly on our induction hob",
    "the handles stay cool while cooking",
    "it goes from hob to oven without fuss",
    "it sears steak like a restaurant kitchen",
  ],
  complaints: [
    "the coating started peeling after a month",
    "it warped on the first use",
    "the handle came loose",
    "rust spots appeared after one wash",
    "food sticks to it no matter what",
  ],
  tips: [
    [
      "How do I season the cast iron?",
      "rub a thin layer of oil on every surface and bake it upside down at 230 °C for an hour",
    ],
    ["Can it go in the dishwasher?", "the stainless pans can; hand-wash the non-stick ones so the coating lasts"],
    ["Does it work on induction?", "yes, the base is magnetic stainless steel"],
  ],
  price: [19, 249],
};

export const lighting: LeafVocabulary = {
  code: "LGT",
  nouns: ["Smart Desk Lamp", "Smart Floor Lamp", "Smart Table Lamp", "Smart Bedside Lamp", "LED Reading Lamp"],
  features: [
    "adjustable colour temperature",
    "16 million colours",
    "app and voice control",
    "a dimmable LED panel",
    "a built-in USB charging port",
    "energy class A",
    "a touch-sensitive base",
    "a wake-up light timer",
  ],
  uses: ["reading corners", "home offices", "bedrooms", "living rooms"],
  praise: [
    "the warm setting makes evenings cosy",
    "setup with the app took two minutes",
    "the light is bright without any glare",
    "the wake-up light makes winter mornings easier",
    "it looks more expensive than it was",
  ],
  complaints: [
    "it flickers constantly",
    "it stopped connecting to Wi-Fi",
    "the LEDs died after a week",
    "the touch controls stopped responding",
    "the colours are nothing like the pictures",
  ],
  tips: [
    [
      "How do I connect it to my voice assistant?",
      "add the skill in your assistant's app and link your account; the lamp appears as a new device",
    ],
    ["How do I reset it?", "switch it off and on five times; it blinks to confirm the reset"],
    ["Can I use a wall dimmer?", "no, dim it with the app or the touch base; wall dimmers make it flicker"],
  ],
  price: [19, 299],
};

export const runningShoes: LeafVocabulary = {
  code: "RUN",
  nouns: ["Road Running Shoes", "Trail Running Shoes", "Racing Flats", "Cushioned Trainers"],
  features: [
    "responsive foam cushioning",
    "a breathable mesh upper",
    "a grippy rubber outsole",
    "an 8 mm heel drop",
    "a carbon-fibre plate",
    "reflective details",
    "a wide toe box",
    "a waterproof membrane",
  ],
  uses: ["marathon training", "muddy trails", "daily 5 km runs", "race day"],
  praise: [
    "they are comfortable straight out of the box",
    "the cushioning saves my knees on long runs",
    "the grip is excellent on wet trails",
    "they're light and fast on race day",
    "no blisters even after 30 km",
  ],
  complaints: [
    "the sole came apart after 100 km",
    "they gave me blisters on the first run",
    "the mesh tore at the toe within a month",
    "they run a full size small",
    "the heel counter broke down quickly",
  ],
  tips: [
    ["How should they fit?", "leave a thumb's width of space at the toe; our sizes follow EU sizing"],
    ["How do I clean them?", "brush off the dirt, hand-wash with mild soap and let them dry away from the heater"],
    [
      "How many kilometres do they last?",
      "typically 600 to 800 km, depending on your weight and the surfaces you run on",
    ],
  ],
  price: [49, 249],
};

export const camping: LeafVocabulary = {
  code: "CMP",
  nouns: ["Two-Person Tent", "Backpacking Tent", "Family Tent", "Ultralight Tent", "Pop-Up Tent"],
  features: [
    "a 3000 mm waterproof flysheet",
    "taped seams",
    "a packed weight under 2 kg",
    "two porches for gear",
    "quick-pitch colour-coded poles",
    "mesh panels against condensation",
    "a compression sack",
    "recycled fabrics",
  ],
  uses: ["weekend camping trips", "festivals", "alpine hikes", "bikepacking"],
  praise: [
    "it stayed bone dry through a night of heavy rain",
    "pitching it takes five minutes",
    "it packs down smaller than a water bottle",
    "there is plenty of room for two and our gear",
    "it stood firm in strong wind on the coast",
  ],
  complaints: [
    "it leaked at the seams in the first rain",
    "a pole snapped on the second trip",
    "the zip broke on the first night",
    "the groundsheet tore on the first pitch",
    "condensation dripped on us all night",
  ],
  tips: [
    [
      "How do I pitch the tent?",
      "clip the inner tent to the crossed poles first, then throw the flysheet over and peg the corners",
    ],
    ["How do I store it?", "dry it completely before packing and keep it loose in a cool place between trips"],
    ["Can I replace a broken pole?", "yes, spare pole sections are in the repair kit, and we post more free of charge"],
  ],
  price: [39, 499],
};

export const cycling: LeafVocabulary = {
  code: "CYC",
  nouns: ["Road Bike Helmet", "Commuter Helmet", "Mountain Bike Helmet", "Kids' Bike Helmet"],
  features: [
    "MIPS protection",
    "an integrated rear LED",
    "a magnetic buckle",
    "16 ventilation channels",
    "a removable visor",
    "a dial-fit system",
    "reflective details",
    "an in-mould polycarbonate shell",
  ],
  uses: ["commuting to work", "road cycling", "mountain biking", "night rides"],
  praise: [
    "it is light and well ventilated on hot climbs",
    "the magnetic buckle works even with gloves on",
    "the rear light makes me feel safer in traffic",
    "the dial fit is snug without pressure points",
    "it looks good, not like a mushroom",
  ],
  complaints: [
    "the buckle broke within a month",
    "the rear light died after a week",
    "the padding came unglued",
    "the dial fit snapped",
    "it rattles on every bump",
  ],
  tips: [
    [
      "How do I adjust the helmet?",
      "turn the dial at the back until it sits snugly and set the straps to form a V under your ears",
    ],
    [
      "How do I charge the rear light?",
      "pull the light off its clip and plug it into any USB-C charger; it is full in two hours",
    ],
    ["When should I replace it?", "after any crash, even if you see no damage, and otherwise every five years"],
  ],
  price: [29, 249],
};

export const fitness: LeafVocabulary = {
  code: "FIT",
  nouns: ["Yoga Mat", "Travel Yoga Mat", "Cork Yoga Mat", "Extra-Thick Exercise Mat"],
  features: [
    "a six-millimetre non-slip surface",
    "natural rubber",
    "a cork top layer",
    "alignment markings",
    "a carrying strap",
    "a closed-cell surface that repels sweat",
    "a foldable design",
    "biodegradable materials",
  ],
  uses: ["home workouts", "yoga classes", "pilates", "physiotherapy exercises"],
  praise: [
    "the grip holds even in hot yoga",
    "it cushions my knees without feeling wobbly",
    "the alignment lines help with every pose",
    "it rolls flat straight away",
    "it's light enough to carry to class",
  ],
  complaints: [
    "the surface started flaking after a month",
    "it is slippery as soon as I sweat",
    "it has a strong rubber smell that won't go away",
    "it tore at the edge within weeks",
    "it keeps curling up at the ends",
  ],
  tips: [
    ["How do I clean it?", "wipe it with water and a drop of mild soap, avoid oils and let it dry flat"],
    [
      "Why is it slippery at first?",
      "new mats have a thin film; wipe it with a damp cloth and it grips after a few sessions",
    ],
    ["How do I stop it curling?", "roll it the other way for a few minutes, top side out, then lay it flat"],
  ],
  price: [15, 129],
};

export const fiction: LeafVocabulary = {
  code: "FIC",
  nouns: ["Paperback", "Hardcover", "Special Edition"],
  titles: {
    first: [
      "The Quiet",
      "The Last",
      "A Winter's",
      "The Silver",
      "The Forgotten",
      "The Salt",
      "Beneath the",
      "The Glass",
      "The Northern",
      "The Long",
    ],
    second: [
      "Harbour",
      "Orchard",
      "Lighthouse",
      "Letters",
      "Garden",
      "River",
      "Summer",
      "Cartographer",
      "Island",
      "House",
    ],
  },
  features: [
    "a gripping plot",
    "unforgettable characters",
    "an atmospheric coastal setting",
    "a twist you won't see coming",
    "a book-club reading guide",
    "an afterword by the author",
  ],
  uses: ["long train rides", "book clubs", "holiday reading", "rainy evenings"],
  praise: [
    "I couldn't put it down",
    "the characters felt like real people",
    "the ending gave me goosebumps",
    "it is beautifully written from the first page",
    "it was perfect holiday reading",
  ],
  complaints: [
    "the pages fell out of the binding",
    "the plot dragged terribly",
    "it arrived with a torn cover",
    "half the pages were printed upside down",
    "it was far too predictable",
  ],
  tips: [
    ["Is there an e-book version?", "yes, the e-book is on the same product page under Formats"],
    ["Is it part of a series?", "it is a standalone novel, although the author's earlier books share the setting"],
    ["Can I get a signed copy?", "signed copies were only sent out for pre-orders; this edition is unsigned"],
  ],
  price: [8, 35],
};

export const cookbooks: LeafVocabulary = {
  code: "CKB",
  nouns: ["Cookbook", "Hardcover Cookbook"],
  titles: {
    first: [
      "Simple",
      "Weeknight",
      "The Nordic",
      "Plant-Based",
      "One-Pot",
      "The Italian",
      "Slow",
      "Fresh",
      "The Baking",
      "Everyday",
    ],
    second: ["Kitchen", "Suppers", "Table", "Feasts", "Bakes", "Bowls", "Classics", "Seasons"],
  },
  features: [
    "over 100 tested recipes",
    "step-by-step photography",
    "vegetarian options in every chapter",
    "seasonal menus",
    "a lay-flat binding",
    "weekly shopping lists",
  ],
  uses: ["weeknight dinners", "dinner parties", "learning to bake", "meal prep"],
  praise: [
    "every recipe I've tried has worked perfectly",
    "the photos make everything look achievable",
    "the lay-flat binding stays open on the counter",
    "my family now asks for the Sunday stew every week",
    "it is full of great vegetarian ideas",
  ],
  complaints: [
    "several recipes have the wrong quantities",
    "the binding broke after a week",
    "the recipes need hard-to-find ingredients",
    "it arrived damaged with bent corners",
    "the print is tiny and hard to read",
  ],
  tips: [
    [
      "Are the measurements metric?",
      "yes, all recipes use grams and millilitres, with cup conversions in the appendix",
    ],
    ["Is there a list of corrections?", "yes, the publisher lists corrections on its website"],
    ["Are the recipes vegetarian?", "about half are, and each chapter marks its vegetarian dishes"],
  ],
  price: [12, 45],
};

export const childrensBooks: LeafVocabulary = {
  code: "KID",
  nouns: ["Picture Book", "Board Book", "Activity Book"],
  titles: {
    first: ["The Very Sleepy", "Little", "The Brave", "Where Is the", "Goodnight,", "The Curious", "Tiny"],
    second: ["Bear", "Dragon", "Fox", "Moon", "Tractor", "Penguin", "Owl"],
  },
  features: [
    "bright illustrations",
    "sturdy board pages",
    "rhyming text",
    "lift-the-flap surprises",
    "a calming bedtime story",
    "reusable stickers",
  ],
  uses: ["bedtime reading", "toddlers", "nursery groups", "first readers"],
  praise: [
    "my daughter asks for it every night",
    "the flaps survive even our toddler",
    "the rhymes are fun to read aloud",
    "the illustrations are gorgeous",
    "it is great for early readers",
  ],
  complaints: [
    "the flaps tore off on day one",
    "the pages are thin and ripped quickly",
    "the story is far too short for the price",
    "it arrived with a bent cover",
    "the stickers don't stick",
  ],
  tips: [
    ["What age is it for?", "it is written for ages 2 to 5"],
    ["Is it available in other languages?", "yes, there are German, French and Swedish editions"],
    ["Can it be gift-wrapped?", "yes, choose gift wrap at checkout"],
  ],
  price: [5, 25],
};

export const buildingSets: LeafVocabulary = {
  code: "BLD",
  nouns: ["Building Blocks Set", "Construction Set", "Brick Starter Set", "Creative Bricks Box"],
  features: [
    "250 pieces",
    "compatibility with the major brick brands",
    "step-by-step instructions",
    "a storage tub",
    "BPA-free plastic",
    "a large baseplate",
    "a motorised gear set",
    "glow-in-the-dark pieces",
  ],
  uses: ["rainy afternoons", "creative play", "STEM learning", "family building sessions"],
  praise: [
    "my kids built with it for hours",
    "the instructions are clear enough for a seven-year-old",
    "the pieces click together firmly",
    "the colours are bright and cheerful",
    "it is great value for the number of pieces",
  ],
  complaints: [
    "pieces were missing from the box",
    "the plastic feels cheap and cracks",
    "the motor stopped working after a week",
    "the baseplate warped",
    "the instructions were unreadable",
  ],
  tips: [
    ["Are the bricks compatible with other brands?", "yes, they fit the standard 8 mm stud system"],
    ["What age is it suitable for?", "ages 5 and up, because of the small parts"],
    [
      "How do I get replacement pieces?",
      "send us the set number and the missing part numbers and we post them free of charge",
    ],
  ],
  price: [15, 149],
};

export const boardGames: LeafVocabulary = {
  code: "BGM",
  nouns: ["Board Game", "Card Game", "Strategy Game", "Party Game", "Family Game"],
  features: [
    "2 to 6 players",
    "45-minute games",
    "wooden playing pieces",
    "rules you learn in five minutes",
    "cooperative play",
    "an expansion-ready box",
    "beautiful artwork",
    "a solo mode",
  ],
  uses: ["game nights", "family evenings", "parties", "evenings for two"],
  praise: [
    "we've played it every weekend since it arrived",
    "the rules take five minutes to learn",
    "the wooden pieces feel premium",
    "every game plays out differently",
    "even my teenagers love it",
  ],
  complaints: [
    "pieces were missing from the box",
    "the rules are confusing and badly translated",
    "the box arrived crushed",
    "it gets repetitive after a few games",
    "the cards started peeling",
  ],
  tips: [
    ["How many players can play?", "2 to 6; the rulebook has a variant for two players"],
    ["Is there a rules video?", "yes, scan the QR code on the back of the rulebook"],
    ["Where can I buy the expansion?", "the expansion is listed in the same category"],
  ],
  price: [12, 89],
};

export const puzzles: LeafVocabulary = {
  code: "PZL",
  nouns: ["Jigsaw Puzzle", "Panorama Jigsaw Puzzle", "Landscape Jigsaw Puzzle", "Art Jigsaw Puzzle"],
  features: [
    "1000 pieces",
    "a poster of the finished image",
    "thick recycled cardboard",
    "uniquely shaped pieces",
    "a linen finish",
    "a resealable bag",
  ],
  uses: ["quiet evenings", "family holidays", "gifts", "rainy weekends"],
  praise: [
    "the pieces fit snugly with no gaps",
    "the image is beautiful when finished",
    "the pieces are thick and don't bend",
    "it is a relaxing challenge",
    "the poster helps a lot",
  ],
  complaints: [
    "two pieces were missing",
    "the pieces don't lock together",
    "the print is blurry",
    "the box arrived crushed",
    "the pieces are thin and peel apart",
  ],
  tips: [
    ["What if a piece is missing?", "send us a photo of the finished puzzle and we send the missing piece"],
    ["How big is it when finished?", "70 by 50 cm for the 1000-piece puzzles"],
    ["Can I glue it?", "yes, any puzzle glue works on the linen finish"],
  ],
  price: [9, 49],
};

export const skinCare: LeafVocabulary = {
  code: "SKN",
  nouns: ["Moisturiser", "Vitamin C Serum", "Gentle Cleanser", "SPF 50 Sunscreen", "Night Cream"],
  features: [
    "hyaluronic acid",
    "a fragrance-free formula",
    "dermatologist testing",
    "vegan ingredients",
    "SPF 50 protection",
    "niacinamide",
    "recyclable packaging",
    "non-comedogenic ingredients",
  ],
  uses: ["sensitive skin", "daily routines", "sunny holidays", "dry winter skin"],
  praise: [
    "my skin feels soft and calm",
    "it absorbs quickly without any greasiness",
    "no breakouts even on my sensitive skin",
    "a little goes a long way",
    "my dark spots faded within a month",
  ],
  complaints: [
    "it gave me a rash",
    "it broke me out within days",
    "the pump stopped working",
    "the bottle arrived leaking",
    "it smells strongly despite being fragrance-free",
  ],
  tips: [
    ["Can I use it with retinol?", "yes, use the serum in the morning and retinol in the evening"],
    ["Is it safe during pregnancy?", "it contains no retinoids, but please check with your doctor"],
    ["How long does a bottle last?", "about two months with daily use"],
  ],
  price: [7, 89],
};

export const hairCare: LeafVocabulary = {
  code: "HAR",
  nouns: ["Hair Dryer", "Ionic Hair Dryer", "Travel Hair Dryer", "Professional Hair Dryer"],
  features: [
    "ionic technology",
    "a 2200 W motor",
    "three heat settings",
    "a cool-shot button",
    "a concentrator nozzle",
    "a foldable handle",
    "a diffuser attachment",
    "a removable filter",
  ],
  uses: ["curly hair", "quick morning routines", "travel", "salon-style blow-dries"],
  praise: [
    "my hair dries in half the time",
    "there is no frizz at all",
    "the diffuser gives my curls real definition",
    "it's light and easy to handle",
    "it is much quieter than my old one",
  ],
  complaints: [
    "it overheated and shut off after five minutes",
    "the nozzle keeps falling off",
    "it stopped working after a week",
    "it smells of burning plastic",
    "the cord frayed quickly",
  ],
  tips: [
    [
      "Which heat setting should I use?",
      "start on the middle setting for fine hair and use high heat only for thick hair",
    ],
    ["Can I take it abroad?", "yes, it works on 110 to 240 V with a plug adapter"],
    ["How do I clean the filter?", "twist off the back cover and rinse the filter under the tap once a month"],
  ],
  price: [19, 399],
};

export const oralCare: LeafVocabulary = {
  code: "ORL",
  nouns: ["Electric Toothbrush", "Sonic Toothbrush", "Kids' Electric Toothbrush", "Travel Electric Toothbrush"],
  features: [
    "a two-minute timer",
    "a pressure sensor",
    "five cleaning modes",
    "a three-week battery",
    "a charging travel case",
    "extra-soft bristles",
    "a USB-C charger",
    "an app that tracks brushing",
  ],
  uses: ["sensitive gums", "braces", "travel", "family bathrooms"],
  praise: [
    "my teeth feel dentist-clean every day",
    "the pressure sensor stopped me brushing too hard",
    "the battery lasts for weeks",
    "my gums stopped bleeding",
    "the travel case is handy",
  ],
  complaints: [
    "it stopped holding a charge after a month",
    "the brush head wobbles",
    "water got inside the handle",
    "it stopped working after a week",
    "the timer doesn't work",
  ],
  tips: [
    ["How often should I replace the brush head?", "every three months, or when the blue indicator bristles fade"],
    ["How do I change the mode?", "press the mode button below the power button before you switch it on"],
    ["Can I use it with braces?", "yes, use the sensitive mode and the orthodontic brush head"],
  ],
  price: [19, 229],
};

export const powerTools: LeafVocabulary = {
  code: "PWR",
  nouns: ["Cordless Drill", "Combi Drill", "Impact Driver", "Hammer Drill", "Compact Drill Driver"],
  features: [
    "an 18 V brushless motor",
    "two 2.0 Ah batteries",
    "a keyless chuck",
    "an LED work light",
    "variable speed",
    "a hammer mode for masonry",
    "a carry case",
    "a 21-position clutch",
  ],
  uses: ["DIY projects", "furniture assembly", "renovations", "garden decking"],
  praise: [
    "it drives long screws into oak effortlessly",
    "the batteries last all day",
    "the LED light is really useful inside cupboards",
    "it's light but powerful",
    "the case keeps everything organised",
  ],
  complaints: [
    "the battery stopped charging after a month",
    "the chuck slips under load",
    "it smelled of burning and stopped working",
    "the charger died after a week",
    "the belt clip broke off",
  ],
  tips: [
    [
      "How do I charge the battery?",
      "slide it onto the charger; the light turns solid green when it is full, after about an hour",
    ],
    ["Which drill bits fit?", "any bit with a shank up to 13 mm"],
    ["What does the clutch do?", "it stops screws from being driven too deep; start low and turn it up as needed"],
  ],
  price: [29, 399],
};

export const gardenFurniture: LeafVocabulary = {
  code: "GFN",
  nouns: ["Garden Lounge Set", "Outdoor Dining Set", "Bistro Set", "Garden Bench", "Rattan Corner Sofa"],
  features: [
    "weather-resistant rattan",
    "FSC-certified acacia wood",
    "UV-resistant cushions",
    "rust-proof aluminium frames",
    "removable cushion covers",
    "stackable chairs",
    "a tempered glass table top",
    "adjustable feet",
  ],
  uses: ["summer evenings", "balconies", "garden parties", "small patios"],
  praise: [
    "it survived a whole winter outside",
    "assembly took less than an hour",
    "the cushions are thick and comfortable",
    "it looks lovely on our balcony",
    "it is sturdy and well made",
  ],
  complaints: [
    "the wood cracked after one summer",
    "screws were missing from the box",
    "the cushions faded within weeks",
    "a leg broke on the first day",
    "rust appeared after the first rain",
  ],
  tips: [
    ["How do I protect the wood?", "oil it twice a year with teak or acacia oil and cover it over winter"],
    ["Can the cushion covers be washed?", "yes, the covers zip off and wash at 30 °C"],
    ["How long does assembly take?", "about an hour with two people; the tools are in the box"],
  ],
  price: [89, 1299],
};

export const plantCare: LeafVocabulary = {
  code: "PLT",
  nouns: ["Self-Watering Planter", "Herb Garden Planter", "Balcony Planter Box", "Hanging Planter"],
  features: [
    "a water-level indicator",
    "a two-litre reservoir",
    "a wicking system",
    "UV-stable recycled plastic",
    "drainage plugs",
    "railing hooks",
    "a built-in trellis",
    "frost-proof walls",
  ],
  uses: ["house plants", "herb gardens", "balcony tomatoes", "winter seedlings"],
  praise: [
    "my herbs have never grown so well",
    "I only water once every two weeks now",
    "the indicator takes all the guesswork out",
    "it looks great on the windowsill",
    "the railing hooks fit our balcony perfectly",
  ],
  complaints: [
    "the planter leaked all over the floor",
    "the indicator float got stuck",
    "it cracked in the first frost",
    "it arrived broken",
    "the colour faded in the sun within weeks",
  ],
  tips: [
    [
      "How often should I refill the reservoir?",
      "when the indicator drops to the red line, usually every 2 to 3 weeks",
    ],
    ["Which soil should I use?", "any potting soil with a handful of perlite so the wick stays moist but not wet"],
    ["Should I water from the top at first?", "yes, for the first two weeks, until the roots reach the wick"],
  ],
  price: [9, 149],
};
