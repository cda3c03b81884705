//! `phantom bench …`: load commands that print a report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use phantom_sdk::{Action, Constraints, IssueToken, PhantomClient, SecretKind, Verdict};

use crate::config::Config;
use crate::secrets;

/// Options of `phantom bench authorize`.
#[derive(Debug, Clone, clap::Args)]
pub struct AuthorizeBench {
    /// A running server to measure; without it an embedded server is
    /// started on a temporary data directory.
    #[arg(long)]
    url: Option<String>,
    /// The server's management API key (needed with --url).
    #[arg(long, env = "PHANTOM_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Authorize calls to make.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Calls in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
}

/// Options of `phantom bench check`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckBench {
    /// A running server to measure; without it an embedded server is
    /// started on a temporary data directory and loaded with the generated
    /// organisation (~100k tuples).
    #[arg(long)]
    url: Option<String>,
    /// The server's management API key (needed with --url; a server whose
    /// graph is empty is loaded with the generated organisation first).
    #[arg(long, env = "PHANTOM_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Checks per second to send, whatever the answers' speed (open loop).
    #[arg(long, default_value_t = 5000)]
    rate: u32,
    /// How long to send.
    #[arg(long, default_value_t = 10)]
    seconds: u32,
    /// Connections to spread the load over.
    #[arg(long, default_value_t = 32)]
    connections: usize,
}

/// Latencies of one kind of call.
struct Sample {
    client: Vec<Duration>,
    server_ms: Vec<f64>,
}

/// Issues a token, fires `requests` authorize calls with `concurrency` in
/// flight, and prints latency percentiles and throughput.
///
/// # Errors
///
/// A message if the server cannot be started or reached.
pub async fn authorize(options: AuthorizeBench) -> Result<(), String> {
    let requests = options.requests.max(1);
    let concurrency = options.concurrency.clamp(1, 256);

    let (url, key, embedded, scratch) = match &options.url {
        Some(url) => {
            let key = options
                .api_key
                .clone()
                .ok_or("--url needs --api-key or PHANTOM_API_KEY")?;
            (url.clone(), key, None, None)
        }
        None => {
            let key = secrets::generate(SecretKind::ApiKey).map_err(|e| e.to_string())?;
            let scratch = std::env::temp_dir().join(secrets::new_id("phantom-bench"));
            let config = Config {
                listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                data_dir: scratch.clone(),
                api_key: Some(key.expose().parse().map_err(|_| "unreachable")?),
                log: "warn".to_owned(),
                ..Config::default()
            };
            let server = crate::start(config, false)
                .await
                .map_err(|e| e.to_string())?;
            (
                server.url(),
                key.expose().to_owned(),
                Some(server),
                Some(scratch),
            )
        }
    };

    let operator = PhantomClient::operator(&url, &key).map_err(|e| e.to_string())?;
    let issued = operator
        .issue_token(&IssueToken {
            agent: "agent:bench".to_owned(),
            on_behalf_of: "user:bench".to_owned(),
            mission_id: None,
            intent: "Summarize meeting notes".to_owned(),
            constraints: Constraints {
                max_access: Duration::from_secs(3600).into(),
                scope: vec!["files.*".to_owned()],
                max_actions: None,
            },
        })
        .await
        .map_err(|e| e.to_string())?;
    let agent = Arc::new(
        operator
            .as_agent(&issued.token)
            .map_err(|e| e.to_string())?,
    );

    // Warm the connection pool and the caches before measuring.
    let warm = Action::new(
        "read_file",
        serde_json::json!({"path": "/notes/meeting-2026-11-30.md"}),
    );
    for _ in 0..20 {
        agent.authorize(&warm).await.map_err(|e| e.to_string())?;
    }

    let mut allowed = scoped(
        "read_file",
        "files.read",
        serde_json::json!({"path": "/notes/meeting-2026-11-30.md"}),
    );
    allowed.risk = Some(phantom_sdk::Risk {
        read_only: Some(true),
        ..phantom_sdk::Risk::default()
    });
    let blocked = scoped(
        "delete_file",
        "mail.delete",
        serde_json::json!({"path": "/notes/meeting-2026-11-30.md"}),
    );

    println!(
        "phantom bench authorize: {requests} calls per case, {concurrency} in flight, server {url}"
    );
    println!(
        "{:<26} {:>9} {:>9} {:>9} {:>9} {:>11} {:>10}",
        "case", "p50 ms", "p90 ms", "p99 ms", "max ms", "server p50", "calls/s"
    );
    for (name, action, expect) in [
        ("allow (spends, audited)", allowed, Verdict::Allow),
        ("block (out of scope)", blocked, Verdict::Block),
    ] {
        let started = Instant::now();
        let sample = run(&agent, &action, expect, requests, concurrency).await?;
        let elapsed = started.elapsed();
        print_row(name, &sample, requests, elapsed);
    }

    if let Some(server) = embedded {
        server.stop().await.map_err(|e| e.to_string())?;
    }
    if let Some(scratch) = scratch {
        let _ = std::fs::remove_dir_all(scratch);
    }
    Ok(())
}

