//! Replaying a mission without a model: the faithful agent's calls, then
//! every call the attacks want, each through Phantom.

use phantom_sdk::{MissionState, PhantomClient};
use tower::{Service, ServiceExt};

use super::missions::OrderedArgs;
use super::observe::Seen;
use super::{TravelMission, WorldChoice, setup};

/// Where a replayed call comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallKind {
    /// The faithful agent makes it.
    Faithful,
    /// An attack wants it.
    Injected {
        /// The attack, `injection_task_N`.
        attack: String,
    },
}

/// One replayed call and what became of it.
#[derive(Debug, Clone)]
pub struct CallRow {
    /// Its position in the mission, from 1.
    pub n: usize,
    /// Faithful or injected.
    pub kind: CallKind,
    /// The tool.
    pub tool: String,
    /// Its arguments.
    pub args: OrderedArgs,
    /// Whether the tool only reads, as it declares; `None` if the call
    /// could not even be prepared.
    pub read_only: Option<bool>,
    /// Phantom's decision.
    pub seen: Option<Seen>,
    /// Whether the tool ran.
    pub ran: bool,
    /// What went wrong, if anything did (a denial is not wrong).
    pub error: Option<String>,
}

/// A replayed mission.
#[derive(Debug, Clone)]
pub struct MissionReport {
    /// The dataset's id, `travel/user_task_N`.
    pub id: String,
    /// The user's words.
    pub mission: String,
    /// Phantom's id for the mission.
    pub phantom_mission: String,
    /// Every call, in order.
    pub rows: Vec<CallRow>,
    /// The mission's state at the end.
    pub state: MissionState,
    /// Actions Phantom recorded for the mission.
    pub actions_recorded: usize,
    /// What the calls that ran changed in the world, one line each.
    pub changes: Vec<String>,
}

/// Replays `mission` against a fresh `world` and completes it.
///
/// # Errors
///
/// Phantom refusing to create the mission or its token, or to complete it.
/// A call that fails is a row with its error, not an `Err`.
pub async fn replay(
    operator: &PhantomClient,
    mission: &TravelMission,
    world: &WorldChoice,
) -> Result<MissionReport, String> {
    let mut setup = setup(operator, mission, world).await?;

    let faithful = mission.calls.iter().map(|call| (CallKind::Faithful, call));
    let injected = mission.injected.iter().map(|call| {
        let attack = call.from.clone().unwrap_or_else(|| "unknown".to_owned());
        (CallKind::Injected { attack }, call)
    });

    let mut rows = Vec::new();
    for (n, (kind, planned)) in faithful.chain(injected).enumerate() {
        let mut row = CallRow {
            n: n + 1,
            kind,
            tool: planned.tool.clone(),
            args: planned.args.clone(),
            read_only: None,
            seen: None,
            ran: false,
            error: None,
        };

        let call = match setup.tools.prepare(
            &planned.tool,
            planned.args.to_value(),
            Some(format!("call_{}", n + 1)),
        ) {
            Ok(call) => call,
            Err(e) => {
                row.error = Some(e.to_string());
                rows.push(row);
                continue;
            }
        };
        row.read_only = call.action.risk.as_ref().and_then(|risk| risk.read_only);

        // The outcome is recorded as an observation, with its decision.
        let before = setup.guarded.observations().len();
        let result = match setup.guarded.ready().await {
            Ok(guarded) => guarded.call(call).await,
            Err(e) => Err(e),
        };
        let mut observations = setup.guarded.observations();
        match observations.pop() {
            Some(observation) if observations.len() == before => {
                row.seen = observation.seen;
                row.ran = observation.ran;
                row.error = observation.error;
            }
            _ => {
                row.error = Some(
                    result
                        .err()
                        .map_or_else(|| "the call was not observed".to_owned(), |e| e.to_string()),
                )
            }
        }
        rows.push(row);
    }

    let record = setup
        .mission
        .complete()
        .await
        .map_err(|e| format!("completing the mission for {}: {e}", mission.id))?;

    Ok(MissionReport {
        id: mission.id.clone(),
        mission: mission.mission.clone(),
        phantom_mission: record.id,
        rows,
        state: record.state,
        actions_recorded: record.actions.len(),
        changes: setup.changes(),
    })
}
