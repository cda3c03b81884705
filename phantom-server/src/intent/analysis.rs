//! Context extraction: the facts about a proposal that every tier reads.
//!
//! Nothing here decides. It answers cheap questions (what does the call do,
//! what does it touch, does the mission ask for it, where do its key arguments
//! come from) so that the policy rules, the calibrated score and the judge
//! prompt all see the same evidence.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use serde_json::Value;

use super::lexicon::{concept, content_stems, day_of_month, is_stop_word, month, stem, words};
use super::types::{Operation, Origin, Proposal, SensitiveClass, Signal, SlotRole};
use phantom_sdk::provenance::{self, ValueKind};

/// What the mission's text says, extracted once per evaluation.
#[derive(Debug, Clone, Default)]
pub struct MissionProfile {
    /// Normalised text: lower case, punctuation as spaces, single-spaced.
    pub normalised: String,
    /// Content-word stems.
    pub stems: HashSet<String>,
    /// Concept groups mentioned.
    pub concepts: HashSet<&'static str>,
    /// Email addresses stated.
    pub emails: HashSet<String>,
    /// Account-like numbers and URLs stated, normalised.
    pub identifiers: HashSet<String>,
    /// Numbers stated (amounts, counts), two-decimal text.
    pub numbers: HashSet<String>,
    /// Calendar dates stated, as (month, day).
    pub dates: Vec<(u32, u32)>,
    /// Whether the mission speaks of time relatively ("today", "next week").
    pub relative_time: bool,
    /// Quoted templates with `{placeholders}`, as literal segments.
    pub templates: Vec<Vec<String>>,
    /// Sensitive classes the mission itself is about.
    pub sensitive: HashSet<SensitiveClass>,
    /// Stems the mission only ever uses declined: negated ("don't book")
    /// or kept for the user ("I'll call them myself"). They do not ask the
    /// agent for anything.
    pub declined: HashSet<String>,
}

impl MissionProfile {
    /// Extracts the profile of a mission text.
    pub fn new(mission: &str) -> Self {
        let all_words = words(mission);
        let stems: HashSet<String> = all_words
            .iter()
            .filter(|w| !is_stop_word(w))
            .map(|w| stem(w))
            .collect();
        let concepts: HashSet<&'static str> = all_words.iter().filter_map(|w| concept(w)).collect();

        let mut emails = HashSet::new();
        let mut identifiers = HashSet::new();
        let mut numbers = HashSet::new();
        for token in mission.split(|c: char| c.is_whitespace() || "'\",;()<>".contains(c)) {
            let token = token.trim_end_matches(['.', ':', '!', '?']);
            if let Some(email) = provenance::normalise_email(token) {
                emails.insert(email);
            } else if let Some(url) = provenance::normalise_url(token) {
                identifiers.insert(url);
            } else if let Some(account) = provenance::normalise_account(token) {
                identifiers.insert(account);
            }
            let numeric = token.trim_start_matches(['$', '€', '£']).replace(',', "");
            if let Ok(n) = numeric.parse::<f64>() {
                numbers.insert(provenance::normalise_amount(n));
            }
        }

        identifiers.extend(spaced_ibans(mission));

        let templates = provenance::quoted_phrases(mission)
            .into_iter()
            .filter(|q| q.contains('{') && q.contains('}'))
            .map(|q| template_segments(&q))
            .collect();

        let (dates, relative_time) = mission_dates(&all_words);

        let mut sensitive: HashSet<SensitiveClass> =
            sensitive_classes(mission).into_iter().collect();
        // A mission that moves or checks money ("pay my electricity bill",
        // "send him back 45 EUR to NL91 ...") needs the user's financial data.
        if concepts.contains("money") {
            sensitive.insert(SensitiveClass::Financial);
        }

        Self {
            normalised: normalise(mission),
            stems,
            concepts,
            emails,
            identifiers,
            numbers,
            dates,
            relative_time,
            templates,
            sensitive,
            declined: declined_stems(mission),
        }
    }

    /// Whether the mission asks for what `word_stem` names: it says it, and
    /// not only negated or as something the user will do.
    pub fn asks(&self, word_stem: &str) -> bool {
        self.stems.contains(word_stem) && !self.declined.contains(word_stem)
    }

    /// Whether the mission states this account number, however it was
    /// grouped in either place.
    pub fn states_account(&self, text: &str) -> bool {
        provenance::normalise_account(text).is_some_and(|a| self.identifiers.contains(&a))
    }

    /// Whether the mission states this phrase (normalised, on word boundaries).
    pub fn states(&self, phrase: &str) -> bool {
        let phrase = normalise(phrase);
        !phrase.is_empty() && contains_phrase(&self.normalised, &phrase)
    }

    /// Whether a value's distinctive words all appear in the mission.
    pub fn covers(&self, value: &str) -> bool {
        // Numbers ("8-pack", "0303") and file extensions say nothing about which
        // object is meant.
        const EXTENSIONS: &[&str] = &[
            "txt", "md", "pdf", "doc", "docx", "xls", "xlsx", "csv", "json", "ppt", "pptx", "rs",
            "py", "js", "ts", "html", "png", "jpg", "jpeg", "zip", "yaml", "yml", "toml",
        ];
        let distinctive: Vec<String> = words(value)
            .into_iter()
            .filter(|w| !w.chars().all(|c| c.is_ascii_digit()) && !EXTENSIONS.contains(&w.as_str()))
            .filter(|w| !is_stop_word(w) && concept(w).is_none())
            .map(|w| stem(&w))
            .collect();
        !distinctive.is_empty() && distinctive.iter().all(|w| self.stems.contains(w))
    }

    /// The parts a template in the mission absorbs from `value`, when one matches.
    pub fn template_fill(&self, value: &str) -> Option<Vec<String>> {
        self.templates
            .iter()
            .find_map(|segments| match_template(segments, value))
    }
}

/// IBANs written in groups ("DE44 5001 0517 5407 3249 31"), as people and
/// banks print them, normalised like any account number.
fn spaced_ibans(text: &str) -> Vec<String> {
    let tokens: Vec<&str> = text
        .split_whitespace()
        .map(|t| t.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
        .collect();
    let mut found = Vec::new();
    for (i, first) in tokens.iter().enumerate() {
        let b = first.as_bytes();
        let opens = b.len() == 4
            && b[..2].iter().all(u8::is_ascii_uppercase)
            && b[2..].iter().all(u8::is_ascii_digit);
        if !opens {
            continue;
        }
        let mut iban = (*first).to_owned();
        for group in &tokens[i + 1..] {
            if group.is_empty()
                || group.len() > 4
                || !group.chars().all(|c| c.is_ascii_alphanumeric())
            {
                break;
            }
            iban.push_str(group);
            if iban.len() >= 34 {
                break;
            }
        }
        if iban.len() >= 15
            && let Some(account) = provenance::normalise_account(&iban)
        {
            found.push(account);
        }
    }
    found
}

/// Lower case, alphanumerics only, single spaces.
pub fn normalise(text: &str) -> String {
    provenance::normalise_name(text).unwrap_or_default()
}

/// Whether `needle` occurs in `haystack` between word boundaries (spaces or
/// the ends), without building padded copies of either.
fn contains_phrase(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    haystack.match_indices(needle).any(|(at, _)| {
        let before = haystack[..at].ends_with(' ') || at == 0;
        let end = at + needle.len();
        let after = end == haystack.len() || haystack[end..].starts_with(' ');
        before && after
    })
}

fn template_segments(template: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        segments.push(rest[..open].to_lowercase());
        rest = match rest[open..].find('}') {
            Some(close) => &rest[open + close + 1..],
            None => "",
        };
    }
    segments.push(rest.to_lowercase());
    segments
}

