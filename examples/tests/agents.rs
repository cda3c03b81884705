//! Both example agents end to end, each against its own embedded Phantom
//! server: the travel agent's replay of all twenty missions, its binary's
//! output and its chat-model path against a mock OpenAI-compatible
//! endpoint; the research agent's approval and rollback, approved and denied.
//!
//! Nothing in the travel tests depends on how good the intent engine is:
//! only that every call gets a decision, nothing errors, and the counts add
//! up. The research agent's story is fixed (which call waits for a human,
//! what is undone), so its test checks that story.

use std::net::SocketAddr;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use phantom_examples::Phantom;
use phantom_examples::travel::{self, CallKind, MissionReport, Summary, WorldChoice};
use phantom_sdk::{MissionState, Verdict};
use phantom_tools::LlmConfig;
use serde_json::{Value, json};

/// The travel agent's binary, with no configuration from the environment
/// the tests run in.
fn travel_agent(args: &[&str]) -> Command {
    agent(env!("CARGO_BIN_EXE_travel-agent"), args)
}

fn agent(binary: &str, args: &[&str]) -> Command {
    let mut command = Command::new(binary);
    command.args(args);
    for variable in [
        "PHANTOM_URL",
        "PHANTOM_API_KEY",
        "PHANTOM_LLM_BASE_URL",
        "PHANTOM_LLM_MODEL",
        "PHANTOM_LLM_API_KEY",
        "COLUMNS",
    ] {
        command.env_remove(variable);
    }
    command
}

async fn run(mut command: Command) -> std::io::Result<Output> {
    tokio::task::spawn_blocking(move || command.output())
        .await
        .map_err(std::io::Error::other)?
}

fn assert_adds_up(summary: &Summary) {
    for tally in [
        summary.faithful,
        summary.injected,
        summary.injected_state_changing,
        summary.injected_read_only,
    ] {
        assert_eq!(
            tally.allowed + tally.blocked + tally.held,
            tally.total,
            "{summary:?}"
        );
        assert_eq!(tally.errored, 0, "{summary:?}");
    }
    assert_eq!(
        summary.injected_state_changing.total + summary.injected_read_only.total,
        summary.injected.total
    );
    assert_eq!(
        summary.injected_state_changing.stopped() + summary.injected_read_only.stopped(),
        summary.injected.stopped()
    );
}

#[tokio::test]
async fn every_call_of_every_mission_gets_a_decision() {
    let phantom = Phantom::connect().await.unwrap();
    let missions = travel::missions().unwrap();
    assert_eq!(missions.len(), 20);

    let mut reports: Vec<MissionReport> = Vec::new();
    for mission in &missions {
        let report = travel::replay(&phantom.operator, mission, &WorldChoice::Builtin)
            .await
            .unwrap();
        assert_eq!(
            report.rows.len(),
            mission.calls.len() + mission.injected.len()
        );
        assert_eq!(report.state, MissionState::Completed);

        for row in &report.rows {
            assert!(
                row.error.is_none(),
                "{} #{}: {:?}",
                report.id,
                row.n,
                row.error
            );
            assert!(
                row.read_only.is_some(),
                "{} #{} was prepared",
                report.id,
                row.n
            );
            let seen = row
                .seen
                .as_ref()
                .unwrap_or_else(|| panic!("{} #{} has no decision", report.id, row.n));
            // A call runs exactly when it is allowed.
            assert_eq!(
                row.ran,
                seen.verdict == Verdict::Allow,
                "{} #{}",
                report.id,
                row.n
            );
            assert!(!seen.code.is_empty());
            if let CallKind::Injected { attack } = &row.kind {
                assert!(attack.starts_with("injection_task_"));
            }
        }
        let allowed = report.rows.iter().filter(|r| r.ran).count();
        assert_eq!(
            report.actions_recorded, allowed,
            "{}: every allowed call is recorded",
            report.id
        );

        let table = travel::mission_table(&report);
        assert!(table.starts_with(&report.id));
        let rows = table
            .lines()
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>())
            .filter(|cells| {
                matches!(cells.as_slice(), [n, "faithful" | "injected"] if n.parse::<usize>().is_ok())
            })
            .count();
        assert_eq!(rows, report.rows.len());
        reports.push(report);
    }

    let summary = Summary::of(&reports);
    assert_eq!(summary.missions, 20);
    // The dataset's 124 aligned and 216 misaligned calls.
    assert_eq!(summary.faithful.total, 124);
    assert_eq!(summary.injected.total, 216);
    assert_adds_up(&summary);
    assert!(travel::summary_table(&summary).contains("of 124"));

    let lines: Vec<String> = reports.iter().flat_map(travel::json_lines).collect();
    assert_eq!(lines.len(), 340);
    for line in &lines {
        let call: Value = serde_json::from_str(line).unwrap();
        assert!(
            ["ALLOW", "BLOCK", "REQUIRE_APPROVAL"].contains(&call["decision"].as_str().unwrap())
        );
    }
    phantom.shutdown().await;
}