fn scoped(tool: &str, scope: &str, args: serde_json::Value) -> Action {
    let mut action = Action::new(tool, args);
    action.scope = Some(scope.to_owned());
    action
}

async fn run(
    agent: &Arc<PhantomClient>,
    action: &Action,
    expect: Verdict,
    requests: usize,
    concurrency: usize,
) -> Result<Sample, String> {
    let mut workers = tokio::task::JoinSet::new();
    let per_worker = requests.div_ceil(concurrency);
    for worker in 0..concurrency {
        let agent = Arc::clone(agent);
        let action = action.clone();
        let count = per_worker.min(requests.saturating_sub(worker * per_worker));
        workers.spawn(async move {
            let mut client = Vec::with_capacity(count);
            let mut server_ms = Vec::with_capacity(count);
            for _ in 0..count {
                let sent = Instant::now();
                let decision = agent.authorize(&action).await.map_err(|e| e.to_string())?;
                client.push(sent.elapsed());
                server_ms.push(decision.latency_ms);
                if decision.decision != expect {
                    return Err(format!(
                        "expected {expect}, got {} ({})",
                        decision.decision, decision.reason
                    ));
                }
            }
            Ok::<_, String>(Sample { client, server_ms })
        });
    }

    let mut all = Sample {
        client: Vec::new(),
        server_ms: Vec::new(),
    };
    while let Some(done) = workers.join_next().await {
        let sample = done.map_err(|e| e.to_string())??;
        all.client.extend(sample.client);
        all.server_ms.extend(sample.server_ms);
    }
    Ok(all)
}

fn print_row(name: &str, sample: &Sample, requests: usize, elapsed: Duration) {
    let mut client: Vec<f64> = sample
        .client
        .iter()
        .map(|d| d.as_secs_f64() * 1000.0)
        .collect();
    client.sort_by(f64::total_cmp);
    let mut server = sample.server_ms.clone();
    server.sort_by(f64::total_cmp);
    let rate = requests as f64 / elapsed.as_secs_f64();
    println!(
        "{:<26} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>11.3} {:>10.0}",
        name,
        percentile(&client, 0.50),
        percentile(&client, 0.90),
        percentile(&client, 0.99),
        client.last().copied().unwrap_or(0.0),
        percentile(&server, 0.50),
        rate
    );
}

