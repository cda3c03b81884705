//! The engine's vocabulary: what it is asked, and what it answers.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use phantom_sdk::provenance::ProvenanceLedger;

/// One tool call an agent proposes, with everything known about its mission.
#[derive(Debug, Clone, Copy)]
pub struct Proposal<'a> {
    /// The intent the user stated for the mission.
    pub mission: &'a str,
    /// The tool the agent wants to call.
    pub tool: &'a str,
    /// The tool's description, if the agent declared it.
    pub description: Option<&'a str>,
    /// The call's arguments.
    pub args: &'a serde_json::Value,
    /// What the tool declares about itself; inferred from names when `None`.
    pub annotations: Option<&'a ToolAnnotations>,
    /// The ghost token's scopes (may be empty: no scope restriction known).
    pub scopes: &'a [String],
    /// The mission's recent actions, oldest first.
    pub history: &'a [PastAction],
    /// What the mission has seen so far, fingerprinted.
    pub provenance: Option<&'a ProvenanceLedger>,
}

impl<'a> Proposal<'a> {
    /// A proposal with only a mission, a tool and arguments.
    pub fn new(mission: &'a str, tool: &'a str, args: &'a serde_json::Value) -> Self {
        Self {
            mission,
            tool,
            description: None,
            args,
            annotations: None,
            scopes: &[],
            history: &[],
            provenance: None,
        }
    }
}

/// What a tool declares about its own effects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolAnnotations {
    /// The tool only reads.
    #[serde(default)]
    pub read_only: bool,
    /// The tool deletes or overwrites something that cannot be restored.
    #[serde(default)]
    pub destructive: bool,
    /// The tool sends data outside the user's own systems.
    #[serde(default)]
    pub egress: bool,
    /// Money the call spends, in US dollars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spend_usd: Option<f64>,
}

/// An action the mission already took, as context for the next one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastAction {
    /// The tool that was called.
    pub tool: String,
    /// A short summary of its arguments.
    pub summary: String,
}

/// The engine's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// The call serves the mission.
    Allow,
    /// The call does not serve the mission, or is too dangerous to let through.
    Block,
    /// A human must decide first.
    RequireApproval,
}

impl Verdict {
    /// The wire spelling: `ALLOW`, `BLOCK` or `REQUIRE_APPROVAL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "ALLOW",
            Verdict::Block => "BLOCK",
            Verdict::RequireApproval => "REQUIRE_APPROVAL",
        }
    }

    /// How far the verdict is from letting the call through (allow < hold < block).
    pub(crate) fn severity(self) -> u8 {
        match self {
            Verdict::Allow => 0,
            Verdict::RequireApproval => 1,
            Verdict::Block => 2,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The tier whose evidence settled the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Scopes, risk, sensitive resources, grounding, provenance, Cedar rules.
    Policy,
    /// Embedding relevance combined with the policy evidence.
    Semantic,
    /// The LLM judge.
    Judge,
}

impl Tier {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Policy => "policy",
            Tier::Semantic => "semantic",
            Tier::Judge => "judge",
        }
    }
}

/// The assessment of one proposed call.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Assessment {
    /// Calibrated probability, 0 to 1, that the call serves the mission.
    pub alignment_score: f64,
    /// What to do with the call.
    pub verdict: Verdict,
    /// The tier that decided.
    pub tier: Tier,
    /// One sentence a person understands.
    pub reason: String,
    /// Time spent deciding.
    #[serde(rename = "latency_ms", with = "duration_ms")]
    pub latency: Duration,
    /// The evidence, in the order it was gathered.
    pub signals: Vec<Signal>,
}

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(value.as_secs_f64() * 1000.0)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let ms = f64::deserialize(deserializer)?;
        Ok(Duration::from_secs_f64(ms.max(0.0) / 1000.0))
    }
}

/// What a call does to the world, from harmless to irreversible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Reads and changes nothing.
    Read,
    /// Creates or changes something the user owns.
    Write,
    /// Deletes, cancels or overwrites.
    Delete,
    /// Sends or shares data outside the user's own systems.
    Send,
    /// Spends money.
    Pay,
}

impl Operation {
    /// The lower-case name, as in JSON and in the Cedar context.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Write => "write",
            Operation::Delete => "delete",
            Operation::Send => "send",
            Operation::Pay => "pay",
        }
    }

    /// Whether the call changes state or lets data out.
    pub fn changes_state(self) -> bool {
        self != Operation::Read
    }
}