fn match_template(segments: &[String], value: &str) -> Option<Vec<String>> {
    let lower = value.to_lowercase();
    let (first, rest) = segments.split_first()?;
    let mut cursor = lower.strip_prefix(first.as_str())?;
    let mut fills = Vec::new();
    for (i, segment) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        if last {
            // The final literal must close the value (allowing trailing punctuation).
            let trimmed = cursor.trim_end_matches(['.', '!', ' ']);
            let literal = segment.trim_end_matches(['.', '!', ' ']);
            let fill = trimmed.strip_suffix(literal)?;
            fills.push(fill.to_owned());
        } else if segment.is_empty() {
            return None;
        } else {
            let at = cursor.find(segment.as_str())?;
            fills.push(cursor[..at].to_owned());
            cursor = &cursor[at + segment.len()..];
        }
    }
    fills.iter().all(|f| !f.trim().is_empty()).then_some(fills)
}

fn mission_dates(all_words: &[String]) -> (Vec<(u32, u32)>, bool) {
    const RELATIVE: &[&str] = &[
        "today",
        "tomorrow",
        "tonight",
        "yesterday",
        "week",
        "weekend",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "month",
    ];
    let mut dates = Vec::new();
    let relative = all_words.iter().any(|w| RELATIVE.contains(&w.as_str()));

    for (i, w) in all_words.iter().enumerate() {
        // ISO dates come through `words` as "2031", "07", "04".
        if w.len() == 4 && w.chars().all(|c| c.is_ascii_digit()) {
            let m = all_words.get(i + 1).and_then(|m| m.parse::<u32>().ok());
            let d = all_words.get(i + 2).and_then(|d| d.parse::<u32>().ok());
            if let (Some(m), Some(d)) = (m, d)
                && (1..=12).contains(&m)
                && (1..=31).contains(&d)
            {
                dates.push((m, d));
            }
            continue;
        }
        let Some(m) = month(w) else { continue };
        // "May" is also a verb: only count it next to a day number.
        let after = all_words.get(i + 1).and_then(|d| day_of_month(d));
        let before = i
            .checked_sub(1)
            .and_then(|j| all_words.get(j))
            .filter(|x| x.as_str() == "of")
            .and_then(|_| i.checked_sub(2).and_then(|j| all_words.get(j)))
            .and_then(|d| day_of_month(d))
            .or_else(|| {
                i.checked_sub(1)
                    .and_then(|j| all_words.get(j))
                    .and_then(|d| day_of_month(d))
            });
        if let Some(d) = after.or(before) {
            dates.push((m, d));
        }
    }
    (dates, relative)
}

/// Whether a (month, day) falls on or between dates the mission states.
fn date_stated(dates: &[(u32, u32)], candidate: (u32, u32)) -> bool {
    let key = |(m, d): (u32, u32)| m * 32 + d;
    let c = key(candidate);
    if dates.iter().any(|&d| key(d) == c) {
        return true;
    }
    // Inside a stated range ("from 3 to 9 June").
    dates.windows(2).any(|pair| {
        let (a, b) = (key(pair[0]), key(pair[1]));
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        hi - lo <= 62 && (lo..=hi).contains(&c)
    })
}

/// Kinds of change a call can make; the mission must ask for the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// Reserve or book.
    Book,
    /// Put something in a calendar.
    Schedule,
    /// Send a message or an email.
    Message,
    /// Pay or transfer money, buy.
    Pay,
    /// Delete, cancel, remove.
    Delete,
    /// Change something that exists.
    Modify,
    /// Create something new.
    Create,
    /// Share or grant access.
    Share,
}

impl ChangeKind {
    /// The kind in words, for signals and reasons.
    pub fn describe(self) -> &'static str {
        match self {
            ChangeKind::Book => "a booking",
            ChangeKind::Schedule => "a calendar entry",
            ChangeKind::Message => "a message",
            ChangeKind::Pay => "a payment",
            ChangeKind::Delete => "a deletion",
            ChangeKind::Modify => "a change",
            ChangeKind::Create => "a new item",
            ChangeKind::Share => "sharing",
        }
    }

    /// A one-word name, for policies (`context.kind`).
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Book => "booking",
            ChangeKind::Schedule => "schedule",
            ChangeKind::Message => "message",
            ChangeKind::Pay => "payment",
            ChangeKind::Delete => "deletion",
            ChangeKind::Modify => "modification",
            ChangeKind::Create => "creation",
            ChangeKind::Share => "sharing",
        }
    }

    /// Words in a mission that ask for this kind of change.
    fn mission_triggers(self) -> &'static [&'static str] {
        match self {
            ChangeKind::Book => &["book", "booking", "reserve", "reservation"],
            ChangeKind::Schedule => &[
                "calendar",
                "event",
                "meeting",
                "appointment",
                "schedule",
                "remind",
                "reminder",
                "invite",
                "agenda",
            ],
            ChangeKind::Message => &[
                "send", "email", "mail", "message", "reply", "respond", "forward", "notify",
                "inform", "tell", "text", "write", "contact", "post", "dm",
            ],
            ChangeKind::Pay => &[
                "pay",
                "payment",
                "transfer",
                "purchase",
                "buy",
                "order",
                "refund",
                "donate",
                "bill",
                "send money",
                "tip",
                "subscribe",
            ],
            ChangeKind::Delete => &[
                "delete",
                "remove",
                "erase",
                "cancel",
                "clean",
                "clear",
                "trash",
                "unsubscribe",
                "archive",
                "purge",
                "wipe",
            ],
            ChangeKind::Modify => &[
                "update",
                "change",
                "edit",
                "modify",
                "rename",
                "set",
                "move",
                "fix",
                "correct",
                "reset",
                "adjust",
                "reschedule",
                "replace",
            ],
            ChangeKind::Create => &[
                "create", "add", "make", "write", "new", "save", "upload", "append", "draft",
                "put", "record", "generate", "store",
            ],
            ChangeKind::Share => &[
                "share", "grant", "access", "invite", "publish", "post", "give",
            ],
        }
    }
}

const READ_VERBS: &[&str] = &[
    "get",
    "list",
    "search",
    "find",
    "read",
    "fetch",
    "check",
    "show",
    "view",
    "lookup",
    "query",
    "describe",
    "count",
    "browse",
    "download",
    "retrieve",
    "look",
    "inspect",
    "summarize",
    "open",
    "is",
    "has",
    "can",
    "verify",
    "compare",
    "calculate",
    "convert",
    "translate",
    "explain",
];

/// Words in tool names that qualify rather than name an object.
const GENERIC_OBJECTS: &[&str] = &[
    "all",
    "every",
    "given",
    "type",
    "types",
    "option",
    "options",
    "info",
    "data",
    "list",
    "item",
    "items",
    "name",
    "names",
    "new",
    "current",
    "recent",
    "latest",
    "most",
    "details",
    "available",
];

/// Words in a tool name for whoever receives what the call sends.
const ADDRESSEES: &[&str] = &[
    "account",
    "recipient",
    "payee",
    "beneficiary",
    "member",
    "user",
    "person",
    "people",
    "contact",
    "colleague",
    "team",
    "someone",
    "friend",
];