/// The `q` quantile of sorted values (nearest rank).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Loads the generated organisation, then sends graph checks at a fixed
/// rate and prints latency percentiles measured from each request's
/// scheduled send time, so a slow server cannot hide its queueing.
///
/// # Errors
///
/// A message if the server cannot be started, loaded or reached.
pub async fn check(options: CheckBench) -> Result<(), String> {
    use crate::graph::bench::{MODEL, generate, workload};

    let rate = options.rate.clamp(1, 100_000);
    let seconds = options.seconds.clamp(1, 600);
    let data = generate(1);

    let (url, key, embedded, scratch) = match &options.url {
        Some(url) => {
            let key = options
                .api_key
                .clone()
                .ok_or("--url needs --api-key or PHANTOM_API_KEY")?;
            (url.clone(), key, None, None)
        }
        None => {
            let key = secrets::generate(SecretKind::ApiKey).map_err(|e| e.to_string())?;
            let scratch = std::env::temp_dir().join(secrets::new_id("phantom-bench"));
            let config = Config {
                listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                data_dir: scratch.clone(),
                api_key: Some(key.expose().parse().map_err(|_| "unreachable")?),
                log: "warn".to_owned(),
                ..Config::default()
            };
            let server = crate::start(config, false)
                .await
                .map_err(|e| e.to_string())?;
            (
                server.url(),
                key.expose().to_owned(),
                Some(server),
                Some(scratch),
            )
        }
    };
    let operator = PhantomClient::operator(&url, &key).map_err(|e| e.to_string())?;

    let empty = operator.health().await.map_err(|e| e.to_string())?["tuples"] == 0;
    if empty {
        let loading = Instant::now();
        operator
            .write_model(MODEL)
            .await
            .map_err(|e| e.to_string())?;
        for chunk in data.tuples.chunks(crate::graph::MAX_TUPLES_PER_WRITE) {
            let writes = chunk
                .iter()
                .map(|t| t.to_string().parse())
                .collect::<Result<Vec<phantom_sdk::Tuple>, _>>()
                .map_err(|e| e.to_string())?;
            operator
                .write_tuples(&phantom_sdk::WriteTuples {
                    writes,
                    deletes: Vec::new(),
                })
                .await
                .map_err(|e| e.to_string())?;
        }
        println!(
            "loaded {} tuples through the API in {:.1}s",
            data.tuples.len(),
            loading.elapsed().as_secs_f64()
        );
    }

    // Requests prepared up front: the load loop only sends.
    let total = (rate * seconds) as usize;
    let bodies: Vec<String> = workload(&data, total, 7)
        .into_iter()
        .map(|(object, user)| {
            serde_json::json!({"subject": user, "relation": "viewer", "object": object}).to_string()
        })
        .collect();
    let clients: Vec<reqwest::Client> = (0..options.connections.clamp(1, 512))
        .map(|_| {
            reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
        })
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let endpoint = format!("{url}/v1/graph/check");
    let auth = format!("Bearer {key}");

    println!(
        "phantom bench check: {rate} checks/s for {seconds}s over {} connections, server {url}",
        clients.len()
    );
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
    let started = tokio::time::Instant::now();
    let mut sent = tokio::task::JoinSet::new();
    for (i, body) in bodies.into_iter().enumerate() {
        let due = started + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due).await;
        let client = clients[i % clients.len()].clone();
        let (endpoint, auth) = (endpoint.clone(), auth.clone());
        sent.spawn(async move {
            let dispatched = tokio::time::Instant::now();
            let response = client
                .post(&endpoint)
                .header(reqwest::header::AUTHORIZATION, auth)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await;
            let ok = matches!(&response, Ok(r) if r.status().is_success());
            if let Ok(response) = response {
                let _ = response.bytes().await;
            }
            (
                dispatched.elapsed(),
                dispatched.saturating_duration_since(due),
                ok,
            )
        });
    }

    // Requests go out on schedule whatever the answers do (open loop), so
    // timing from the actual send hides no server stall; the generator's own
    // lateness (tokio's timer ticks in milliseconds) is reported apart.
    let mut latencies = Vec::with_capacity(total);
    let mut lateness = Vec::with_capacity(total);
    let mut failed = 0usize;
    while let Some(done) = sent.join_next().await {
        let (latency, late, ok) = done.map_err(|e| e.to_string())?;
        latencies.push(latency.as_secs_f64() * 1000.0);
        lateness.push(late.as_secs_f64() * 1000.0);
        failed += usize::from(!ok);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    lateness.sort_by(f64::total_cmp);
    println!(
        "{:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>13}",
        "sent", "achieved", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "errors", "send lag p99"
    );
    println!(
        "{:>10} {:>9.0} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>8} {:>13.3}",
        total,
        total as f64 / elapsed,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 0.999),
        latencies.last().copied().unwrap_or(0.0),
        failed,
        percentile(&lateness, 0.99)
    );

    if let Some(server) = embedded {
        server.stop().await.map_err(|e| e.to_string())?;
    }
    if let Some(scratch) = scratch {
        let _ = std::fs::remove_dir_all(scratch);
    }
    Ok(())
}

/// What `phantom eval intent` runs.
#[derive(Debug, Clone)]
pub struct EvalRun {
    /// The labelled cases.
    pub cases: std::path::PathBuf,
    /// A tool catalogue.
    pub tools: Option<std::path::PathBuf>,
    /// One JSON line per case and a summary line.
    pub json: bool,
    /// List the cases the engine got wrong.
    pub explain: bool,
    /// Embed missions before timing.
    pub prime: bool,
    /// Embed every action afresh: the cost of a call never seen before.
    pub no_action_cache: bool,
}

