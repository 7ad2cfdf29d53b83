import type { LeafVocabulary } from "./leaf.ts";

export const headphones: LeafVocabulary = {
  code: "HPH",
  nouns: [
    "Wireless Headphones",
    "Over-Ear Headphones",
    "Noise-Cancelling Headphones",
    "True Wireless Earbuds",
    "Sport Earbuds",
  ],
  features: [
    "active noise cancelling",
    "a 40-hour battery",
    "multipoint Bluetooth 5.3",
    "memory-foam ear cushions",
    "a transparency mode",
    "USB-C fast charging",
    "a foldable travel design",
    "an IPX4 sweat-resistant finish",
  ],
  uses: [
    "long-haul flights",
    "the daily commute",
    "open-plan offices",
    "late-night gaming sessions",
    "workouts at the gym",
  ],
  praise: [
    "the noise cancelling silences the train completely",
    "battery life easily lasts a whole week of commuting",
    "they stay comfortable even after hours of wear",
    "the sound is clear with punchy bass",
    "pairing with my phone and laptop at the same time just works",
  ],
  complaints: [
    "one side went silent after a week",
    "the battery died after a week",
    "the plastic housing cracked after a month",
    "the Bluetooth connection keeps dropping",
    "the noise cancelling makes a constant hissing sound",
  ],
  tips: [
    [
      "How do I pair them with a second device?",
      "hold the power button for five seconds until the LED flashes blue, then pick them in your device's Bluetooth list",
    ],
    [
      "How do I turn on transparency mode?",
      "double-tap the right ear cup (or the right earbud) to switch between noise cancelling and transparency",
    ],
    ["Can I use them while they charge?", "yes, they keep playing over Bluetooth while the USB-C cable is connected"],
  ],
  price: [29, 349],
};

export const speakers: LeafVocabulary = {
  code: "SPK",
  nouns: ["Portable Speaker", "Bluetooth Speaker", "Waterproof Speaker", "Party Speaker", "Mini Speaker"],
  features: [
    "360-degree sound",
    "deep bass radiators",
    "a waterproof IP67 housing",
    "a 20-hour battery",
    "stereo pairing",
    "a built-in voice assistant",
    "Wi-Fi multiroom streaming",
    "a rugged carabiner strap",
  ],
  uses: ["beach days", "the living room", "camping trips", "backyard barbecues", "the kitchen"],
  praise: [
    "the bass is surprisingly deep for its size",
    "it survived a drop into the pool without a scratch",
    "stereo pairing two of them fills the whole garden",
    "the battery outlasted our entire weekend trip",
    "voice control works even with the music playing loud",
  ],
  complaints: [
    "it distorts badly at high volume",
    "it stopped charging after two weeks",
    "the Wi-Fi keeps disconnecting",
    "the buttons stopped responding",
    "the strap broke on the first trip",
  ],
  tips: [
    [
      "How do I pair two speakers for stereo?",
      "press the link button on both speakers within ten seconds; the second one chimes when it joins",
    ],
    ["How do I reset it?", "hold volume down and power together for ten seconds until it restarts"],
    ["Can it charge my phone?", "yes, the USB-A port on the back works as a power bank"],
  ],
  price: [25, 499],
};

export const cameras: LeafVocabulary = {
  code: "CAM",
  nouns: ["Mirrorless Camera", "Compact Camera", "Vlogging Camera", "Travel Zoom Camera"],
  features: [
    "a 24-megapixel sensor",
    "4K video at 60 fps",
    "in-body image stabilisation",
    "a flip-out touchscreen",
    "weather sealing",
    "fast hybrid autofocus",
    "dual card slots",
    "a microphone input",
  ],
  uses: ["travel photography", "family holidays", "vlogging", "weddings", "street photography"],
  praise: [
    "the autofocus locks onto eyes instantly",
    "the stabilisation makes handheld video look smooth",
    "photos are sharp even in dim restaurants",
    "the flip screen is perfect for vlogging",
    "it is light enough to carry all day",
  ],
  complaints: [
    "it overheats after ten minutes of 4K recording",
    "the lens cover jammed after a week",
    "the battery drains in an hour",
    "the touchscreen stopped responding",
    "it arrived with a dead pixel on the sensor",
  ],
  tips: [
    [
      "How do I transfer photos to my phone?",
      "enable Wi-Fi in the camera menu and open the companion app; it finds the camera automatically",
    ],
    ["How do I record in 4K?", "open the video menu, choose 4K and set the frame rate to 30 or 60 fps"],
    ["Which memory card should I use?", "a UHS-I U3 or faster SD card, at least 64 GB for 4K video"],
  ],
  price: [89, 1899],
};

