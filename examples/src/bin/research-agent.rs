//! A long research mission through Phantom: documents downloaded into the
//! workspace (each undone by deleting it), a $150 expert query that waits
//! for a human's approval (undone by a refund), then a failure that rolls
//! the whole mission back, newest action first.
//!
//! ```text
//! cargo run -p phantom-examples --bin research-agent            # a reviewer approves the query
//! cargo run -p phantom-examples --bin research-agent -- --deny  # the reviewer denies it
//! ```
//!
//! Runs offline on an embedded server, or against `PHANTOM_URL` with
//! `PHANTOM_API_KEY`.

use std::time::Duration;

use clap::Parser;
use phantom_examples::Phantom;
use phantom_sdk::{
    ApprovalDecision, ApprovalStatus, Constraints, CreateMission, IssueToken, Mission,
    PhantomClient, PhantomLayer, RunError, ToolOutcome,
};
use phantom_tools::ToolSet;
use phantom_tools::ready::files::FileRoot;
use phantom_tools::ready::research::{Account, DownloadDocument, QueryCaseLaw, RefundCharge};
use tower::{Layer, ServiceExt};

const INTENT: &str = "Deep legal research on patent case Acme v. Zenith: gather the patent, the filings and case law, and write a memo on infringement and invalidity";

/// A seven-day legal research mission through Phantom, with an approval and a rollback.
#[derive(Debug, Parser)]
#[command(name = "research-agent", version)]
struct Args {
    /// Have the reviewer deny the $150 expert query instead of approving it.
    #[arg(long)]
    deny: bool,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(args.deny).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("research-agent: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(deny: bool) -> Result<(), String> {
    let phantom = Phantom::connect().await?;
    let operator = phantom.operator.clone();
    let workspace = std::env::temp_dir().join(format!("phantom-research-{}", std::process::id()));
    std::fs::create_dir_all(&workspace).map_err(|e| e.to_string())?;

    // The tools, and the account the paid service charges.
    let root = FileRoot::new(&workspace);
    let (read, write, delete) = root.tools();
    let account = Account::default();
    let tools = ToolSet::new()
        .with(read)
        .with(write)
        .with(delete)
        .with(DownloadDocument(root.clone()))
        .with(QueryCaseLaw(account.clone()))
        .with(RefundCharge(account.clone()));

    // A mission that lives seven days, and a token for it.
    let mission = Mission::create(
        &operator,
        &CreateMission {
            user: "user:counsel_42".to_owned(),
            intent: INTENT.to_owned(),
            timeout: "7d".parse().map_err(|e| format!("{e}"))?,
            durable: true,
            requires_entitlements: Vec::new(),
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    let issued = operator
        .issue_token(&IssueToken {
            agent: "agent:research".to_owned(),
            on_behalf_of: "user:counsel_42".to_owned(),
            mission_id: Some(mission.id().to_owned()),
            intent: String::new(),
            constraints: Constraints {
                max_access: "7d".parse().map_err(|e| format!("{e}"))?,
                scope: vec!["research.*".to_owned(), "files.*".to_owned()],
                max_actions: Some(100),
            },
        })
        .await
        .map_err(|e| e.to_string())?;
    let agent = operator
        .as_agent(&issued.token)
        .map_err(|e| e.to_string())?;
    println!(
        "mission {} for user:counsel_42\n  intent: {INTENT}\n  token {} (scopes research.*, files.*; 7 days; 100 actions)\n",
        mission.id(),
        issued.token_id
    );

    // A human reviewer, answering approval requests from the dashboard.
    let reviewer = tokio::spawn(review(operator.clone(), !deny));

    let guarded = PhantomLayer::new(agent.clone())
        .approval_timeout(Duration::from_secs(60))
        .layer(tools.clone());
    let steps = [
        (
            "day 1",
            "download_document",
            serde_json::json!({"url": "https://patents.example/US-10000001"}),
        ),
        (
            "day 1",
            "download_document",
            serde_json::json!({"url": "https://courts.example/acme-v-zenith/complaint"}),
        ),
        (
            "day 2",
            "download_document",
            serde_json::json!({"url": "https://courts.example/acme-v-zenith/claim-construction"}),
        ),
        (
            "day 3",
            "query_case_law",
            serde_json::json!({"query": "anticipation of per-window model updates", "tier": "expert"}),
        ),
        (
            "day 4",
            "download_document",
            serde_json::json!({"url": "https://journals.example/prior-art-compression-2011"}),
        ),
        (
            "day 5",
            "download_document",
            serde_json::json!({"url": "https://courts.example/acme-v-zenith/expert-report-sealed"}),
        ),
        (
            "day 6",
            "write_file",
            serde_json::json!({"path": "/memo.md", "content": "Memo: infringement likely on claims 1, 4; invalidity arguable over 2011 prior art."}),
        ),
    ];

    let result = mission
        .run(tools.clone(), |_| async {
            for (day, tool, args) in steps {
                let call = tools
                    .prepare(tool, args.clone(), None)
                    .map_err(|e| e.to_string())?;
                let outcome = guarded
                    .clone()
                    .oneshot(call)
                    .await
                    .map_err(|e| format!("{day}: {tool} failed: {e}"))?;
                match outcome {
                    ToolOutcome::Ran { output, .. } => {
                        let undo = output
                            .compensation
                            .as_ref()
                            .map_or("-".to_owned(), |c| format!("{} {}", c.name, c.args));
                        println!("  {day}  {tool:<18} ALLOW   undo: {undo}");
                    }
                    ToolOutcome::Denied(decision) => {
                        println!(
                            "  {day}  {tool:<18} {}  {}",
                            decision.decision, decision.reason
                        );
                        return Err(format!("{day}: {tool} was refused: {}", decision.reason));
                    }
                }
            }
            Ok::<(), String>(())
        })
        .await;

    match result {
        Ok(()) => {
            mission.complete().await.map_err(|e| e.to_string())?;
            println!("\nmission completed");
        }
        Err(RunError::Failed { error, .. }) => {
            // The rollback may have run here, or already inside the layer
            // when the approval was denied: the mission's log tells both.
            println!("\nmission failed: {error}");
            println!("compensations, newest action first:");
            let record = mission.record().await.map_err(|e| e.to_string())?;
            for action in record.actions.iter().rev() {
                let Some(undo) = &action.compensation else {
                    continue;
                };
                let status = action
                    .compensation_status
                    .map_or("-".to_owned(), |s| format!("{s:?}").to_lowercase());
                println!(
                    "  action {:>2} {:<18} undone by {:<14} {status}",
                    action.seq, action.tool, undo.name
                );
            }
        }
        Err(RunError::Phantom(e)) => return Err(e.to_string()),
    }

    // What is left: files in the workspace, charges on the account.
    let left: Vec<String> = walk(&workspace);
    println!(
        "\nworkspace files left: {}",
        if left.is_empty() {
            "none".to_owned()
        } else {
            left.join(", ")
        }
    );
    for charge in account.charges() {
        println!(
            "charge {}: ${:.2} {}",
            charge.id,
            charge.amount_usd,
            if charge.refunded { "refunded" } else { "kept" }
        );
    }
    let record = mission.record().await.map_err(|e| e.to_string())?;
    println!(
        "final mission state: {:?} ({})",
        record.state,
        record.state_reason.unwrap_or_default()
    );

    reviewer.abort();
    let _ = std::fs::remove_dir_all(&workspace);
    phantom.shutdown().await;
    Ok(())
}

/// The reviewer: shows each pending approval and answers it.
async fn review(operator: PhantomClient, approve: bool) {
    loop {
        if let Ok(pending) = operator.approvals(Some(ApprovalStatus::Pending)).await {
            for approval in pending {
                println!(
                    "  ..     reviewer sees approval {}: `{}` {} — {}; {}",
                    approval.id,
                    approval.action.tool,
                    approval.action.args,
                    approval.reason,
                    if approve { "APPROVES" } else { "DENIES" }
                );
                let _ = operator
                    .decide(
                        &approval.id,
                        &ApprovalDecision {
                            approve,
                            by: "reviewer@lawfirm.example".to_owned(),
                            note: Some(if approve {
                                "within budget".to_owned()
                            } else {
                                "not worth $150".to_owned()
                            }),
                        },
                    )
                    .await;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(walk(&path));
            } else {
                found.push(path.display().to_string());
            }
        }
    }
    found
}
