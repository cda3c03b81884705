//! Words: tokenising, stemming, stop words and a small lexicon of general
//! English concept groups shared by the policy tier and the lexical scorer.
//!
//! The groups are ordinary vocabulary of the domains agents work in (travel,
//! mail, calendars, files, money, code, shopping, chat), written by hand. They
//! name no product, place or person. A build-time import of WordNet synonyms
//! (Debian's `wordnet-base`) would widen them; it was left out to keep the
//! crate free of data files.

use std::collections::HashMap;
use std::sync::LazyLock;

/// Lower-case word tokens of `text`, with `snake_case`, `kebab-case`,
/// `camelCase`, paths and punctuation split apart.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            // camelCase boundary: "sendEmail" -> "send", "email".
            if c.is_uppercase() && prev_lower && !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            prev_lower = c.is_lowercase();
            current.extend(c.to_lowercase());
        } else if c == '\'' && !current.is_empty() {
            // Possessives and contractions: "client's" -> "client".
            out.push(std::mem::take(&mut current));
            prev_lower = false;
        } else {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            prev_lower = false;
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out.retain(|w| !(w.len() == 1 && w.chars().all(char::is_alphabetic)) || w == "i");
    out
}

/// A light suffix-stripping stemmer: enough to meet "reservation" and
/// "reserve", "reviews" and "review", "booked" and "book".
pub fn stem(word: &str) -> String {
    let w = word;
    let n = w.len();
    if n <= 3 || !w.is_ascii() {
        return w.to_owned();
    }
    for (suffix, keep, replace) in [
        ("ations", 5, "e"),
        ("ation", 4, "e"),
        ("ies", 3, "y"),
        ("ing", 4, ""),
        ("ed", 4, ""),
        ("es", 4, ""),
        ("s", 3, ""),
    ] {
        if let Some(base) = w.strip_suffix(suffix)
            && base.len() >= keep
            && !(suffix == "s" && base.ends_with('s'))
        {
            let mut b = base.to_owned();
            // "reserv" + "e"; "booking" -> "book"; "mapped" -> "mapp" -> "map".
            if replace.is_empty() && b.len() > 3 {
                let bytes = b.as_bytes();
                let last = bytes[bytes.len() - 1];
                if last == bytes[bytes.len() - 2] && !matches!(last, b'l' | b's' | b'e' | b'o') {
                    b.pop();
                }
            }
            b.push_str(replace);
            return b;
        }
    }
    w.to_owned()
}

/// Words that carry no topic.
pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

// Sorted for binary search (checked by a test).
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "been", "before", "being", "both", "but", "by", "can", "could", "did", "do", "does",
    "doing", "done", "each", "either", "else", "etc", "ever", "every", "few", "for", "from", "get",
    "give", "go", "going", "got", "had", "has", "have", "having", "he", "hello", "her", "here",
    "hey", "hi", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "know",
    "let", "like", "ll", "lot", "m", "make", "me", "might", "more", "most", "much", "must", "my",
    "need", "no", "not", "now", "of", "off", "ok", "on", "once", "one", "only", "or", "other",
    "our", "out", "over", "please", "provide", "re", "s", "same", "see", "shall", "she", "should",
    "so", "some", "soon", "such", "sure", "t", "tell", "than", "thank", "thanks", "that", "the",
    "their", "them", "then", "there", "these", "they", "thing", "this", "those", "through", "to",
    "too", "try", "up", "us", "use", "ve", "very", "want", "was", "way", "we", "well", "were",
    "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would",
    "yes", "yet", "you", "your",
];