export const smartphones: LeafVocabulary = {
  code: "PHN",
  nouns: ["Smartphone", "5G Smartphone", "Rugged Phone", "Foldable Phone"],
  features: [
    "a 6.5-inch OLED display",
    "a triple-lens camera",
    "5G connectivity",
    "a 5000 mAh battery",
    "wireless charging",
    "an IP68 water-resistant body",
    "128 GB of storage",
    "five years of security updates",
  ],
  uses: ["everyday use", "travel", "outdoor work", "mobile photography"],
  praise: [
    "the display is bright even in direct sunlight",
    "the battery easily lasts two days",
    "the night mode photos are stunning",
    "it feels fast and never stutters",
    "it survived a drop on concrete without a crack",
  ],
  complaints: [
    "the screen cracked on the first drop",
    "it stopped charging after a week",
    "the battery died after a week",
    "it restarts randomly several times a day",
    "the camera app freezes constantly",
  ],
  tips: [
    [
      "How do I move my data from my old phone?",
      "use the transfer option in the setup assistant and connect both phones with a USB-C cable or over Wi-Fi",
    ],
    [
      "How do I use wireless charging?",
      "it is always on; place the phone centred on a Qi charger and remove cases thicker than 5 mm",
    ],
    ["How do I add a second SIM?", "scan the eSIM QR code under Settings > Network > SIM cards"],
  ],
  price: [149, 1299],
};

export const wearables: LeafVocabulary = {
  code: "WEA",
  nouns: ["Smartwatch", "Fitness Tracker", "GPS Running Watch", "Hybrid Smartwatch"],
  features: [
    "24/7 heart-rate monitoring",
    "built-in GPS",
    "sleep tracking",
    "a 10-day battery",
    "an always-on AMOLED display",
    "5 ATM water resistance",
    "contactless payments",
    "blood-oxygen measurement",
  ],
  uses: ["marathon training", "tracking sleep", "daily step goals", "open-water swimming", "hiking"],
  praise: [
    "the GPS tracks my runs accurately even in the city",
    "the battery lasts well over a week",
    "sleep tracking has actually changed my habits",
    "notifications are clear and easy to read",
    "it is so light I forget I am wearing it",
  ],
  complaints: [
    "the strap snapped after a month",
    "the heart-rate readings are wildly off",
    "it stopped syncing with my phone",
    "the screen scratched on day one",
    "the battery died after a week",
  ],
  tips: [
    [
      "How do I sync it with my phone?",
      "install the companion app, enable Bluetooth and follow the pairing steps; keep the watch on its charger during the first sync",
    ],
    ["How do I change the watch face?", "long-press the current watch face and swipe to choose another"],
    ["Can I swim with it?", "yes, it is rated 5 ATM; lock the screen with the water-drop icon before you swim"],
  ],
  price: [39, 599],
};

export const laptops: LeafVocabulary = {
  code: "LAP",
  nouns: ["Ultrabook", "Laptop", "Gaming Laptop", "2-in-1 Convertible", "Chromebook"],
  features: [
    "a 14-inch 2.8K display",
    "16 GB of RAM",
    "a 1 TB SSD",
    "an all-day battery",
    "a backlit keyboard",
    "Thunderbolt 4 ports",
    "a fingerprint reader",
    "a dedicated graphics card",
  ],
  uses: ["remote work", "university lectures", "video editing", "gaming", "business travel"],
  praise: [
    "it boots in seconds and stays cool",
    "the keyboard is a joy to type on",
    "the battery gets me through a full working day",
    "the screen is sharp and colour-accurate",
    "it is light enough to carry everywhere",
  ],
  complaints: [
    "the fan is loud even when idle",
    "the hinge cracked after two months",
    "it stopped turning on after a week",
    "the trackpad clicks randomly",
    "the battery barely lasts three hours",
  ],
  tips: [
    [
      "How do I set up the fingerprint reader?",
      "go to Settings > Accounts > Sign-in options and follow the fingerprint setup",
    ],
    [
      "How do I connect two external monitors?",
      "use the Thunderbolt ports with a USB-C dock or two USB-C to HDMI cables",
    ],
    ["How do I update the BIOS?", "install the vendor's update utility and run it while the laptop is plugged in"],
  ],
  price: [299, 2499],
};

