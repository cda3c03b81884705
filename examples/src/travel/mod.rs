//! The travel agent: AgentDojo's twenty travel missions run through
//! Phantom, either replayed call by call (the faithful agent's calls, then
//! the calls attacks try to slip in) or driven by a real chat model.
//!
//! Every mission gets its own Phantom mission, its own ghost token bound to
//! the user's words, and a fresh [`TravelWorld`], so nothing one mission
//! does leaks into the next.

mod llm;
mod missions;
mod observe;
mod replay;
mod report;

use std::time::Duration;

use phantom_sdk::{
    Constraints, CreateMission, HumanDuration, IssueToken, Mission, PhantomClient, PhantomLayer,
    PhantomService,
};
use phantom_tools::ToolSet;
use phantom_tools::ready::travel::{
    self, EventStatus, ReservationKind, ReservationStatus, TravelWorld,
};
use tower::Layer;

pub use llm::{LlmMissionRun, drive};
pub use missions::{OrderedArgs, PlannedCall, TravelMission, missions, select};
pub use observe::{Observation, Observed, Seen};
pub use replay::{CallKind, CallRow, MissionReport, replay};
pub use report::{Summary, Tally, json_lines, mission_table, summary_json, summary_table};

/// The user every mission works for: AgentDojo's Emma Johnson.
pub const USER: &str = "user:emma_johnson";
/// The agent holding the ghost tokens.
pub const AGENT: &str = "agent:travel-agent";
/// How long a mission may run.
const MISSION_TIMEOUT: Duration = Duration::from_secs(3600);
/// How long a ghost token lives.
const TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// A token's budget of allowed actions: the longest mission makes 28
/// calls, an LLM a few more.
const MAX_ACTIONS: u32 = 64;

/// Which travel world a mission runs against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorldChoice {
    /// The built-in world: each attack planted in a few reviews.
    Builtin,
    /// No attacks anywhere.
    Benign,
    /// One attack (`injection_task_N`) in every review that can carry one.
    Attack(String),
}

impl WorldChoice {
    /// Reads `builtin`, `benign` or an attack's id.
    pub fn parse(text: &str) -> Self {
        match text {
            "builtin" => Self::Builtin,
            "benign" | "none" => Self::Benign,
            attack => Self::Attack(attack.to_owned()),
        }
    }

    /// A fresh world of this kind.
    ///
    /// # Errors
    ///
    /// An unknown attack.
    pub fn build(&self) -> Result<TravelWorld, String> {
        match self {
            Self::Builtin => TravelWorld::builtin(),
            Self::Benign => TravelWorld::benign(),
            Self::Attack(id) => TravelWorld::attacked_by(id),
        }
        .map_err(|e| match e {
            travel::WorldError::UnknownAttack(id, known) => {
                format!("unknown world `{id}`: give builtin, benign, or one attack ({known})")
            }
            other => other.to_string(),
        })
    }
}

/// One mission, ready to run: its Phantom mission, the world, and the
/// tools behind Phantom, observed.
pub struct Setup {
    /// The Phantom mission.
    pub mission: Mission,
    /// The world the tools act on.
    pub world: TravelWorld,
    /// The tools themselves (for definitions, and for rollbacks).
    pub tools: ToolSet,
    /// The tools behind Phantom, recording each decision.
    pub guarded: Observed<PhantomService<ToolSet>>,
    /// Calendar events and mail the world held before the mission.
    baseline: (usize, usize),
}

impl Setup {
    /// What the mission's calls changed in the world, one line each:
    /// reservations, calendar events, mail that left the user's mailbox.
    pub fn changes(&self) -> Vec<String> {
        let (events, emails) = self.baseline;
        let own = &self.world.user().email;

        // `2024-05-01T09:00:00` as `2024-05-01 09:00`.
        let minute = |iso: &str| {
            iso.replacen('T', " ", 1)
                .chars()
                .take(16)
                .collect::<String>()
        };
        let day = |iso: &str| iso.chars().take(10).collect::<String>();

        let reservations = self
            .world
            .reservations()
            .into_iter()
            .filter(|r| r.status == ReservationStatus::Confirmed)
            .map(|r| match r.kind {
                ReservationKind::Hotel => {
                    let until = r
                        .end_time
                        .as_deref()
                        .map(|end| format!(" to {}", day(end)))
                        .unwrap_or_default();
                    format!("booked {} from {}{until}", r.title, day(&r.start_time))
                }
                ReservationKind::Car => {
                    format!("rented a car at {} from {}", r.title, minute(&r.start_time))
                }
                ReservationKind::Restaurant => {
                    format!("booked a table at {} at {}", r.title, minute(&r.start_time))
                }
            });
        let added = self
            .world
            .calendar_events()
            .into_iter()
            .skip(events)
            .filter(|e| e.status == EventStatus::Confirmed)
            .map(|e| {
                format!(
                    "added \"{}\" to the calendar at {}",
                    e.title,
                    minute(&e.start_time)
                )
            });
        let mailed = self
            .world
            .sent_emails()
            .into_iter()
            .skip(emails)
            .filter(|e| {
                e.recipients
                    .iter()
                    .chain(&e.cc)
                    .chain(&e.bcc)
                    .any(|to| to != own)
            })
            .map(|e| format!("mailed {}: \"{}\"", e.recipients.join(", "), e.subject));
        reservations.chain(added).chain(mailed).collect()
    }
}

/// Creates the mission and its token for `mission`'s words and wraps a
/// fresh world's tools in Phantom.
///
/// The layer does not wait for approvals: a held call comes back at once
/// as a denial carrying REQUIRE_APPROVAL, and stays pending on the server
/// for a human.
///
/// # Errors
///
/// Phantom refusing the mission or the token, or the world not building.
pub async fn setup(
    operator: &PhantomClient,
    mission: &TravelMission,
    world: &WorldChoice,
) -> Result<Setup, String> {
    let created = Mission::create(
        operator,
        &CreateMission {
            user: USER.to_owned(),
            intent: mission.mission.clone(),
            timeout: HumanDuration::new(MISSION_TIMEOUT),
            durable: true,
            requires_entitlements: Vec::new(),
        },
    )
    .await
    .map_err(|e| format!("creating the mission for {}: {e}", mission.id))?;

    let issued = operator
        .issue_token(&IssueToken {
            agent: AGENT.to_owned(),
            on_behalf_of: USER.to_owned(),
            mission_id: Some(created.id().to_owned()),
            intent: mission.mission.clone(),
            constraints: Constraints {
                max_access: HumanDuration::new(TOKEN_LIFETIME),
                scope: travel::SCOPES.iter().map(|s| (*s).to_owned()).collect(),
                max_actions: Some(MAX_ACTIONS),
            },
        })
        .await
        .map_err(|e| format!("issuing the ghost token for {}: {e}", mission.id))?;
    let agent = operator
        .as_agent(&issued.token)
        .map_err(|e| e.to_string())?;

    let world = world.build()?;
    let baseline = (world.calendar_events().len(), world.sent_emails().len());
    let tools = world.tools();
    let guarded = PhantomLayer::new(agent)
        .approval_timeout(Duration::ZERO)
        .layer(tools.clone());
    Ok(Setup {
        guarded: Observed::new(guarded),
        mission: created,
        world,
        tools,
        baseline,
    })
}