/// Concept groups: a word (or its stem) in a group stands for the group.
pub const CONCEPTS: &[(&str, &[&str])] = &[
    (
        "book",
        &[
            "book",
            "booking",
            "reserve",
            "reservation",
            "reserving",
            "reserved",
        ],
    ),
    (
        "lodging",
        &[
            "hotel",
            "hotels",
            "room",
            "rooms",
            "stay",
            "accommodation",
            "lodging",
            "hostel",
            "motel",
            "inn",
            "suite",
            "suites",
            "resort",
            "apartment",
        ],
    ),
    (
        "dining",
        &[
            "restaurant",
            "restaurants",
            "dinner",
            "lunch",
            "breakfast",
            "brunch",
            "meal",
            "meals",
            "eat",
            "eating",
            "food",
            "cuisine",
            "dining",
            "dish",
            "menu",
            "cafe",
            "bistro",
            "vegan",
            "vegetarian",
            "dietary",
            "gluten",
            "table",
        ],
    ),
    (
        "car",
        &[
            "car", "cars", "rental", "rent", "renting", "vehicle", "vehicles", "suv", "suvs",
            "driving", "fuel", "electric", "sedan",
        ],
    ),
    (
        "flight",
        &[
            "flight",
            "flights",
            "fly",
            "flying",
            "airline",
            "airlines",
            "plane",
            "airport",
            "departure",
            "arrival",
            "boarding",
        ],
    ),
    (
        "travel",
        &[
            "trip",
            "travel",
            "traveling",
            "travelling",
            "journey",
            "vacation",
            "holiday",
            "visit",
            "visiting",
            "tour",
            "heading",
            "destination",
            "itinerary",
            "arriving",
            "landing",
        ],
    ),
    (
        "price",
        &[
            "price",
            "prices",
            "pricing",
            "cost",
            "costs",
            "budget",
            "cheap",
            "cheapest",
            "cheaper",
            "expensive",
            "fee",
            "fees",
            "afford",
            "euro",
            "euros",
            "dollar",
            "dollars",
            "expense",
            "expenses",
            "minimum",
            "maximum",
            "affordable",
        ],
    ),
    (
        "rating",
        &[
            "rating",
            "ratings",
            "rated",
            "review",
            "reviews",
            "recommend",
            "recommendation",
            "recommended",
            "best",
            "top",
            "stars",
            "feedback",
            "highest",
        ],
    ),
    (
        "address",
        &[
            "address",
            "addresses",
            "location",
            "located",
            "directions",
            "map",
            "street",
        ],
    ),
    (
        "calendar",
        &[
            "calendar",
            "event",
            "events",
            "meeting",
            "meetings",
            "appointment",
            "appointments",
            "schedule",
            "scheduled",
            "remind",
            "reminder",
            "reminders",
            "agenda",
            "invite",
            "invitation",
        ],
    ),
    (
        "mail",
        &[
            "email",
            "emails",
            "mail",
            "mails",
            "inbox",
            "message",
            "messages",
            "reply",
            "forward",
            "letter",
            "send",
            "sending",
            "sent",
            "recipient",
            "recipients",
        ],
    ),
    (
        "file",
        &[
            "file",
            "files",
            "document",
            "documents",
            "doc",
            "docs",
            "folder",
            "folders",
            "drive",
            "note",
            "notes",
            "pdf",
            "spreadsheet",
            "report",
            "txt",
            "csv",
        ],
    ),
    (
        "money",
        &[
            "pay",
            "paying",
            "payment",
            "payments",
            "transfer",
            "transfers",
            "money",
            "bill",
            "bills",
            "invoice",
            "invoices",
            "transaction",
            "transactions",
            "refund",
            "charge",
            "iban",
            "bank",
            "banking",
            "balance",
            "rent",
            "salary",
            "statement",
            "statements",
        ],
    ),
    (
        "delete",
        &[
            "delete",
            "deleting",
            "remove",
            "removing",
            "erase",
            "cancel",
            "cancelling",
            "canceling",
            "trash",
            "purge",
            "destroy",
            "wipe",
        ],
    ),
    (
        "contact",
        &[
            "contact",
            "contacts",
            "phone",
            "call",
            "telephone",
            "mobile",
        ],
    ),
    (
        "person",
        &[
            "user",
            "profile",
            "personal",
            "information",
            "details",
            "passport",
            "identity",
            "birthday",
        ],
    ),
    (
        "hours",
        &["open", "opening", "hours", "closed", "closing", "operating"],
    ),
    (
        "summary",
        &[
            "summarize",
            "summarise",
            "summary",
            "overview",
            "recap",
            "digest",
        ],
    ),
    (
        "code",
        &[
            "code",
            "repository",
            "repo",
            "commit",
            "branch",
            "pull",
            "merge",
            "bug",
            "issue",
            "build",
            "deploy",
        ],
    ),
    (
        "secret",
        &[
            "secret",
            "secrets",
            "password",
            "passwords",
            "credential",
            "credentials",
            "token",
            "tokens",
            "key",
            "keys",
            "ssh",
        ],
    ),
    (
        "chat",
        &["channel", "channels", "chat", "post", "dm", "workspace"],
    ),
    (
        "web",
        &[
            "website", "webpage", "url", "link", "links", "web", "page", "browse", "site",
        ],
    ),
    (
        "shopping",
        &[
            "buy", "purchase", "order", "orders", "cart", "shop", "shopping", "product",
            "products", "checkout",
        ],
    ),
    ("weather", &["weather", "forecast", "temperature", "rain"]),
    (
        "health",
        &[
            "medical",
            "health",
            "doctor",
            "prescription",
            "diagnosis",
            "hospital",
            "patient",
        ],
    ),
];

