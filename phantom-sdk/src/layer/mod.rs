//! [`PhantomLayer`]: put Phantom in front of any tool service.
//!
//! The layer's service authorizes every [`ToolCall`] with the agent's ghost
//! token, waits for a human when Phantom asks for approval, runs the inner
//! tool only when allowed, records what ran together with its compensation,
//! and turns a denial into a [`ToolOutcome::Denied`] value. When a human
//! denies an approval, the mission is terminated and the layer runs the due
//! compensations through the inner service, newest first.
//!
//! # Example
//!
//! ```no_run
//! use phantom_sdk::{PhantomClient, PhantomLayer, ToolCall, ToolOutput};
//! use tower::{Service, ServiceBuilder, ServiceExt, service_fn};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let agent = PhantomClient::agent("http://127.0.0.1:7700", "phm_…")?;
//! let tool = service_fn(|call: ToolCall| async move {
//!     Ok::<_, std::io::Error>(ToolOutput::new(serde_json::json!({"echo": call.action.args})))
//! });
//! let mut guarded = ServiceBuilder::new().layer(PhantomLayer::new(agent)).service(tool);
//! let outcome = guarded.ready().await?.call(ToolCall::new("echo", serde_json::json!({}))).await?;
//! println!("{}", outcome.to_model_text());
//! # Ok(()) }
//! ```

mod call;
mod mission;
mod service;

pub use call::{ToolCall, ToolOutcome, ToolOutput};
pub use mission::{Mission, Rollback, RunError};
pub use service::{LayerError, PhantomService};

use std::time::Duration;

use tower::Layer;

use crate::client::PhantomClient;

/// How long one long-poll for an approval lasts; the layer polls again
/// until the approval is settled or [`PhantomLayer::approval_timeout`]
/// passes.
const APPROVAL_POLL: Duration = Duration::from_secs(25);

/// A tower [`Layer`] that routes every tool call through Phantom.
#[derive(Debug, Clone)]
pub struct PhantomLayer {
    client: PhantomClient,
    approval_timeout: Duration,
}

impl PhantomLayer {
    /// A layer authorizing with `agent`, a client holding the agent's ghost
    /// token.
    pub fn new(agent: PhantomClient) -> Self {
        Self {
            client: agent,
            // Phantom expires unanswered approvals after 48 hours by default:
            // waiting as long lets the server's answer stand.
            approval_timeout: Duration::from_secs(48 * 3600),
        }
    }

    /// Gives up waiting for an approval after `timeout` (zero: do not wait
    /// at all); the call is then reported as [`ToolOutcome::Denied`] with
    /// the REQUIRE_APPROVAL decision, and the approval stays pending on the
    /// server.
    pub fn approval_timeout(mut self, timeout: Duration) -> Self {
        self.approval_timeout = timeout;
        self
    }
}

impl<S> Layer<S> for PhantomLayer {
    type Service = PhantomService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PhantomService::new(inner, self.client.clone(), self.approval_timeout)
    }
}
