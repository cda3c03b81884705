//! What every request handler shares.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::watch;

use crate::auth::ApiKeys;
use crate::clock::Clock;
use crate::config::Config;
use crate::graph::ShadowGraph;
use crate::intent::IntentEngine;
use crate::provenance::Ledgers;
use crate::store::Store;

/// The server's shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: Config,
    store: Store,
    graph: ShadowGraph,
    intent: IntentEngine,
    clock: Clock,
    api_keys: ApiKeys,
    ledgers: Ledgers,
    // Bumped after every change that may settle an approval, so long polls
    // wake and look again.
    approvals_changed: watch::Sender<u64>,
    metrics: Option<PrometheusHandle>,
}

impl AppState {
    /// Assembles the state.
    pub fn new(
        config: Config,
        store: Store,
        graph: ShadowGraph,
        intent: IntentEngine,
        clock: Clock,
        api_keys: ApiKeys,
        metrics: Option<PrometheusHandle>,
    ) -> Self {
        Self(Arc::new(Inner {
            config,
            store,
            graph,
            intent,
            clock,
            api_keys,
            ledgers: Ledgers::default(),
            approvals_changed: watch::Sender::new(0),
            metrics,
        }))
    }

    /// The effective configuration.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The relationship graph.
    pub fn graph(&self) -> &ShadowGraph {
        &self.0.graph
    }

    /// The intent engine.
    pub fn intent(&self) -> &IntentEngine {
        &self.0.intent
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.0.clock
    }

    /// The accepted API keys.
    pub fn api_keys(&self) -> &ApiKeys {
        &self.0.api_keys
    }

    /// The missions' provenance ledgers.
    pub fn ledgers(&self) -> &Ledgers {
        &self.0.ledgers
    }

    /// The Prometheus renderer, when this process installed the recorder.
    pub fn metrics(&self) -> Option<&PrometheusHandle> {
        self.0.metrics.as_ref()
    }

    /// Embeds a mission's intent ahead of its first call, off the request
    /// path: the intent engine's semantic tier is then fast from the start.
    pub fn prime_intent(&self, intent: &str) {
        let state = self.clone();
        let intent = intent.to_owned();
        drop(tokio::task::spawn_blocking(move || {
            state.intent().prime(&intent)
        }));
    }

    /// Wakes everyone waiting on an approval.
    pub fn approvals_changed(&self) {
        self.0
            .approvals_changed
            .send_modify(|version| *version = version.wrapping_add(1));
    }

    /// A receiver that sees the next [`approvals_changed`](Self::approvals_changed).
    pub fn watch_approvals(&self) -> watch::Receiver<u64> {
        self.0.approvals_changed.subscribe()
    }
}