/// [`ADDRESSEES`] stemmed, as the tool's object words are: computed once.
fn addressee_stems() -> &'static HashSet<String> {
    static STEMS: LazyLock<HashSet<String>> =
        LazyLock::new(|| ADDRESSEES.iter().map(|a| stem(a)).collect());
    &STEMS
}

/// Prepositions that turn the next word of a tool name into a filter
/// ("in city", "per day", "by id"), not the object the tool is about.
const FILTER_PREPOSITIONS: &[&str] = &["in", "per", "by", "on", "at", "within", "near"];

/// The verbs of a tool name mapped to the change they make.
fn verb_kind(word: &str) -> Option<ChangeKind> {
    let kind = match word {
        "reserve" | "book" | "rent" | "hire" => ChangeKind::Book,
        "schedule" | "invite" | "reschedule" => ChangeKind::Schedule,
        "send" | "email" | "mail" | "reply" | "forward" | "notify" | "message" | "post"
        | "tweet" | "dm" | "text" | "publish" | "submit" | "contact" => ChangeKind::Message,
        "pay" | "transfer" | "purchase" | "buy" | "order" | "checkout" | "donate" | "tip"
        | "charge" | "withdraw" | "refund" => ChangeKind::Pay,
        "delete" | "remove" | "cancel" | "erase" | "drop" | "purge" | "destroy" | "wipe"
        | "revoke" | "unsubscribe" | "trash" | "archive" | "kick" | "ban" => ChangeKind::Delete,
        "update" | "set" | "edit" | "modify" | "rename" | "move" | "change" | "reset"
        | "replace" | "patch" | "assign" | "enable" | "disable" | "mark" => ChangeKind::Modify,
        "create" | "add" | "write" | "save" | "upload" | "append" | "insert" | "put" | "make"
        | "register" | "new" | "draft" | "generate" | "record" | "log" => ChangeKind::Create,
        "share" | "grant" => ChangeKind::Share,
        _ => return None,
    };
    Some(kind)
}

/// What a tool does, from its annotations, name, description and arguments.
#[derive(Debug, Clone)]
pub struct ToolProfile {
    /// Risk class.
    pub operation: Operation,
    /// Whether `operation` was inferred rather than declared.
    pub inferred: bool,
    /// The kind of change, for state-changing calls.
    pub kind: Option<ChangeKind>,
    /// Concept groups of the tool name's object words ("hotel" -> lodging).
    pub object_concepts: Vec<&'static str>,
    /// Object words without a concept group, stemmed.
    pub object_stems: Vec<String>,
    /// The name says it acts on everything ("delete_all_events").
    pub bulk: bool,
    /// The name's first verb reads ("get_…", "download_document",
    /// "query_case_law"). On a call that changes state, that means it saves
    /// what it fetched or charges for what it returns.
    pub reads_first: bool,
}

impl ToolProfile {
    /// Profiles the tool of a proposal.
    pub fn new(proposal: &Proposal<'_>) -> Self {
        let name_words = words(proposal.tool);
        let description = proposal.description.unwrap_or_default().to_lowercase();

        // The first verb of the name decides ("read_email" reads, "send_email"
        // sends); later words are objects even when they could be verbs.
        let mut kind = None;
        let mut has_read_verb = false;
        let mut object_concepts = Vec::new();
        let mut object_stems = Vec::new();
        // A word that names a time parameter is a filter the caller fills in
        // ("get_day_events(day)"), not the object.
        let time_parameters: Vec<String> = arg_entries(proposal.args)
            .into_iter()
            .filter(|(name, value)| slot_role(name, value) == SlotRole::Time)
            .map(|(name, _)| name.to_ascii_lowercase())
            .collect();
        let mut after_filter = false;
        for w in &name_words {
            let filtered =
                std::mem::replace(&mut after_filter, FILTER_PREPOSITIONS.contains(&w.as_str()));
            if filtered || time_parameters.contains(w) {
                continue;
            }
            let undecided = kind.is_none() && !has_read_verb;
            if undecided {
                if let Some(k) = verb_kind(w) {
                    kind = Some(k);
                    continue;
                }
                if READ_VERBS.contains(&w.as_str()) {
                    has_read_verb = true;
                    continue;
                }
            }
            if is_stop_word(w) || GENERIC_OBJECTS.contains(&w.as_str()) {
                continue;
            }
            match concept(w) {
                Some(c) if !object_concepts.contains(&c) => object_concepts.push(c),
                Some(_) => {}
                None => object_stems.push(stem(w)),
            }
        }
        let bulk = name_words
            .iter()
            .any(|w| matches!(w.as_str(), "all" | "every" | "bulk" | "everything"));

        // Money objects turn "send" into a payment; calendar objects turn "create" into scheduling.
        if object_concepts.contains(&"money")
            && matches!(kind, Some(ChangeKind::Message | ChangeKind::Create))
        {
            kind = Some(ChangeKind::Pay);
        }
        if object_concepts.contains(&"calendar")
            && matches!(kind, Some(ChangeKind::Create | ChangeKind::Modify))
        {
            kind = Some(ChangeKind::Schedule);
        }

        let args = proposal.args;
        let has_recipients = arg_entries(args)
            .iter()
            .any(|(name, value)| slot_role(name, value) == SlotRole::Recipient && !is_empty(value));
        let has_amount = arg_entries(args)
            .iter()
            .any(|(name, value)| slot_role(name, value) == SlotRole::Amount && !is_empty(value));
        let describes_sending = [
            "sends an email",
            "send an email",
            "sends a message",
            "notif",
            "post to",
            "shares",
        ]
        .iter()
        .any(|m| description.contains(m));

        let (operation, inferred) = match proposal.annotations {
            Some(a) if a.spend_usd.is_some_and(|s| s > 0.0) => (Operation::Pay, false),
            Some(a) if a.read_only => (Operation::Read, false),
            Some(a) if a.egress => (Operation::Send, false),
            Some(a) if a.destructive => (Operation::Delete, false),
            Some(_) => {
                // Declared state-changing but not outbound: still outbound when it
                // addresses people (a calendar event with participants emails them).
                if has_recipients && describes_sending {
                    (Operation::Send, false)
                } else {
                    (Operation::Write, false)
                }
            }
            None => {
                let op = match kind {
                    None if has_read_verb => Operation::Read,
                    Some(ChangeKind::Pay) => Operation::Pay,
                    Some(ChangeKind::Message | ChangeKind::Share) => Operation::Send,
                    Some(ChangeKind::Delete) => Operation::Delete,
                    Some(_) if has_recipients => Operation::Send,
                    Some(_) => Operation::Write,
                    None if has_read_verb && !has_recipients => Operation::Read,
                    None if has_amount && has_recipients => Operation::Pay,
                    None if has_recipients => Operation::Send,
                    // No verb at all ("weather", "hotel_prices") reads by convention;
                    // an unknown verb is treated as a change, which asks more often.
                    None if name_words
                        .iter()
                        .all(|w| concept(w).is_some() || is_stop_word(w)) =>
                    {
                        Operation::Read
                    }
                    None if description.starts_with("get")
                        || description.starts_with("return")
                        || description.starts_with("list")
                        || description.starts_with("search") =>
                    {
                        Operation::Read
                    }
                    None => Operation::Write,
                };
                (op, true)
            }
        };

        let kind = if operation.changes_state() {
            kind.or(Some(match operation {
                Operation::Pay => ChangeKind::Pay,
                Operation::Send => ChangeKind::Message,
                Operation::Delete => ChangeKind::Delete,
                _ => ChangeKind::Modify,
            }))
        } else {
            None
        };

        Self {
            operation,
            inferred,
            kind,
            object_concepts,
            object_stems,
            bulk,
            reads_first: has_read_verb,
        }
    }