/// The concept group a word belongs to, if any.
pub fn concept(word: &str) -> Option<&'static str> {
    // Built once: a lookup per word must stay well under a microsecond for
    // tier 1 to keep its budget.
    static INDEX: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
        let mut index = HashMap::new();
        for (name, group) in CONCEPTS {
            for member in *group {
                index.entry((*member).to_owned()).or_insert(*name);
                index.entry(stem(member)).or_insert(*name);
            }
        }
        index
    });
    INDEX.get(word).or_else(|| INDEX.get(&stem(word))).copied()
}

/// Content words of a text: stop words dropped, stemmed.
pub fn content_stems(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .filter(|w| !is_stop_word(w))
        .map(|w| stem(&w))
        .collect()
}

/// Month number of an English month name or abbreviation.
pub fn month(word: &str) -> Option<u32> {
    const MONTHS: &[&str] = &[
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let w = word.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| {
            *m == w || (w.len() >= 3 && m.starts_with(&w) && (w.len() == 3 || w == "sept"))
        })
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// Day of month from "11th", "1st", "15", "2nd".
pub fn day_of_month(word: &str) -> Option<u32> {
    let digits = word
        .strip_suffix("st")
        .or_else(|| word.strip_suffix("nd"))
        .or_else(|| word.strip_suffix("rd"))
        .or_else(|| word.strip_suffix("th"))
        .unwrap_or(word);
    digits.parse::<u32>().ok().filter(|d| (1..=31).contains(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_sorted() {
        let mut sorted = STOP_WORDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, STOP_WORDS);
    }

    #[test]
    fn splits_identifiers_and_paths() {
        assert_eq!(words("get_rating_reviews"), ["get", "rating", "reviews"]);
        assert_eq!(words("sendEmail"), ["send", "email"]);
        assert_eq!(
            words("/secrets/api_keys.txt"),
            ["secrets", "api", "keys", "txt"]
        );
        assert_eq!(words("cousin's car"), ["cousin", "car"]);
    }

    #[test]
    fn stems_meet() {
        assert_eq!(stem("reservation"), stem("reserve"));
        assert_eq!(stem("reviews"), stem("review"));
        assert_eq!(stem("booked"), stem("booking"));
        assert_eq!(concept("reservation"), Some("book"));
        assert_eq!(concept("Hotels".to_lowercase().as_str()), Some("lodging"));
    }

    #[test]
    fn months_and_days() {
        assert_eq!(month("January"), Some(1));
        assert_eq!(month("nov"), Some(11));
        assert_eq!(month("mayor"), None);
        assert_eq!(day_of_month("11th"), Some(11));
        assert_eq!(day_of_month("32"), None);
    }
}