/// Resource classes that need a reason to be touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensitiveClass {
    /// Passwords, keys, tokens, private keys.
    Credentials,
    /// Bank accounts, cards, statements, transactions.
    Financial,
    /// Medical and health records.
    Health,
    /// Passports, ID and social-security numbers.
    Identity,
    /// Personal details: the user's profile, contacts, home address.
    Personal,
}

impl SensitiveClass {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            SensitiveClass::Credentials => "credentials",
            SensitiveClass::Financial => "financial",
            SensitiveClass::Health => "health",
            SensitiveClass::Identity => "identity",
            SensitiveClass::Personal => "personal",
        }
    }
}

/// The role an argument plays in a call, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotRole {
    /// Who receives something: `to`, `recipients`, `participants`.
    Recipient,
    /// An account, IBAN or card to pay or be paid.
    Account,
    /// A URL or endpoint data goes to or comes from.
    Url,
    /// A sum of money.
    Amount,
    /// The object acted upon: the hotel booked, the file deleted.
    Target,
    /// A short label: a title or subject.
    Label,
    /// Free-form content: a body, a description.
    Content,
    /// A date or time.
    Time,
    /// Anything else.
    Other,
}

impl SlotRole {
    /// Roles where a value planted by someone else redirects money, data or
    /// people: these are traced most strictly.
    pub fn is_sensitive(self) -> bool {
        matches!(
            self,
            SlotRole::Recipient | SlotRole::Account | SlotRole::Url | SlotRole::Amount
        )
    }
}

/// Where an argument value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The mission's own words state it (or a template in them produces it).
    Mission,
    /// An earlier call of this mission used it.
    History,
    /// The user's own data supplied it.
    UserData,
    /// A structured third-party record supplied it (a listing's field).
    ThirdPartyRecord,
    /// Only free text written by someone else supplied it.
    ThirdPartyText,
    /// Nothing the engine knows of supplied it.
    Unknown,
}

/// One piece of evidence behind an assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "signal", rename_all = "snake_case")]
pub enum Signal {
    /// The operation's risk class, declared or inferred.
    Operation {
        /// The class.
        operation: Operation,
        /// True when inferred from names rather than declared.
        inferred: bool,
    },
    /// The token's scopes do not cover the operation.
    ScopeDenied {
        /// The scopes held.
        scopes: Vec<String>,
    },
    /// The call touches a sensitive resource class.
    SensitiveResource {
        /// The class.
        class: SensitiveClass,
        /// Where it was seen: `tool`, `description` or an argument name.
        location: String,
        /// Whether the mission itself is about that class.
        needed: bool,
    },
    /// Sensitive data would leave through an outbound call.
    SensitiveEgress {
        /// The class.
        class: SensitiveClass,
        /// The argument carrying it.
        argument: String,
    },
    /// Whether the mission asks for this kind of change.
    Requested {
        /// True when the mission asks for it.
        requested: bool,
        /// The kind of change, in words.
        kind: String,
    },
    /// Where a key argument came from.
    Grounding {
        /// The argument's name.
        argument: String,
        /// Its role.
        role: SlotRole,
        /// Where it came from.
        origin: Origin,
    },
    /// A date in the call matches none the mission states.
    DateMismatch {
        /// The argument's name.
        argument: String,
    },
    /// Money is spent.
    Spend {
        /// The amount in US dollars.
        usd: f64,
        /// Whether it exceeds the approval threshold.
        over_threshold: bool,
    },
    /// A policy rule matched.
    Rule {
        /// The rule's id.
        id: String,
        /// What it asks for.
        verdict: Verdict,
    },
    /// Similarity in meaning between the mission and the call.
    Similarity {
        /// Raw cosine similarity.
        cosine: f64,
        /// Which embedder computed it.
        embedder: String,
    },
    /// The calibrated score.
    Score {
        /// Probability of alignment.
        probability: f64,
    },
    /// The LLM judge answered.
    Judge {
        /// Its verdict on alignment.
        aligned: bool,
        /// Its confidence, 0 to 1.
        confidence: f64,
        /// Whether the answer came from the cache.
        cached: bool,
    },
    /// A tier could not run and the engine fell back.
    Fallback {
        /// The tier that failed.
        tier: Tier,
        /// Why, in words.
        reason: String,
    },
}