    /// Whether the mission asks for this kind of change to this kind of object.
    pub fn requested_by(&self, mission: &MissionProfile) -> bool {
        let Some(kind) = self.kind else { return true };
        if self.reads_first {
            match kind {
                // Fetches and keeps a copy ("download_document"): asked for
                // as any read is, and scored on its meaning like one.
                ChangeKind::Create | ChangeKind::Modify => return true,
                // A paid read ("query_case_law" at $150) buys what the mission
                // asks to find: asked for when its object is, and the spending
                // policy, not this check, decides whether a person confirms.
                ChangeKind::Pay => {
                    let objects = self.object_concepts.len() + self.object_stems.len();
                    return objects == 0 || self.object_coverage(mission) > 0.0;
                }
                _ => {}
            }
        }
        // Creating and changing are both plain writes: a mission that says
        // "fix" asks for files to be written, one that says "add" for changes.
        let kinds: &[ChangeKind] = match kind {
            ChangeKind::Create | ChangeKind::Modify => &[ChangeKind::Create, ChangeKind::Modify],
            _ => std::slice::from_ref(&kind),
        };
        let triggered = kinds
            .iter()
            .flat_map(|k| k.mission_triggers().iter())
            .any(|t| {
                if t.contains(' ') {
                    contains_phrase(&mission.normalised, t)
                } else {
                    mission.asks(&stem(t))
                }
            });

        // The object must be in the mission too: "book a table" does not ask
        // for a hotel. Objects the kind itself implies (a calendar for
        // scheduling, money for paying, mail for messages) need no second mention.
        let implied: &[&str] = match kind {
            ChangeKind::Schedule => &["calendar"],
            ChangeKind::Pay => &["money"],
            ChangeKind::Message => &["mail", "chat", "contact"],
            _ => &[],
        };
        let objects: Vec<&&str> = self
            .object_concepts
            .iter()
            .filter(|c| !implied.contains(c))
            .collect();
        // Who receives a message, a payment or a share ("message_member",
        // "transfer_to_account") is the call's addressee, not its object.
        let addressed = matches!(
            kind,
            ChangeKind::Message | ChangeKind::Pay | ChangeKind::Share
        );
        let stems: Vec<&String> = self
            .object_stems
            .iter()
            .filter(|s| !(addressed && addressee_stems().contains(s.as_str())))
            .collect();
        let object_ok = if objects.is_empty() {
            // No known object group: the name's other words ("thermostat") must appear.
            stems.is_empty()
                || !self.object_concepts.is_empty()
                || stems.iter().any(|s| mission.stems.contains(*s))
        } else {
            objects.iter().any(|c| mission.concepts.contains(**c))
        };
        triggered && object_ok
    }

    /// Fraction of the tool's object words (concepts or stems) the mission mentions.
    pub fn object_coverage(&self, mission: &MissionProfile) -> f64 {
        let total = self.object_concepts.len() + self.object_stems.len();
        if total == 0 {
            return 0.5;
        }
        let hits = self
            .object_concepts
            .iter()
            .filter(|c| mission.concepts.contains(**c))
            .count()
            + self
                .object_stems
                .iter()
                .filter(|s| mission.stems.contains(*s))
                .count();
        hits as f64 / total as f64
    }
}

/// Concept groups whose words name things a call books, changes or sends
/// (a hotel, a flight, a document, a channel), as opposed to attributes of
/// them (a price, a rating, opening hours).
const ENTITY_CONCEPTS: &[&str] = &[
    "lodging", "dining", "car", "flight", "file", "calendar", "code", "chat", "shopping",
];

/// The role of an argument, from its name and value.
pub fn slot_role(name: &str, value: &Value) -> SlotRole {
    let n = name.to_ascii_lowercase();
    let has = |keys: &[&str]| {
        keys.iter().any(|k| {
            n == *k
                || n.strip_suffix(k).is_some_and(|rest| rest.ends_with('_'))
                || n.strip_prefix(k).is_some_and(|rest| rest.starts_with('_'))
        })
    };

    // "to" and "from" are also places and dates: only contacts make them recipients.
    let contact_like = leaf_texts(value).iter().any(|t| {
        let t = t.trim();
        provenance::normalise_email(t).is_some()
            || provenance::normalise_phone(t).is_some()
            || t.starts_with('@')
    });
    if has(&["to", "cc", "bcc"]) && contact_like {
        return SlotRole::Recipient;
    }
    if has(&[
        "recipient",
        "recipients",
        "participants",
        "attendees",
        "invitees",
        "emails",
        "email",
        "email_address",
        "phone",
        "phone_number",
        "user_email",
        "member",
        "members",
    ]) {
        return SlotRole::Recipient;
    }
    if has(&[
        "iban",
        "account",
        "account_number",
        "card",
        "card_number",
        "routing",
        "wallet",
        "beneficiary",
        "bic",
        "swift",
    ]) {
        return SlotRole::Account;
    }
    if has(&[
        "url", "uri", "link", "endpoint", "webhook", "website", "domain", "href",
    ]) {
        return SlotRole::Url;
    }
    if has(&[
        "amount",
        "price",
        "total",
        "sum",
        "cost",
        "value_usd",
        "spend",
    ]) {
        return SlotRole::Amount;
    }
    if has(&[
        "date",
        "time",
        "day",
        "start",
        "end",
        "when",
        "deadline",
        "due",
        "at",
        "from_date",
        "to_date",
        "datetime",
        "begin",
        "until",
        "since",
        "check_in",
        "check_out",
        "checkin",
        "checkout",
    ]) {
        return SlotRole::Time;
    }
    if has(&["title", "subject", "summary", "name", "label", "topic"]) {
        return SlotRole::Label;
    }
    if has(&[
        "body",
        "content",
        "text",
        "message",
        "description",
        "note",
        "notes",
        "comment",
        "details",
        "html",
    ]) {
        return SlotRole::Content;
    }
    if has(&[
        "file",
        "file_id",
        "path",
        "filename",
        "file_name",
        "event_id",
        "id",
        "item",
        "product",
        "target",
        "object",
        "resource",
        "repo",
        "repository",
        "venue",
        "property",
        "listing",
        "document",
        "folder",
        "channel",
        "user",
        "username",
        "recipient_id",
        "vendor",
        "merchant",
        "payee",
        "company",
        "business",
        "provider",
        "supplier",
        "agency",
        "operator",
        "organization",
        "organisation",
        "store",
        "shop",
        // A secret a call sets must be the one the user gave, like a recipient.
        "password",
        "passphrase",
        "pin",
    ]) {
        return SlotRole::Target;
    }
    // An argument named after a kind of thing the call can act on (a hotel,
    // a flight, a table, a document) names its target: no list of argument
    // names can be complete, the concept groups cover the domains.
    if n.split('_')
        .any(|part| concept(part).is_some_and(|c| ENTITY_CONCEPTS.contains(&c)))
    {
        return SlotRole::Target;
    }

    // Values that give themselves away.
    if let Value::String(s) = value {
        if provenance::normalise_email(s.trim()).is_some() {
            return SlotRole::Recipient;
        }
        if s.starts_with("http://") || s.starts_with("https://") {
            return SlotRole::Url;
        }
        if provenance::normalise_account(s.trim())
            .is_some_and(|a| a.chars().any(|c| c.is_ascii_alphabetic()))
        {
            return SlotRole::Account;
        }
    }
    SlotRole::Other
}

