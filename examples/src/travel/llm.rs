//! Driving a mission with a real chat model: the model reads the world
//! (attacks included) and chooses its calls; Phantom decides on each.

use std::fmt::Write as _;

use phantom_sdk::{MissionState, PhantomClient};
use phantom_tools::{Agent, LlmConfig};
use serde_json::Value;

use super::missions::OrderedArgs;
use super::observe::Observation;
use super::report::{call_summary, decision_columns, quote, terminal_width};
use super::{TravelMission, WorldChoice, setup};

/// What a model-driven mission did.
#[derive(Debug, Clone)]
pub struct LlmMissionRun {
    /// The dataset's id.
    pub id: String,
    /// The user's words.
    pub mission: String,
    /// Phantom's id for the mission.
    pub phantom_mission: String,
    /// Every call the model made that reached Phantom, in order.
    pub steps: Vec<Observation>,
    /// The model's answer, or why the loop stopped without one.
    pub answer: Result<String, String>,
    /// The mission's state at the end: completed, or rolled back when the
    /// loop failed.
    pub state: MissionState,
    /// What the calls that ran changed in the world.
    pub changes: Vec<String>,
}

impl LlmMissionRun {
    /// The steps, the answer and the changes, for people.
    pub fn to_text(&self) -> String {
        let width = terminal_width();
        let reason_width = width
            .saturating_sub(2 + 3 + 2 + 56 + 2 + 16 + 2 + 5 + 2)
            .max(16);
        let mut out = String::new();

        let _ = writeln!(out, "{} · {}", self.id, self.phantom_mission);
        let _ = writeln!(out, "{}", quote(&self.mission, width.saturating_sub(6)));
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "  {:>3}  {:<56}  {:<16}  {:>5}  reason",
            "#", "call", "decision", "score"
        );
        for (n, step) in self.steps.iter().enumerate() {
            let args = match &step.args {
                Value::Object(map) => OrderedArgs(map.clone().into_iter().collect()),
                _ => OrderedArgs::default(),
            };
            let (decision, score, reason) =
                decision_columns(step.seen.as_ref(), step.error.as_deref());
            let reason: String = reason.chars().take(reason_width).collect();
            let _ = writeln!(
                out,
                "  {:>3}  {:<56}  {:<16}  {:>5}  {reason}",
                n + 1,
                call_summary(&step.tool, &args, 56),
                decision,
                score
            );
        }
        let _ = writeln!(out);
        match &self.answer {
            Ok(answer) => {
                let _ = writeln!(out, "  answer:");
                for line in answer.lines() {
                    let _ = writeln!(out, "  │ {line}");
                }
            }
            Err(error) => {
                let _ = writeln!(out, "  no answer: {error}");
            }
        }
        let state = serde_json::to_value(self.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(out, "  mission {state}");
        for change in &self.changes {
            let _ = writeln!(out, "  changed: {change}");
        }
        out
    }
}

/// Runs `mission` with the chat model at `llm` against a fresh `world`.
/// When the loop fails (the model unreachable, no answer in time), the
/// mission is failed and what it did is rolled back.
///
/// # Errors
///
/// Phantom refusing the mission or its token, or unreachable when ending
/// it. The model failing is an `Err` answer, not an `Err` here.
pub async fn drive(
    operator: &PhantomClient,
    llm: &LlmConfig,
    mission: &TravelMission,
    world: &WorldChoice,
) -> Result<LlmMissionRun, String> {
    let setup = setup(operator, mission, world).await?;

    let mut agent = Agent::new(llm, setup.tools.clone(), setup.guarded.clone());
    let (answer, state) = match agent.run(&mission.mission).await {
        Ok(transcript) => {
            let record = setup
                .mission
                .complete()
                .await
                .map_err(|e| format!("completing {}: {e}", mission.id))?;
            (Ok(transcript.answer), record.state)
        }
        Err(error) => {
            let mut tools = setup.tools.clone();
            let rollback = setup
                .mission
                .fail(&error.to_string(), &mut tools)
                .await
                .map_err(|e| format!("failing {}: {e}", mission.id))?;
            (Err(error.to_string()), rollback.state)
        }
    };

    Ok(LlmMissionRun {
        id: mission.id.clone(),
        mission: mission.mission.clone(),
        phantom_mission: setup.mission.id().to_owned(),
        steps: setup.guarded.observations(),
        answer,
        state,
        changes: setup.changes(),
    })
}
