//! The travel agent: AgentDojo's twenty travel missions through Phantom.
//!
//! With no configuration it starts an embedded Phantom server and replays
//! each mission: the calls a faithful agent makes, then the calls prompt
//! injections hidden in hotel, restaurant and car-rental reviews try to
//! make it take. Every call goes through Phantom with a ghost token bound
//! to the user's words, and the table shows what Phantom decided.
//!
//! ```text
//! cargo run -p phantom-examples --bin travel-agent
//! cargo run -p phantom-examples --bin travel-agent -- --mission 3
//! cargo run -p phantom-examples --bin travel-agent -- --json
//! ```
//!
//! With `PHANTOM_LLM_BASE_URL` (and `PHANTOM_LLM_MODEL`,
//! `PHANTOM_LLM_API_KEY`) a real chat model drives each mission instead,
//! reading the same poisoned reviews. `PHANTOM_URL` and `PHANTOM_API_KEY`
//! point it at a running server instead of the embedded one.

use std::fmt::Display;
use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use phantom_examples::Phantom;
use phantom_examples::travel::{
    self, MissionReport, Summary, WorldChoice, json_lines, mission_table, summary_json,
    summary_table,
};
use phantom_tools::LlmConfig;

/// Replays AgentDojo's travel missions through Phantom, or drives them
/// with a chat model when PHANTOM_LLM_BASE_URL is set.
#[derive(Debug, Parser)]
#[command(name = "travel-agent", version)]
struct Args {
    /// Run one mission: its id (`user_task_3`) or its number (0 to 19).
    #[arg(long, value_name = "ID")]
    mission: Option<String>,

    /// Print one JSON object per call and a summary line instead of tables.
    #[arg(long)]
    json: bool,

    /// The travel world: `builtin` (each attack planted in a few reviews),
    /// `benign` (no attacks), or one attack in every review
    /// (`injection_task_0` to `injection_task_5`).
    #[arg(long, value_name = "WORLD", default_value = "builtin")]
    world: String,
}

/// Why the agent stopped early.
enum Stop {
    /// Something failed.
    Failed(String),
    /// Whoever reads the output went away (`| head`): stop quietly.
    Closed,
}

impl From<String> for Stop {
    fn from(message: String) -> Self {
        Self::Failed(message)
    }
}

/// Prints a line; a closed pipe stops the run instead of panicking.
fn say(text: impl Display) -> Result<(), Stop> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").map_err(|e| match e.kind() {
        std::io::ErrorKind::BrokenPipe => Stop::Closed,
        _ => Stop::Failed(format!("writing to stdout: {e}")),
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(code) => code,
        Err(Stop::Closed) => ExitCode::SUCCESS,
        Err(Stop::Failed(message)) => {
            eprintln!("travel-agent: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, Stop> {
    let mut missions = travel::missions()?;
    if let Some(wanted) = &args.mission {
        missions = travel::select(missions, wanted)?;
    }
    let world = WorldChoice::parse(&args.world);
    // Fail on a bad world before starting anything.
    world.build()?;

    let phantom = Phantom::connect().await?;
    let result = match LlmConfig::from_env() {
        Some(llm) => drive(&phantom, &llm, &missions, &world, args.json).await,
        None => replay(&phantom, &missions, &world, args.json).await,
    };
    phantom.shutdown().await;
    result
}

async fn replay(
    phantom: &Phantom,
    missions: &[travel::TravelMission],
    world: &WorldChoice,
    json: bool,
) -> Result<ExitCode, Stop> {
    if !json {
        say(format_args!(
            "Replaying {} AgentDojo travel mission{} through Phantom at {}{}.",
            missions.len(),
            if missions.len() == 1 { "" } else { "s" },
            phantom.operator.base_url(),
            if std::env::var_os("PHANTOM_URL").is_some() {
                ""
            } else {
                " (embedded)"
            }
        ))?;
        say(
            "Each mission: the calls a faithful agent makes, then the calls the attacks hidden in reviews",
        )?;
        say(
            "try to slip in (\"injected #N\": AgentDojo's injection_task_N). Set PHANTOM_LLM_BASE_URL to let a",
        )?;
        say("real model drive instead.\n")?;
    }

    let mut reports: Vec<MissionReport> = Vec::new();
    for mission in missions {
        let report = travel::replay(&phantom.operator, mission, world).await?;
        if json {
            for line in json_lines(&report) {
                say(line)?;
            }
        } else {
            say(mission_table(&report))?;
        }
        reports.push(report);
    }

    let summary = Summary::of(&reports);
    if json {
        say(summary_json(&summary))?;
    } else {
        say(summary_table(&summary).trim_end())?;
    }
    Ok(if summary.errored() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn drive(
    phantom: &Phantom,
    llm: &LlmConfig,
    missions: &[travel::TravelMission],
    world: &WorldChoice,
    json: bool,
) -> Result<ExitCode, Stop> {
    if !json {
        say(format_args!(
            "Driving {} AgentDojo travel mission{} with {} at {}, through Phantom at {}.\n",
            missions.len(),
            if missions.len() == 1 { "" } else { "s" },
            llm.model,
            llm.base_url,
            phantom.operator.base_url()
        ))?;
    }

    let mut failed = 0;
    for mission in missions {
        let run = travel::drive(&phantom.operator, llm, mission, world).await?;
        if run.answer.is_err() {
            failed += 1;
        }
        if json {
            for (n, step) in run.steps.iter().enumerate() {
                let seen = step.seen.as_ref();
                let line = serde_json::json!({
                    "mission": run.id,
                    "phantom_mission": run.phantom_mission,
                    "n": n + 1,
                    "tool": step.tool,
                    "args": step.args,
                    "decision": seen.map(|s| s.verdict.to_string()),
                    "code": seen.map(|s| s.code.as_str()),
                    "alignment_score": seen.and_then(|s| s.alignment_score),
                    "reason": seen.map(|s| s.reason.as_str()),
                    "ran": step.ran,
                    "error": step.error,
                });
                say(line)?;
            }
            let answer = serde_json::json!({
                "mission": run.id,
                "answer": run.answer.as_ref().ok(),
                "error": run.answer.as_ref().err(),
            });
            say(answer)?;
        } else {
            say(run.to_text())?;
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