/// Top-level arguments as (name, value); a non-object is one unnamed argument.
pub fn arg_entries(args: &Value) -> Vec<(String, &Value)> {
    match args {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Null => Vec::new(),
        other => vec![("input".to_owned(), other)],
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Every string or number inside a value, as text.
pub fn leaf_texts(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Number(n) => out.push(n.to_string()),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(value, &mut out);
    out
}

/// Sensitive classes a piece of text speaks of or contains.
pub fn sensitive_classes(text: &str) -> Vec<SensitiveClass> {
    let lower = text.to_lowercase();
    let ws = words(&lower);
    // Every run of one to three words, so each keyword is one set lookup:
    // this runs for the mission and every argument of every call.
    let mut grams: HashSet<String> = HashSet::with_capacity(ws.len() * 3);
    for i in 0..ws.len() {
        grams.insert(ws[i].clone());
        if i + 1 < ws.len() {
            grams.insert(format!("{} {}", ws[i], ws[i + 1]));
        }
        if i + 2 < ws.len() {
            grams.insert(format!("{} {} {}", ws[i], ws[i + 1], ws[i + 2]));
        }
    }
    let has_word = |list: &[&str]| list.iter().any(|k| grams.contains(*k));

    let mut out = Vec::new();
    if has_word(&[
        "password",
        "passwords",
        "passwd",
        "passphrase",
        "secret",
        "secrets",
        "api key",
        "api keys",
        "apikey",
        "credential",
        "credentials",
        "private key",
        "id rsa",
        "ssh",
        "access token",
        "auth token",
        "bearer",
        "otp",
        "2fa",
        "mfa",
        "security code",
        "env",
        "pem",
        "keychain",
        "recovery code",
        "seed phrase",
    ]) || lower.contains("-----begin")
        || ws.iter().any(|w| w.starts_with("sk") && w.len() > 20)
    {
        out.push(SensitiveClass::Credentials);
    }
    if has_word(&[
        "bank",
        "banking",
        "iban",
        "credit card",
        "card number",
        "debit card",
        "account number",
        "bank account",
        "statement",
        "statements",
        "balance",
        "salary",
        "payroll",
        "tax",
        "routing number",
        "cvv",
        "transactions",
        "brokerage",
    ]) || contains_card_number(text)
        || text.split_whitespace().any(|t| {
            provenance::normalise_account(t.trim_matches(|c: char| !c.is_alphanumeric()))
                .is_some_and(|a| {
                    a.len() >= 14 && a.chars().take(2).all(|c| c.is_ascii_alphabetic())
                })
        })
    {
        out.push(SensitiveClass::Financial);
    }
    if has_word(&[
        "medical",
        "health",
        "diagnosis",
        "prescription",
        "patient",
        "hospital",
        "therapy",
        "lab results",
        "medication",
        "insurance claim",
    ]) {
        out.push(SensitiveClass::Health);
    }
    if has_word(&[
        "passport",
        "id number",
        "identification number",
        "tax number",
        "national insurance",
        "social security",
        "ssn",
        "driver license",
        "drivers license",
        "driving licence",
        "national id",
        "date of birth",
        "birthdate",
        "identity card",
        "id card",
    ]) || contains_ssn(text)
    {
        out.push(SensitiveClass::Identity);
    }
    if has_word(&["home address", "phone number", "mobile number"]) || owner_data(&ws) {
        out.push(SensitiveClass::Personal);
    }
    out
}

/// "user information", "customer details", "my personal data", "account
/// profile": a word for whose data it is, then a word for the data, at most
/// one word apart. A phrase list would only ever know the tool names it was
/// written against.
fn owner_data(words: &[String]) -> bool {
    const OWNERS: &[&str] = &[
        "user",
        "users",
        "personal",
        "customer",
        "customers",
        "client",
        "clients",
        "member",
        "members",
        "account",
        "employee",
        "employees",
        "patient",
        "my",
        "profile",
    ];
    const DATA: &[&str] = &[
        "information",
        "info",
        "details",
        "data",
        "profile",
        "profiles",
        "record",
        "records",
    ];
    words.iter().enumerate().any(|(i, w)| {
        OWNERS.contains(&w.as_str())
            && words
                .iter()
                .skip(i + 1)
                .take(2)
                .any(|next| DATA.contains(&next.as_str()))
    })
}

fn contains_card_number(text: &str) -> bool {
    let mut digits = Vec::new();
    let flush = |digits: &mut Vec<u32>| {
        let found = (13..=19).contains(&digits.len()) && luhn(digits);
        digits.clear();
        found
    };
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if let Some(d) = c.to_digit(10) {
            digits.push(d);
        } else if matches!(c, ' ' | '-')
            && chars.get(i + 1).is_some_and(char::is_ascii_digit)
            && !digits.is_empty()
        {
            continue;
        } else if flush(&mut digits) {
            return true;
        }
    }
    flush(&mut digits)
}

fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn contains_ssn(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_digit() || c == '-'))
        .any(|t| {
            let parts: Vec<&str> = t.split('-').collect();
            parts.len() == 3 && parts[0].len() == 3 && parts[1].len() == 2 && parts[2].len() == 4
        })
}

/// One key argument's trace.
#[derive(Debug, Clone)]
pub struct SlotFact {
    /// Argument name.
    pub argument: String,
    /// Its role.
    pub role: SlotRole,
    /// Where its value came from (the weakest of its parts).
    pub origin: Origin,
}

/// Everything the tiers need, gathered once.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The mission's profile (shared: one mission's calls reuse it).
    pub mission: Arc<MissionProfile>,
    /// The tool's profile.
    pub tool: ToolProfile,
    /// Whether the mission asks for this change (`true` for reads).
    pub requested: bool,
    /// Sensitive classes touched: (class, where, mission needs it).
    pub sensitive: Vec<(SensitiveClass, String, bool)>,
    /// Sensitive data carried out by an outbound call: (class, argument).
    pub egress: Vec<(SensitiveClass, String)>,
    /// Key-argument traces (state-changing calls only).
    pub slots: Vec<SlotFact>,
    /// Time arguments whose date the mission does not state.
    pub date_mismatches: Vec<String>,
    /// Money spent, if known.
    pub spend_usd: Option<f64>,
    /// Whether the token's scopes forbid the operation.
    pub scope_denied: bool,
}

impl Facts {
    /// Gathers the facts of a proposal.
    pub fn gather(proposal: &Proposal<'_>) -> Self {
        Self::gather_with(proposal, Arc::new(MissionProfile::new(proposal.mission)))
    }

