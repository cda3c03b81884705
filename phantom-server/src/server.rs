//! Starting, running and stopping the server.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use phantom_sdk::Secret;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::approvals;
use crate::auth::{ApiKeys, FirstKey};
use crate::clock::Clock;
use crate::config::{Config, JudgeFailure};
use crate::error::ApiError;
use crate::graph::ShadowGraph;
use crate::intent::{FailMode, IntentConfig, IntentEngine, JudgeConfig, Thresholds};
use crate::missions::{self, Ending, MissionError};
use crate::routes;
use crate::state::AppState;
use crate::store::{Store, StoreError};

/// How often deadlines (approval expiry, mission timeouts) are checked.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Why the server could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The intent engine could not be built.
    #[error("intent engine: {0}")]
    Intent(String),
    /// Serving failed.
    #[error("server: {0}")]
    Serve(#[from] std::io::Error),
}

/// A server that is running.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    intent: String,
    first_key: Option<Secret>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServerError>>,
}

impl RunningServer {
    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Which tiers the intent engine runs, as the start-up log says it:
    /// whether MiniLM loaded or the lexical fallback stands, and why.
    pub fn intent_engine(&self) -> &str {
        &self.intent
    }

    /// The API key created on first start, if this start created one. Show
    /// it once; it is not stored anywhere in clear.
    pub fn take_first_key(&mut self) -> Option<Secret> {
        self.first_key.take()
    }

    /// Asks the server to stop and waits until it has: open requests finish,
    /// queued writes are committed.
    ///
    /// # Errors
    ///
    /// What serving failed with, if it did.
    pub async fn stop(mut self) -> Result<(), ServerError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.wait().await
    }

    /// Waits until the server stops (after a signal or [`stop`](Self::stop)).
    ///
    /// # Errors
    ///
    /// What serving failed with, if it did.
    pub async fn wait(self) -> Result<(), ServerError> {
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(ServerError::Serve(std::io::Error::other(e.to_string()))),
        }
    }
}

/// Starts a server with `config`: opens the store, loads the graph, builds
/// the intent engine, binds the listener, and serves until stopped or until
/// SIGINT/SIGTERM when `handle_signals` is set.
///
/// # Errors
///
/// Fails if any part cannot start.
pub async fn start(config: Config, handle_signals: bool) -> Result<RunningServer, ServerError> {
    // The LLM judge and any HTTPS client need a TLS crypto provider.
    phantom_sdk::ensure_tls_provider();

    tracing::info!(config = %config.redacted_json(), "starting phantom {}", env!("CARGO_PKG_VERSION"));
    let clock = Clock::new(config.clock);
    let store = Store::open(&config.data_dir)?;
    tracing::info!(path = %store.path().display(), "store: sqlite");

    let graph = ShadowGraph::load(&store).await?;
    let (api_keys, first_key) = ApiKeys::load(
        &store,
        config.api_key.as_ref().map(|k| k.expose()),
        clock.now_ms(),
    )
    .await?;
    let intent = IntentEngine::new(intent_config(&config))
        .map_err(|e| ServerError::Intent(e.to_string()))?;
    let described = intent.describe();
    tracing::info!("intent engine: {described}");

    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr()?;

    let state = AppState::new(
        config,
        store.clone(),
        graph,
        intent,
        clock,
        api_keys,
        prometheus(),
    );
    let app = routes::router(state.clone());
    let sweeper = tokio::spawn(sweep_forever(state.clone()));

    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        tracing::info!(%addr, "listening");
        let shutdown = async move {
            if handle_signals {
                tokio::select! {
                    _ = stopped => {}
                    () = signal() => {}
                }
            } else {
                let _ = stopped.await;
            }
            tracing::info!("shutting down: finishing open requests");
        };
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await;

        sweeper.abort();
        drop(state);
        store.close().await;
        tracing::info!("stopped");
        served.map_err(ServerError::Serve)
    });

    Ok(RunningServer {
        addr,
        intent: described,
        first_key: first_key.map(|FirstKey(key)| key),
        stop: Some(stop),
        task,
    })
}

/// The intent engine's configuration, from the server's.
pub fn intent_config(config: &Config) -> IntentConfig {
    let defaults = IntentConfig::default();
    IntentConfig {
        judge: config.judge_base_url.as_ref().map(|base_url| JudgeConfig {
            base_url: base_url.clone(),
            model: config.judge_model.clone(),
            api_key: config.judge_api_key.as_ref().map(|k| k.expose().to_owned()),
            budget: config.judge_budget.get(),
            on_failure: match config.judge_on_failure {
                JudgeFailure::Closed => FailMode::Closed,
                JudgeFailure::Hold => FailMode::Hold,
                JudgeFailure::Open => FailMode::Open,
            },
            ..JudgeConfig::default()
        }),
        thresholds: Thresholds {
            block: config.intent_block_below,
            ..defaults.thresholds
        },
        approval_spend_usd: config.spend_approval_usd,
        model_dir: Some(config.model_dir()),
        ..defaults
    }
}

/// The process-wide Prometheus recorder, installed on first use.
fn prometheus() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| match PrometheusBuilder::new().install_recorder() {
            Ok(handle) => Some(handle),
            Err(e) => {
                tracing::warn!(error = %e, "metrics recorder not installed; /metrics will be empty");
                None
            }
        })
        .clone()
}

async fn signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(terminate) => terminate,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only SIGINT stops the server");
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

async fn sweep_forever(state: AppState) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = sweep(&state).await {
            tracing::warn!(error = ?e, "deadline sweep failed; retrying next tick");
        }
    }
}

/// Expires unanswered approvals (as denials) and times out missions past
/// their deadline (terminated and rolled back).
///
/// # Errors
///
/// Store errors.
pub async fn sweep(state: &AppState) -> Result<(), ApiError> {
    let now_ms = state.clock().now_ms();

    // Most ticks find nothing due: look first, so an idle server does not
    // commit (and fsync) every second.
    let due: bool = state
        .store()
        .read(move |conn| {
            conn.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM approvals WHERE status = 'pending' AND expires_at <= ?1)
                     OR EXISTS (SELECT 1 FROM missions WHERE state IN ('running', 'paused') AND deadline <= ?1)",
            )?
            .query_row([now_ms], |row| row.get(0))
            .map_err(StoreError::from)
        })
        .await?;
    if !due {
        return Ok(());
    }

    let changed = state
        .store()
        .write(move |conn| -> Result<usize, MissionError> {
            let mut changed = approvals::expire_due(conn, now_ms)?;
            for id in missions::overdue(conn, now_ms)? {
                missions::end(
                    conn,
                    &id,
                    Ending::Terminate,
                    "the mission timed out",
                    now_ms,
                )?;
                changed += 1;
            }
            Ok(changed)
        })
        .await?;
    if changed > 0 {
        tracing::debug!(changed, "deadlines passed");
        state.approvals_changed();
    }
    Ok(())
}
