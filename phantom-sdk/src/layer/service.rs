//! The service [`PhantomLayer`](super::PhantomLayer) wraps tools in.

use std::fmt;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tower::{BoxError, Service, ServiceExt};

use super::APPROVAL_POLL;
use super::call::{ToolCall, ToolOutcome, ToolOutput};
use super::mission::Mission;
use crate::approval::ApprovalStatus;
use crate::authorize::{AuthorizeRequest, Decision, DecisionCode, Verdict};
use crate::client::PhantomClient;
use crate::error::Error;
use crate::mission::RecordAction;
use crate::provenance::Fingerprinter;

/// How often recording an executed action is tried before giving up: the
/// action already happened, so losing its compensation is worth a retry.
const RECORD_ATTEMPTS: u32 = 3;

/// Why a guarded call failed. A denial is not a failure: it is
/// [`ToolOutcome::Denied`].
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// Phantom could not be asked; the tool did not run.
    #[error("phantom could not authorize the call: {0}")]
    Phantom(#[source] Error),
    /// The tool ran and failed.
    #[error("tool failed: {0}")]
    Tool(#[source] BoxError),
    /// The tool ran but Phantom could not record it, so its compensation
    /// is not known to the mission. The output is kept so the agent can
    /// still use it, or undo the call itself.
    #[error("the tool ran but phantom did not record it: {source}")]
    Unrecorded {
        /// What the tool returned.
        output: Box<ToolOutput>,
        /// Why recording failed.
        #[source]
        source: Error,
    },
}

/// A tool service behind Phantom. Built by [`PhantomLayer`](super::PhantomLayer).
#[derive(Clone)]
pub struct PhantomService<S> {
    inner: S,
    client: PhantomClient,
    approval_timeout: Duration,
}

impl<S> PhantomService<S> {
    pub(super) fn new(inner: S, client: PhantomClient, approval_timeout: Duration) -> Self {
        Self {
            inner,
            client,
            approval_timeout,
        }
    }

    /// The tools behind the layer, e.g. to run compensations directly.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S> fmt::Debug for PhantomService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PhantomService")
            .field("server", &self.client.base_url())
            .finish_non_exhaustive()
    }
}

impl<S> Service<ToolCall> for PhantomService<S>
where
    S: Service<ToolCall, Response = ToolOutput> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
{
    type Response = ToolOutcome;
    type Error = LayerError;
    type Future = BoxFuture<'static, Result<ToolOutcome, LayerError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Readiness of the inner tool is awaited only once the call is
        // allowed: a blocked call must not wait on a busy tool.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: ToolCall) -> Self::Future {
        let guard = Guard {
            inner: self.inner.clone(),
            client: self.client.clone(),
            approval_timeout: self.approval_timeout,
        };
        Box::pin(guard.run(call))
    }
}

/// One guarded call, owning what it needs.
struct Guard<S> {
    inner: S,
    client: PhantomClient,
    approval_timeout: Duration,
}

impl<S> Guard<S>
where
    S: Service<ToolCall, Response = ToolOutput> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
{
    async fn run(mut self, call: ToolCall) -> Result<ToolOutcome, LayerError> {
        let span = tracing::debug_span!("tool_call", tool = %call.action.tool);
        let _entered = span.enter();

        let decision = self
            .client
            .authorize(&call.action)
            .await
            .map_err(LayerError::Phantom)?;
        tracing::debug!(target: "phantom::decision", decision = %decision.decision, code = %decision.code, "authorized");

        let decision = match decision.decision {
            Verdict::Allow => decision,
            Verdict::Block => return Ok(ToolOutcome::Denied(decision)),
            Verdict::RequireApproval => match self.await_approval(&call, decision).await? {
                Ok(allowed) => allowed,
                Err(denied) => return Ok(ToolOutcome::Denied(denied)),
            },
        };

        let output = self
            .inner
            .ready()
            .await
            .map_err(|e| LayerError::Tool(e.into()))?
            .call(call.clone())
            .await
            .map_err(|e| LayerError::Tool(e.into()))?;

        if let Some(mission_id) = decision.mission_id.clone() {
            record(&self.client, &mission_id, decision, &call, output).await
        } else {
            Ok(ToolOutcome::Ran { output, decision })
        }
    }

    /// Waits for a human, then retries with the approval. `Ok(Err(_))` is
    /// a denial to hand back; the mission has been rolled back then.
    async fn await_approval(
        &mut self,
        call: &ToolCall,
        asked: Decision,
    ) -> Result<Result<Decision, Decision>, LayerError> {
        let Some(approval_id) = asked.approval_id.clone() else {
            return Ok(Err(asked));
        };
        let started = Instant::now();

        let approval = loop {
            let left = self.approval_timeout.saturating_sub(started.elapsed());
            let approval = self
                .client
                .approval(&approval_id, Some(left.min(APPROVAL_POLL)))
                .await
                .map_err(LayerError::Phantom)?;
            if approval.status.is_settled() {
                break approval;
            }
            if started.elapsed() >= self.approval_timeout {
                // Still pending: hand back the request itself, so the agent
                // can tell "held for a human" from "refused".
                return Ok(Err(asked));
            }
        };

        if approval.status == ApprovalStatus::Approved {
            let retry = self
                .client
                .authorize_request(&AuthorizeRequest {
                    action: call.action.clone(),
                    approval_id: Some(approval_id),
                })
                .await
                .map_err(LayerError::Phantom)?;
            return Ok(if retry.is_allowed() {
                Ok(retry)
            } else {
                Err(retry)
            });
        }

        // Denied, expired or withdrawn: the server has ended the mission and
        // made its compensations due; undo what the agent did.
        if let Some(mission_id) = &asked.mission_id {
            Mission::attach(self.client.clone(), mission_id)
                .rollback(&mut self.inner)
                .await
                .map_err(LayerError::Phantom)?;
        }
        let by = approval.decided_by.as_deref().unwrap_or("nobody");
        let reason = match approval.status {
            ApprovalStatus::Denied => format!("{by} denied the approval request"),
            ApprovalStatus::Expired => "the approval request expired unanswered".to_owned(),
            _ => "the approval request was withdrawn (token revoked or mission ended)".to_owned(),
        };
        Ok(Err(Decision {
            decision: Verdict::Block,
            code: DecisionCode::ApprovalDenied,
            reason,
            ..asked
        }))
    }
}

/// Records an executed action and its compensation with the mission.
async fn record(
    client: &PhantomClient,
    mission_id: &str,
    decision: Decision,
    call: &ToolCall,
    output: ToolOutput,
) -> Result<ToolOutcome, LayerError> {
    // The output's values, fingerprinted with the mission's salt, so the
    // server can later tell where an argument came from.
    let observation =
        Fingerprinter::new(mission_id).observe(&call.action.tool, call.source, &output.content);
    let record = RecordAction {
        action_id: decision.action_id.clone(),
        tool: call.action.tool.clone(),
        compensation: output.compensation.clone(),
        observation: Some(observation),
    };

    let mut attempt = 1;
    loop {
        match client.record_action(mission_id, &record).await {
            Ok(_) => return Ok(ToolOutcome::Ran { output, decision }),
            // Only transport failures are worth another try; an answer
            // from the server will not change.
            Err(Error::Transport(e)) if attempt < RECORD_ATTEMPTS => {
                tracing::debug!(error = %e, attempt, "recording the action failed; retrying");
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                attempt += 1;
            }
            Err(source) => {
                return Err(LayerError::Unrecorded {
                    output: Box::new(output),
                    source,
                });
            }
        }
    }
}