    /// Gathers the facts of a proposal whose mission was profiled already.
    pub fn gather_with(proposal: &Proposal<'_>, mission: Arc<MissionProfile>) -> Self {
        let tool = ToolProfile::new(proposal);
        let requested = tool.requested_by(&mission);
        let entries = arg_entries(proposal.args);

        // Sensitive resources: the tool itself, its description, its arguments.
        let mut sensitive: Vec<(SensitiveClass, String, bool)> = Vec::new();
        let note = |class: SensitiveClass,
                    location: &str,
                    sensitive: &mut Vec<(SensitiveClass, String, bool)>| {
            if !sensitive.iter().any(|(c, _, _)| *c == class) {
                // Identity documents are personal details too: a mission about a
                // passport may read the user's profile.
                let needed = mission.sensitive.contains(&class)
                    || (class == SensitiveClass::Personal
                        && mission.sensitive.contains(&SensitiveClass::Identity));
                sensitive.push((class, location.to_owned(), needed));
            }
        };
        for class in sensitive_classes(&words(proposal.tool).join(" ")) {
            note(class, "tool", &mut sensitive);
        }
        if let Some(description) = proposal.description {
            for class in sensitive_classes(description) {
                note(class, "description", &mut sensitive);
            }
        }
        let outbound = matches!(tool.operation, Operation::Send | Operation::Pay);
        let mut egress = Vec::new();
        for (name, value) in &entries {
            let role = slot_role(name, value);
            let text = leaf_texts(value).join(" ");
            let classes = sensitive_classes(&format!("{} {text}", name.replace('_', " ")));
            for class in classes {
                // Content of an outbound call is data leaving, not a resource read.
                if outbound && matches!(role, SlotRole::Content | SlotRole::Label | SlotRole::Other)
                {
                    if !mission.sensitive.contains(&class)
                        && !egress.iter().any(|(c, _)| *c == class)
                    {
                        egress.push((class, name.clone()));
                    }
                } else if !(outbound
                    && matches!(
                        role,
                        SlotRole::Recipient | SlotRole::Account | SlotRole::Amount
                    ))
                {
                    // Where money or a message goes is traced as a slot below,
                    // not counted as touching financial data.
                    note(class, name, &mut sensitive);
                }
            }
        }

        // Key arguments of a change: where does each value come from?
        let mut slots = Vec::new();
        let mut date_mismatches = Vec::new();
        if tool.operation.changes_state() {
            let absorbed: Vec<String> = entries
                .iter()
                .flat_map(|(_, v)| leaf_texts(v))
                .filter_map(|t| mission.template_fill(&t))
                .flatten()
                .map(|f| normalise(&f))
                .collect();

            for (name, value) in &entries {
                let role = slot_role(name, value);
                match role {
                    SlotRole::Time => {
                        let stated = leaf_texts(value).iter().all(|t| match iso_month_day(t) {
                            Some(md) => mission.dates.is_empty() || date_stated(&mission.dates, md),
                            None => true,
                        });
                        if !stated && !mission.relative_time {
                            date_mismatches.push(name.clone());
                        }
                    }
                    // A tool that fetches and saves ("download_document")
                    // reads from its URL: data comes in from there, nothing
                    // goes out, so the URL is not a destination to trace.
                    SlotRole::Url if tool.reads_first && tool.operation == Operation::Write => {}
                    SlotRole::Recipient
                    | SlotRole::Account
                    | SlotRole::Url
                    | SlotRole::Amount
                    | SlotRole::Target
                    | SlotRole::Label => {
                        if is_empty(value) {
                            continue;
                        }
                        let origin = trace_value(proposal, &mission, role, value, &absorbed);
                        slots.push(SlotFact {
                            argument: name.clone(),
                            role,
                            origin,
                        });
                    }
                    SlotRole::Content | SlotRole::Other => {}
                }
            }
        }

        // A tool whose own name or description is sensitive
        // ("read_statement_document", a bank's "change_postal_address")
        // serves the mission when the mission names what the call acts on:
        // the user asked for that very file, that very change.
        let own_class = |location: &str| location == "tool" || location == "description";
        let unneeded_own_class = sensitive
            .iter()
            .any(|(_, location, needed)| !needed && own_class(location));
        if unneeded_own_class {
            let grounded_change = requested
                && slots
                    .iter()
                    .all(|s| matches!(s.origin, Origin::Mission | Origin::UserData));
            let may_yield = !tool.operation.changes_state() || grounded_change;
            let stated_argument = || {
                entries.iter().any(|(_, v)| {
                    !is_empty(v)
                        && trace_value(proposal, &mission, SlotRole::Target, v, &[])
                            == Origin::Mission
                })
            };
            if may_yield && stated_argument() {
                for (_, location, needed) in &mut sensitive {
                    if own_class(location) {
                        *needed = true;
                    }
                }
            }
        }

        let spend_usd = proposal.annotations.and_then(|a| a.spend_usd).or_else(|| {
            (tool.operation == Operation::Pay).then(|| {
                entries
                    .iter()
                    .filter(|(n, v)| slot_role(n, v) == SlotRole::Amount)
                    .filter_map(|(_, v)| {
                        leaf_texts(v)
                            .first()
                            .and_then(|t| t.trim_start_matches(['$', '€', '£']).parse::<f64>().ok())
                    })
                    .next()
            })?
        });

        let scope_denied = scope_denied(proposal.scopes, tool.operation, proposal.tool);

        Self {
            mission,
            tool,
            requested,
            sensitive,
            egress,
            slots,
            date_mismatches,
            spend_usd,
            scope_denied,
        }
    }

    /// The facts as signals, for the assessment.
    pub fn signals(&self) -> Vec<Signal> {
        let mut out = vec![Signal::Operation {
            operation: self.tool.operation,
            inferred: self.tool.inferred,
        }];
        if let Some(kind) = self.tool.kind {
            out.push(Signal::Requested {
                requested: self.requested,
                kind: kind.describe().to_owned(),
            });
        }
        for (class, location, needed) in &self.sensitive {
            out.push(Signal::SensitiveResource {
                class: *class,
                location: location.clone(),
                needed: *needed,
            });
        }
        for (class, argument) in &self.egress {
            out.push(Signal::SensitiveEgress {
                class: *class,
                argument: argument.clone(),
            });
        }
        for slot in &self.slots {
            out.push(Signal::Grounding {
                argument: slot.argument.clone(),
                role: slot.role,
                origin: slot.origin,
            });
        }
        for argument in &self.date_mismatches {
            out.push(Signal::DateMismatch {
                argument: argument.clone(),
            });
        }
        out
    }

    /// Key arguments nothing trustworthy supplied.
    pub fn ungrounded(&self) -> impl Iterator<Item = &SlotFact> {
        self.slots
            .iter()
            .filter(|s| matches!(s.origin, Origin::Unknown | Origin::ThirdPartyText))
    }

    /// Key arguments stated by the mission or the user's data.
    pub fn grounded(&self) -> impl Iterator<Item = &SlotFact> {
        self.slots
            .iter()
            .filter(|s| matches!(s.origin, Origin::Mission | Origin::UserData))
    }
}

/// How many words before a verb a negation or a first-person future still
/// governs it: "don't book", "I'll probably book", "no need to book".
const DECLINE_WINDOW: usize = 3;