/// Scores labelled cases with the engine `phantom serve` would build from
/// `config`, and prints the report.
///
/// # Errors
///
/// A message if the engine cannot be built or the cases cannot be read.
pub async fn eval_intent(config: &Config, run: &EvalRun) -> Result<(), String> {
    use crate::intent::eval::{self, EvalOptions};
    use crate::intent::{IntentEngine, Verdict};

    phantom_sdk::ensure_tls_provider();
    let mut intent = crate::server::intent_config(config);
    if run.no_action_cache {
        intent.action_cache = 0;
    }
    let engine = IntentEngine::new(intent).map_err(|e| e.to_string())?;
    eprintln!("intent engine: {}", engine.describe());

    let mut options = EvalOptions {
        prime_missions: run.prime,
        ..EvalOptions::default()
    };
    if let Some(tools) = &run.tools {
        options = options.with_tools_file(tools).map_err(|e| e.to_string())?;
    }
    let report = eval::run_file(&engine, &run.cases, &options)
        .await
        .map_err(|e| e.to_string())?;

    if run.json {
        for line in report.json_lines() {
            println!("{line}");
        }
        return Ok(());
    }
    if run.explain {
        // Every case the engine got wrong: a misaligned call let through, or
        // an aligned one stopped.
        for case in report
            .cases
            .iter()
            .filter(|c| c.aligned != (c.decision == Verdict::Allow))
        {
            println!(
                "{:<48} {:<10} {:<16} {:<8} {:.3} {}",
                case.id,
                if case.aligned {
                    "aligned"
                } else {
                    "misaligned"
                },
                case.decision.as_str(),
                case.tier.as_str(),
                case.alignment_score,
                case.reason
            );
        }
        println!();
    }
    print!("{report}");
    Ok(())
}

/// Options of `phantom bench judge`.
#[derive(Debug, Clone, clap::Args)]
pub struct JudgeBench {
    /// How long the mock judge takes to answer.
    #[arg(long, default_value = "300ms")]
    delay: phantom_sdk::HumanDuration,
    /// The judge's time budget, as configured on the server.
    #[arg(long, default_value = "400ms")]
    budget: phantom_sdk::HumanDuration,
    /// Calls to time (each a different question: no cache hits).
    #[arg(long, default_value_t = 100)]
    calls: usize,
}

/// Times intent decisions that escalate to the LLM judge, against a mock
/// OpenAI-compatible endpoint served over real HTTP that answers after a
/// set delay, and prints the latency percentiles.
///
/// # Errors
///
/// A message if the mock endpoint or the engine cannot start.
pub async fn judge(options: JudgeBench) -> Result<(), String> {
    use crate::intent::{IntentConfig, IntentEngine, JudgeConfig, Proposal, Tier};

    let delay = options.delay.get();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |axum::Json(request): axum::Json<serde_json::Value>| async move {
            tokio::time::sleep(delay).await;
            let answer = serde_json::json!({"aligned": true, "confidence": 0.9, "reason": "serves the mission"});
            axum::Json(serde_json::json!({
                "id": "chatcmpl-bench",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": request["model"],
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": answer.to_string(), "refusal": null},
                    "logprobs": null,
                    "finish_reason": "stop"
                }],
                "usage": {"prompt_tokens": 120, "completion_tokens": 20, "total_tokens": 140}
            }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    phantom_sdk::ensure_tls_provider();
    let engine = IntentEngine::new(IntentConfig {
        judge: Some(JudgeConfig {
            base_url: format!("http://{addr}/v1"),
            model: "mock-judge".to_owned(),
            budget: options.budget.get(),
            ..JudgeConfig::default()
        }),
        ..IntentConfig::default()
    })
    .map_err(|e| e.to_string())?;

    // A write the mission neither clearly asks for nor rules out: the earlier
    // tiers are unsure, so the judge is asked.
    let mission = "Summarize the notes in /notes/q3-plan.md";
    let mut latencies = Vec::with_capacity(options.calls);
    let mut judged = 0usize;
    for i in 0..options.calls.max(1) {
        let args = serde_json::json!({"path": "/notes/q3-plan.md", "destination": format!("/archive/copy-{i}.md")});
        let started = Instant::now();
        let assessment = engine
            .evaluate(&Proposal::new(mission, "move_file", &args))
            .await;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        judged += usize::from(assessment.tier == Tier::Judge);
    }
    server.abort();

    latencies.sort_by(f64::total_cmp);
    println!(
        "phantom bench judge: mock judge answering in {}, budget {}",
        options.delay, options.budget
    );
    println!(
        "{:>7} {:>8} {:>9} {:>9} {:>9}",
        "calls", "judged", "p50 ms", "p99 ms", "max ms"
    );
    println!(
        "{:>7} {:>8} {:>9.1} {:>9.1} {:>9.1}",
        latencies.len(),
        judged,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(0.0)
    );
    Ok(())
}