export const monitors: LeafVocabulary = {
  code: "MON",
  nouns: ["4K Monitor", "Gaming Monitor", "Ultrawide Monitor", "Portable Monitor", "Office Monitor"],
  features: [
    "a 27-inch IPS panel",
    "a 144 Hz refresh rate",
    "USB-C with 90 W power delivery",
    "a height-adjustable stand",
    "HDR 400",
    "a built-in KVM switch",
    "factory colour calibration",
    "flicker-free backlighting",
  ],
  uses: ["home offices", "photo editing", "competitive gaming", "coding", "spreadsheets"],
  praise: [
    "colours are accurate straight out of the box",
    "one USB-C cable charges my laptop and carries the picture",
    "the 144 Hz refresh makes games buttery smooth",
    "the stand adjusts to exactly the right height",
    "text is razor sharp at 4K",
  ],
  complaints: [
    "it arrived with a dead pixel",
    "the panel has terrible backlight bleed",
    "it flickers when connected over USB-C",
    "the stand wobbles at every keystroke",
    "it stopped turning on after a month",
  ],
  tips: [
    ["How do I get 144 Hz?", "use the DisplayPort cable and set the refresh rate in your graphics settings"],
    [
      "How do I use the KVM switch?",
      "connect both computers, then press the input button twice to move keyboard and mouse with the picture",
    ],
    ["Can I mount it on an arm?", "yes, it has a 100 x 100 mm VESA mount behind the stand"],
  ],
  price: [99, 1199],
};

export const keyboards: LeafVocabulary = {
  code: "KBD",
  nouns: ["Mechanical Keyboard", "Wireless Keyboard", "Ergonomic Keyboard", "Compact Keyboard"],
  features: [
    "hot-swappable switches",
    "per-key RGB lighting",
    "a split ergonomic layout",
    "Bluetooth and 2.4 GHz dual mode",
    "PBT keycaps",
    "a 75 % layout",
    "a detachable USB-C cable",
    "a six-month battery",
  ],
  uses: ["programming", "long writing sessions", "gaming", "a tidy desk setup"],
  praise: [
    "typing feels crisp and satisfying",
    "switching between three devices takes one key press",
    "the battery lasted months before needing a charge",
    "the split layout ended my wrist pain",
    "the keycaps feel solid and don't shine",
  ],
  complaints: [
    "several keys started double-typing",
    "the space bar rattles",
    "the Bluetooth lags behind my typing",
    "a keycap broke off in the first week",
    "it stopped working after a week",
  ],
  tips: [
    ["How do I switch between devices?", "press Fn plus 1, 2 or 3 to switch between the paired devices"],
    ["How do I change the lighting?", "press Fn plus the light-bulb key to cycle through the effects"],
    ["Does it work with a Mac?", "yes, press Fn plus M to switch to the Mac layout"],
  ],
  price: [29, 249],
};

export const mice: LeafVocabulary = {
  code: "MSE",
  nouns: ["Wireless Mouse", "Gaming Mouse", "Vertical Mouse", "Travel Mouse", "Ergonomic Mouse"],
  features: [
    "a 26,000 DPI sensor",
    "silent clicks",
    "an ergonomic vertical grip",
    "a 70-day battery",
    "programmable side buttons",
    "a magnetic scroll wheel",
    "multi-device pairing",
    "an ultralight 60 g shell",
  ],
  uses: ["office work", "FPS games", "travel", "design work"],
  praise: [
    "the silent clicks are great in shared offices",
    "tracking is flawless on any surface",
    "the vertical grip took away my wrist pain",
    "the scroll wheel flies through long documents",
    "it's so light I barely notice it",
  ],
  complaints: [
    "the left button started double-clicking",
    "the scroll wheel squeaks",
    "it disconnects every few minutes",
    "the coating got sticky after a month",
    "it stopped working after a week",
  ],
  tips: [
    ["How do I change the DPI?", "press the button behind the scroll wheel to cycle through the DPI levels"],
    [
      "How do I pair it over Bluetooth?",
      "hold the connect button underneath for three seconds until the light blinks fast",
    ],
    ["How do I program the side buttons?", "install the companion software and assign actions under Buttons"],
  ],
  price: [9, 159],
};