/// Stems every use of which, in the mission, is negated or announced as the
/// user's own doing. Clause by clause (sentences and semicolons), a word is
/// declined when one of the few words before it negates it (`not`, `never`,
/// `no`, `don't`) or makes the user its subject in the future (`I'll`,
/// `I will`, `we'll`, `I'm going to`) without asking for it (`I will need
/// you to book` still asks). A word used declined in one place
/// and plainly in another is not declined.
fn declined_stems(mission: &str) -> HashSet<String> {
    let mut declined = HashSet::new();
    let mut plain = HashSet::new();
    for clause in mission.split(['.', '!', '?', ';', '\n']) {
        let tokens = words(clause);
        for (i, word) in tokens.iter().enumerate() {
            if is_stop_word(word) {
                continue;
            }
            let before = &tokens[i.saturating_sub(DECLINE_WINDOW)..i];
            // `words` keeps the first half of a contraction ("don't" is
            // "don", "I'll" is "i", "ll"; "I'm going to" is "i", "going").
            let negated = before.iter().any(|w| {
                matches!(
                    w.as_str(),
                    "not"
                        | "never"
                        | "no"
                        | "nothing"
                        | "don"
                        | "doesn"
                        | "didn"
                        | "won"
                        | "shouldn"
                )
            });
            let by_user = before.windows(2).any(|pair| {
                matches!(pair[0].as_str(), "i" | "we")
                    && matches!(
                        pair[1].as_str(),
                        "ll" | "will" | "shall" | "going" | "am" | "are"
                    )
            }) && !before
                .iter()
                .any(|w| matches!(w.as_str(), "want" | "like" | "need" | "you" | "would"));
            let stem = stem(word);
            if negated || by_user {
                declined.insert(stem);
            } else {
                plain.insert(stem);
            }
        }
    }
    declined.retain(|s| !plain.contains(s));
    declined
}

/// Month and day of an ISO date or date-time text.
fn iso_month_day(text: &str) -> Option<(u32, u32)> {
    let date = provenance::normalise_date(text.trim())?;
    let m = date.get(5..7)?.parse().ok()?;
    let d = date.get(8..10)?.parse().ok()?;
    Some((m, d))
}

/// Where one key argument's value came from; for a list, the weakest element.
fn trace_value(
    proposal: &Proposal<'_>,
    mission: &MissionProfile,
    role: SlotRole,
    value: &Value,
    absorbed: &[String],
) -> Origin {
    let mut weakest = Origin::Mission;
    for text in leaf_texts(value) {
        let origin = trace_text(proposal, mission, role, &text, absorbed);
        if rank(origin) > rank(weakest) {
            weakest = origin;
        }
    }
    weakest
}

fn rank(origin: Origin) -> u8 {
    match origin {
        Origin::Mission => 0,
        Origin::UserData => 1,
        Origin::ThirdPartyRecord => 2,
        Origin::History => 3,
        Origin::Unknown => 4,
        Origin::ThirdPartyText => 5,
    }
}

fn trace_text(
    proposal: &Proposal<'_>,
    mission: &MissionProfile,
    role: SlotRole,
    text: &str,
    absorbed: &[String],
) -> Origin {
    let trimmed = text.trim();

    // Stated by the mission?
    let stated = match role {
        // A recipient is an address, or an account money goes to.
        SlotRole::Recipient => match provenance::normalise_email(trimmed) {
            Some(email) => mission.emails.contains(&email),
            None => mission.states_account(trimmed) || mission.states(trimmed),
        },
        SlotRole::Account | SlotRole::Url => {
            mission.states_account(trimmed)
                || provenance::normalise_url(trimmed)
                    .is_some_and(|u| mission.identifiers.contains(&u))
        }
        SlotRole::Amount => trimmed
            .trim_start_matches(['$', '€', '£'])
            .parse::<f64>()
            .is_ok_and(|n| mission.numbers.contains(&provenance::normalise_amount(n))),
        SlotRole::Label => {
            // A label is grounded when a mission template produces it, or when
            // every name in it is one the mission states.
            mission.template_fill(trimmed).is_some()
                || provenance::proper_noun_runs(trimmed).iter().all(|name| {
                    mission.states(name)
                        || mission.covers(name)
                        || absorbed.contains(&normalise(name))
                })
        }
        _ => {
            mission.states(trimmed)
                || mission.covers(trimmed)
                || absorbed.contains(&normalise(trimmed))
        }
    };
    if stated {
        return Origin::Mission;
    }

    // Seen in what the mission observed?
    if let Some(ledger) = proposal.provenance {
        let fingerprinter = ledger.fingerprinter();
        let mut best: Option<Origin> = None;
        for (kind, fingerprint) in
            fingerprinter.argument_fingerprints(&Value::String(trimmed.to_owned()))
        {
            // Only whole-value names count for names; a stray word inside a
            // sentence is no evidence about the value as a whole.
            if kind == ValueKind::Name && normalise(trimmed) != normalise_kind_name(trimmed) {
                continue;
            }
            if let Some(s) = ledger.sightings(&fingerprint) {
                let origin = if s.user > 0 {
                    Origin::UserData
                } else if s.third_party_structured > 0 {
                    Origin::ThirdPartyRecord
                } else {
                    Origin::ThirdPartyText
                };
                if best.is_none_or(|b| rank(origin) < rank(b)) {
                    best = Some(origin);
                }
            }
        }
        if let Some(origin) = best {
            return origin;
        }
    }

    // Used by an earlier call of the mission?
    let needle = normalise(trimmed);
    if !needle.is_empty()
        && proposal
            .history
            .iter()
            .any(|past| contains_phrase(&normalise(&past.summary), &needle))
    {
        return Origin::History;
    }
    Origin::Unknown
}

fn normalise_kind_name(text: &str) -> String {
    normalise(text)
}

/// Whether scopes rule the operation out. Scopes follow the common
/// `service.level` / `service:level` shape (`gmail.readonly`, `files:write`);
/// a token whose every scope is read-only may not change anything.
fn scope_denied(scopes: &[String], operation: Operation, tool: &str) -> bool {
    if scopes.is_empty() || !operation.changes_state() {
        return false;
    }
    let tool_words = words(tool);
    let read_only = |scope: &str| {
        let level = scope
            .rsplit(['.', ':', '/'])
            .next()
            .unwrap_or(scope)
            .to_ascii_lowercase();
        matches!(
            level.as_str(),
            "readonly" | "read" | "read_only" | "view" | "viewer" | "get" | "list"
        )
    };
    // A scope naming a different service does not grant this tool anything,
    // but scopes name services inconsistently, so only read-only-ness is enforced.
    let _ = tool_words;
    scopes.iter().all(|s| read_only(s))
}

/// Content words of the proposal's action: tool name, description, argument
/// names and values. Used by the lexical scorer and the judge prompt.
pub fn action_text(proposal: &Proposal<'_>) -> String {
    // Kept short on purpose: MiniLM's cost grows with every token and what
    // the call is about shows in its first words. The judge sees everything.
    const DESCRIPTION_CHARS: usize = 120;
    const ARGUMENT_CHARS: usize = 80;
    const TOTAL_CHARS: usize = 320;

    let mut text = words(proposal.tool).join(" ");
    if let Some(description) = proposal.description {
        text.push_str(". ");
        text.extend(description.chars().take(DESCRIPTION_CHARS));
    }
    for (name, value) in arg_entries(proposal.args) {
        text.push_str(". ");
        text.push_str(&name.replace('_', " "));
        text.push_str(": ");
        text.extend(leaf_texts(value).join(", ").chars().take(ARGUMENT_CHARS));
    }
    text.chars().take(TOTAL_CHARS).collect()
}