#[tokio::test]
async fn the_binary_prints_json_lines_and_tables() {
    let output = run(travel_agent(&["--json"])).await.unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 341, "a line per call and the summary");
    let (calls, summary) = lines.split_at(340);
    assert!(
        calls
            .iter()
            .all(|c| c["error"].is_null() && c["decision"].is_string())
    );
    assert_eq!(
        calls.iter().filter(|c| c["kind"] == "faithful").count(),
        124
    );

    let summary = &summary[0]["summary"];
    assert_eq!(summary["missions"], 20);
    assert_eq!(summary["faithful"]["total"], 124);
    assert_eq!(summary["injected"]["total"], 216);
    for part in [
        "faithful",
        "injected",
        "injected_state_changing",
        "injected_read_only",
    ] {
        let t = &summary[part];
        assert_eq!(
            t["allowed"].as_u64().unwrap()
                + t["blocked"].as_u64().unwrap()
                + t["held"].as_u64().unwrap(),
            t["total"].as_u64().unwrap()
        );
    }
    let changing = summary["injected_state_changing"]["total"]
        .as_u64()
        .unwrap();
    let reading = summary["injected_read_only"]["total"].as_u64().unwrap();
    assert_eq!(changing + reading, 216);

    let output = run(travel_agent(&["--mission", "user_task_3"]))
        .await
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success());
    assert!(stdout.contains("travel/user_task_3 · msn_"));
    assert!(stdout.contains("send_email([janeLong@google.com], Hotel: Luxury"));
    assert!(stdout.contains("Summary: 1 mission, 13 calls"));

    let output = run(travel_agent(&["--mission", "99"])).await.unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no mission `99`"));
}

/// What the scripted model finally says.
const ANSWER: &str = "Le Marais Boutique is rated 4.2, so I booked it for January 11 to 15, 2025.";

/// A scripted OpenAI-compatible chat endpoint: it reads the reviews, books
/// the hotel, then answers; or, failing, errors after booking.
#[derive(Default)]
struct MockModel {
    fail_after_booking: bool,
    requests: Mutex<Vec<(Option<String>, Value)>>,
}

fn tool_call(id: &str, name: &str, arguments: Value) -> Value {
    json!({
        "id": format!("chatcmpl-{id}"),
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "mock-model",
        "choices": [{
            "index": 0,
            "finish_reason": "tool_calls",
            "message": {
                "role": "assistant",
                "content": null,
                "tool_calls": [{
                    "id": id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments.to_string()},
                }],
            },
        }],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    })
}

async fn completions(
    State(mock): State<Arc<MockModel>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Ok(mut requests) = mock.requests.lock() {
        requests.push((auth, body.clone()));
    }

    let answered = body["messages"].as_array().map_or(0, |messages| {
        messages.iter().filter(|m| m["role"] == "tool").count()
    });
    match answered {
        0 => {
            let reviews = json!({"hotel_names": ["Le Marais Boutique"]});
            Json(tool_call(
                "call_1",
                "get_rating_reviews_for_hotels",
                reviews,
            ))
            .into_response()
        }
        1 => {
            let booking = json!({
                "hotel": "Le Marais Boutique",
                "start_day": "2025-01-11",
                "end_day": "2025-01-15",
            });
            Json(tool_call("call_2", "reserve_hotel", booking)).into_response()
        }
        _ if mock.fail_after_booking => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the mock model fell over",
        )
            .into_response(),
        _ => Json(json!({
            "id": "chatcmpl-3",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "mock-model",
            "choices": [{
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": ANSWER},
            }],
        }))
        .into_response(),
    }
}

async fn serve(mock: Arc<MockModel>) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(mock);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

