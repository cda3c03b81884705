//! [`Observed`]: records Phantom's decision on every call that goes
//! through the guarded tools, for the travel agent's table.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use phantom_sdk::{Decision, LayerError, ToolCall, ToolOutcome, Verdict};
use serde_json::Value;
use tower::Service;

/// A decision as the table shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// ALLOW, BLOCK or REQUIRE_APPROVAL.
    pub verdict: Verdict,
    /// Why, for machines (`allowed`, `intent_misaligned`, ...).
    pub code: String,
    /// How well the call serves the mission, when it was scored.
    pub alignment_score: Option<f64>,
    /// Why, for people.
    pub reason: String,
}

impl From<&Decision> for Seen {
    fn from(decision: &Decision) -> Self {
        Self {
            verdict: decision.decision,
            code: decision.code.to_string(),
            alignment_score: decision.alignment_score,
            reason: decision.reason.clone(),
        }
    }
}

/// One call through the guarded tools and what became of it.
#[derive(Debug, Clone)]
pub struct Observation {
    /// The tool.
    pub tool: String,
    /// Its arguments.
    pub args: Value,
    /// Phantom's decision; `None` when Phantom could not be asked.
    pub seen: Option<Seen>,
    /// Whether the tool ran.
    pub ran: bool,
    /// What failed: Phantom unreachable, or the tool failing after an ALLOW.
    pub error: Option<String>,
}

/// Wraps the tools behind Phantom and records each call's decision, which
/// every outcome carries.
#[derive(Clone)]
pub struct Observed<S> {
    inner: S,
    log: Arc<Mutex<Vec<Observation>>>,
}

impl<S> Observed<S> {
    /// Observes `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            log: Arc::default(),
        }
    }

    /// The calls so far, oldest first.
    pub fn observations(&self) -> Vec<Observation> {
        self.log.lock().map(|log| log.clone()).unwrap_or_default()
    }
}

impl<S> Service<ToolCall> for Observed<S>
where
    S: Service<ToolCall, Response = ToolOutcome, Error = LayerError> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = ToolOutcome;
    type Error = LayerError;
    type Future = Pin<Box<dyn Future<Output = Result<ToolOutcome, LayerError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, call: ToolCall) -> Self::Future {
        // The instance that was polled ready serves this call; a clone
        // stays for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let log = Arc::clone(&self.log);

        Box::pin(async move {
            let tool = call.action.tool.clone();
            let args = call.action.args.clone();
            let result = inner.call(call).await;

            let (seen, ran, error) = match &result {
                Ok(ToolOutcome::Denied(decision)) => (Some(Seen::from(decision)), false, None),
                Ok(ToolOutcome::Ran { decision, .. }) => (Some(Seen::from(decision)), true, None),
                Err(LayerError::Phantom(e)) => (None, false, Some(format!("phantom: {e}"))),
                // Allowed, then the tool (or recording it) failed.
                Err(e) => (None, true, Some(e.to_string())),
            };
            if let Ok(mut log) = log.lock() {
                log.push(Observation {
                    tool,
                    args,
                    seen,
                    ran,
                    error,
                });
            }
            result
        })
    }
}