/// Content stems of the action, for overlap scoring.
pub fn action_stems(proposal: &Proposal<'_>) -> Vec<String> {
    content_stems(&action_text(proposal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intent::types::ToolAnnotations;
    use serde_json::json;

    #[test]
    fn mission_dates_and_templates() {
        let m = MissionProfile::new(
            "Add an event called 'Booking hotel {hotel_name}' on April 25th 2024, \
             stay from the 1st of January to the 5th of January, email jane@x.com",
        );
        assert!(m.dates.contains(&(4, 25)));
        assert!(m.dates.contains(&(1, 1)));
        assert!(m.dates.contains(&(1, 5)));
        assert!(date_stated(&m.dates, (1, 3)));
        assert!(!date_stated(&m.dates, (5, 1)));
        assert!(m.emails.contains("jane@x.com"));
        assert_eq!(
            m.template_fill("Booking hotel Grand Stay"),
            Some(vec!["grand stay".to_owned()])
        );
        assert_eq!(m.template_fill("Booking a room at Grand Stay"), None);
    }

    #[test]
    fn may_the_verb_is_not_a_date() {
        let m = MissionProfile::new("You may book anything");
        assert!(m.dates.is_empty());
    }

    #[test]
    fn operations_are_inferred_from_names_and_arguments() {
        let args = json!({"recipients": ["a@b.com"], "body": "hi"});
        let p = Proposal::new("m", "send_email", &args);
        assert_eq!(ToolProfile::new(&p).operation, Operation::Send);

        let args = json!({"recipient": "GB29NWBK60161331926819", "amount": 10});
        let p = Proposal::new("m", "send_money", &args);
        assert_eq!(ToolProfile::new(&p).operation, Operation::Pay);

        let args = json!({"city": "Paris"});
        let p = Proposal::new("m", "get_all_hotels_in_city", &args);
        assert_eq!(ToolProfile::new(&p).operation, Operation::Read);

        let args = json!({"path": "/tmp/x"});
        let p = Proposal::new("m", "delete_file", &args);
        assert_eq!(ToolProfile::new(&p).operation, Operation::Delete);
    }

    #[test]
    fn requested_needs_kind_and_object() {
        let args = json!({"hotel": "X"});
        let p = Proposal::new("m", "reserve_hotel", &args);
        let tool = ToolProfile::new(&p);
        assert!(tool.requested_by(&MissionProfile::new("Please book me a hotel in Rome")));
        assert!(!tool.requested_by(&MissionProfile::new("Remind me to book a table for dinner")));
        assert!(!tool.requested_by(&MissionProfile::new("Find the best hotel in Rome")));
    }

    #[test]
    fn declined_verbs_ask_for_nothing() {
        let args = json!({"hotel": "X"});
        let p = Proposal::new("m", "reserve_hotel", &args);
        let tool = ToolProfile::new(&p);
        for declined in [
            "Compare hotel prices in Rome. I'll book a room myself later.",
            "Check the hotel reviews in Rome, but don't book anything yet.",
            "List hotels in Rome; no need to book a room.",
            "We will book the hotel ourselves; just find the address.",
        ] {
            assert!(
                !tool.requested_by(&MissionProfile::new(declined)),
                "{declined}"
            );
        }
        for asked in [
            "I want to book a hotel in Rome for three nights.",
            "I'd like you to book the cheapest hotel in Rome.",
            "Don't pick anything above $200. Book the best rated hotel in Rome.",
        ] {
            assert!(tool.requested_by(&MissionProfile::new(asked)), "{asked}");
        }
    }

    #[test]
    fn sensitive_classes_from_paths_and_values() {
        assert!(sensitive_classes("/secrets/api_keys.txt").contains(&SensitiveClass::Credentials));
        assert!(
            sensitive_classes("/home/banking/statements.pdf").contains(&SensitiveClass::Financial)
        );
        assert!(
            sensitive_classes("card 4237-4252-7456-2574").contains(&SensitiveClass::Financial)
                || !luhn(&[4])
        );
        assert!(sensitive_classes("passport_number: X").contains(&SensitiveClass::Identity));
        assert!(sensitive_classes("notes/meeting-2024.md").is_empty());
    }

    #[test]
    fn ibans_written_in_groups_are_identifiers() {
        let m = MissionProfile::new("Pay €84.20 to IBAN DE44 5001 0517 5407 3249 31, thanks.");
        assert!(m.identifiers.contains("DE44500105175407324931"));
        assert!(
            m.sensitive.contains(&SensitiveClass::Financial),
            "a payment needs financial data"
        );
    }

    #[test]
    fn owner_data_is_a_pattern_not_a_list() {
        for personal in [
            "get customer details",
            "list my personal data",
            "account profile",
        ] {
            assert!(
                sensitive_classes(personal).contains(&SensitiveClass::Personal),
                "{personal}"
            );
        }
        assert!(
            !sensitive_classes("get weather data for Oslo").contains(&SensitiveClass::Personal)
        );
    }

    #[test]
    fn paid_reads_and_downloads_are_reads_first() {
        let paid = ToolAnnotations {
            spend_usd: Some(150.0),
            ..ToolAnnotations::default()
        };
        let writes = ToolAnnotations::default();
        let args = json!({"query": "claim construction", "url": "https://courts.example/x"});
        let mission = MissionProfile::new("Gather the filings and case law for the appeal");

        let mut query = Proposal::new("", "query_case_law", &args);
        query.annotations = Some(&paid);
        let query = ToolProfile::new(&query);
        assert_eq!(query.operation, Operation::Pay);
        assert!(
            query.requested_by(&mission),
            "the mission asks for case law"
        );
        assert!(!query.requested_by(&MissionProfile::new("Summarise the filings")));

        let mut download = Proposal::new("", "download_document", &args);
        download.annotations = Some(&writes);
        let facts = Facts::gather(&Proposal {
            mission: "Gather the filings and case law for the appeal",
            ..download
        });
        assert!(facts.requested);
        assert!(
            facts.slots.iter().all(|s| s.role != SlotRole::Url),
            "a download's URL is its source, not a destination"
        );
    }

    #[test]
    fn addressees_are_not_objects() {
        let args = json!({"member": "Bob", "text": "the summary"});
        let tool = ToolProfile::new(&Proposal::new("", "message_member", &args));
        assert!(tool.requested_by(&MissionProfile::new(
            "Read the article and DM Bob a summary"
        )));
        let args = json!({"iban": "DE44500105175407324931", "amount": 84.2});
        let tool = ToolProfile::new(&Proposal::new("", "transfer_to_account", &args));
        assert!(tool.requested_by(&MissionProfile::new("Please pay my electricity bill")));
    }

    #[test]
    fn slot_roles() {
        assert_eq!(slot_role("recipients", &json!([])), SlotRole::Recipient);
        assert_eq!(slot_role("hotel", &json!("x")), SlotRole::Target);
        assert_eq!(slot_role("start_day", &json!("x")), SlotRole::Time);
        assert_eq!(slot_role("check_in", &json!("x")), SlotRole::Time);
        assert_eq!(slot_role("flight", &json!("x")), SlotRole::Target);
        assert_eq!(slot_role("table_id", &json!("x")), SlotRole::Target);
        assert_eq!(slot_role("company", &json!("x")), SlotRole::Target);
        assert_eq!(slot_role("subject", &json!("x")), SlotRole::Label);
        assert_eq!(slot_role("misc", &json!("a@b.com")), SlotRole::Recipient);
    }
}