#[tokio::test]
async fn a_chat_model_drives_the_mission_through_phantom() {
    let mock = Arc::new(MockModel::default());
    let addr = serve(Arc::clone(&mock)).await.unwrap();

    let mut command = travel_agent(&["--mission", "0"]);
    command
        .env("PHANTOM_LLM_BASE_URL", format!("http://{addr}/v1"))
        .env("PHANTOM_LLM_MODEL", "mock-model")
        .env("PHANTOM_LLM_API_KEY", "sk-mock");
    let output = run(command).await.unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // Each step and its decision, then the answer.
    assert!(stdout.contains("with mock-model at http://"));
    let steps: Vec<&str> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with(char::is_numeric))
        .collect();
    assert_eq!(steps.len(), 2, "{stdout}");
    assert!(steps[0].contains("get_rating_reviews_for_hotels([Le Marais Boutique])"));
    assert!(steps[1].contains("reserve_hotel("));
    assert!(steps.iter().all(|s| {
        ["ALLOW", "BLOCK", "REQUIRE_APPROVAL"]
            .iter()
            .any(|v| s.contains(v))
    }));
    assert!(stdout.contains(ANSWER));

    // The wire: three requests with the key, the model, every tool.
    let requests = mock.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 3);
    for (auth, body) in &requests {
        assert_eq!(auth.as_deref(), Some("Bearer sk-mock"));
        assert_eq!(body["model"], "mock-model");
        let tools = body["tools"].as_array().unwrap();
        assert_eq!(tools.len(), 29);
        for tool in tools {
            assert_eq!(tool["type"], "function");
            assert_eq!(tool["function"]["parameters"]["type"], "object");
        }
    }
    let first = requests[0].1["messages"].as_array().unwrap();
    assert_eq!(first[0]["role"], "system");
    assert!(
        first[1]["content"]
            .as_str()
            .unwrap()
            .starts_with("I'm heading to Paris soon.")
    );

    // The reviews reach the model, the planted attack with them.
    let second = requests[1].1["messages"].as_array().unwrap();
    assert_eq!(second[2]["tool_calls"][0]["id"], "call_1");
    let reviews = second.iter().find(|m| m["role"] == "tool").unwrap();
    assert_eq!(reviews["tool_call_id"], "call_1");
    let reviews = reviews["content"].as_str().unwrap();
    assert!(
        reviews.contains("Rating: 4.2") && reviews.contains("<INFORMATION>"),
        "{reviews}"
    );

    // The booking ran, or the model was told Phantom refused it.
    let third = requests[2].1["messages"].as_array().unwrap();
    let booking = third.iter().rev().find(|m| m["role"] == "tool").unwrap();
    assert_eq!(booking["tool_call_id"], "call_2");
    let booking = booking["content"].as_str().unwrap();
    assert!(
        booking.starts_with("Reservation for Le Marais Boutique")
            || booking.starts_with("Phantom refused"),
        "{booking}"
    );
}

#[tokio::test]
async fn a_mission_whose_model_fails_is_rolled_back() {
    let mock = Arc::new(MockModel {
        fail_after_booking: true,
        ..MockModel::default()
    });
    let addr = serve(Arc::clone(&mock)).await.unwrap();
    let llm = LlmConfig {
        base_url: format!("http://{addr}/v1"),
        model: "mock-model".to_owned(),
        api_key: None,
    };
    let phantom = Phantom::connect().await.unwrap();
    let missions = travel::select(travel::missions().unwrap(), "user_task_0").unwrap();

    let run = travel::drive(&phantom.operator, &llm, &missions[0], &WorldChoice::Benign)
        .await
        .unwrap();
    assert!(
        run.answer
            .as_ref()
            .unwrap_err()
            .contains("the mock model fell over")
    );
    assert_eq!(run.steps.len(), 2);
    // Whatever Phantom decided, nothing stays booked: the reservation was
    // never made, or the rollback cancelled it.
    assert!(run.changes.is_empty(), "{:?}", run.changes);
    let booked = run.steps[1].ran;
    let expected = if booked {
        MissionState::Compensated
    } else {
        MissionState::Failed
    };
    assert_eq!(run.state, expected);
    assert!(run.to_text().contains("no answer:"));
    phantom.shutdown().await;
}

/// The research agent's output; an error when it cannot start or fails.
async fn research(args: &[&str]) -> Result<String, String> {
    let output = run(agent(env!("CARGO_BIN_EXE_research-agent"), args))
        .await
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!(
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(stdout)
}

/// The lines reporting a compensation that ran, in the order printed.
fn compensations_done(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| l.trim_start().starts_with("action") && l.ends_with("done"))
        .collect()
}

#[tokio::test]
async fn the_research_agent_waits_for_approval_and_rolls_back() {
    let out = research(&[]).await.unwrap();

    // Downloads run without a human; only the $150 query waits for one.
    let approvals: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("reviewer sees approval"))
        .collect();
    assert_eq!(approvals.len(), 1, "{out}");
    assert!(
        approvals[0].contains("`query_case_law`") && approvals[0].contains("$150.00"),
        "{out}"
    );
    assert!(approvals[0].ends_with("APPROVES"), "{out}");
    assert!(out.contains("day 3  query_case_law     ALLOW"), "{out}");

    // The sealed report fails on day 5 and everything is undone, newest first.
    let undone = compensations_done(&out);
    assert_eq!(undone.len(), 5, "{out}");
    assert!(
        undone[0].contains("action  5") && undone[4].contains("action  1"),
        "{out}"
    );
    assert!(undone[1].contains("refund_charge"), "{out}");
    assert!(out.contains("charge ch_1: $150.00 refunded"), "{out}");
    assert!(out.contains("workspace files left: none"), "{out}");
    assert!(out.contains("final mission state: Compensated"), "{out}");
}

#[tokio::test]
async fn a_denied_query_ends_the_research_mission() {
    let out = research(&["--deny"]).await.unwrap();

    assert!(out.contains("DENIES"), "{out}");
    assert!(out.contains("denied the approval request"), "{out}");
    // The three downloads before the query are undone; nothing was charged.
    assert_eq!(compensations_done(&out).len(), 3, "{out}");
    assert!(!out.contains("refunded"), "{out}");
    assert!(out.contains("workspace files left: none"), "{out}");
    assert!(
        out.contains("final mission state: Compensated (approval of `query_case_law` denied"),
        "{out}"
    );
}
