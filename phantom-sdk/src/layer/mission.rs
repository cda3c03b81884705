//! [`Mission`]: a handle on a mission that undoes its work on failure.

use std::future::Future;

use tower::{BoxError, Service, ServiceExt};

use super::call::{ToolCall, ToolOutput};
use crate::client::PhantomClient;
use crate::error::Error;
use crate::mission::{CompensationResult, CreateMission, MissionRecord, MissionState};

/// A handle on one mission.
///
/// Phantom keeps the mission and its compensation log; the handle runs the
/// compensations, because only the agent's side can call its tools.
///
/// # Example
///
/// ```no_run
/// use phantom_sdk::{CreateMission, HumanDuration, Mission, PhantomClient};
///
/// # async fn run(tools: impl tower::Service<phantom_sdk::ToolCall, Response = phantom_sdk::ToolOutput, Error = std::io::Error> + Clone) -> Result<(), phantom_sdk::Error> {
/// let operator = PhantomClient::operator("http://127.0.0.1:7700", "phk_…")?;
/// let mission = Mission::create(&operator, &CreateMission {
///     user: "user:123".into(),
///     intent: "Deep legal research on patent case".into(),
///     timeout: "7d".parse().map_err(|e| phantom_sdk::Error::Invalid(format!("{e}")))?,
///     durable: true,
///     requires_entitlements: vec![],
/// }).await?;
/// let result = mission.run(tools, |tools| async move {
///     // ... the agent's work, through tools wrapped in PhantomLayer ...
///     Ok::<_, std::io::Error>(())
/// }).await;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Mission {
    client: PhantomClient,
    id: String,
}

/// What a rollback did.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollback {
    /// The compensations run, in the order they ran (newest action first):
    /// `(seq, tool, ok)`.
    pub ran: Vec<(u32, String, bool)>,
    /// The mission's state afterwards: `compensated` when all succeeded.
    pub state: MissionState,
}

/// Why [`Mission::run`] did not return the work's result.
#[derive(Debug, thiserror::Error)]
pub enum RunError<E> {
    /// The work failed; the mission was failed and rolled back.
    #[error("mission failed and was rolled back ({} compensations): {error}", rollback.ran.len())]
    Failed {
        /// The work's error.
        error: E,
        /// What the rollback did.
        rollback: Rollback,
    },
    /// Phantom could not be told, or the rollback could not finish.
    #[error(transparent)]
    Phantom(#[from] Error),
}

/// Runs one compensation, with the tool's error boxed at once so that the
/// future stays `Send` whatever the tool's error type is.
async fn run_one<S>(tools: &mut S, call: ToolCall) -> Result<ToolOutput, BoxError>
where
    S: Service<ToolCall, Response = ToolOutput>,
    S::Error: Into<BoxError>,
{
    let tool = tools.ready().await.map_err(Into::into)?;
    tool.call(call).await.map_err(Into::into)
}

impl Mission {
    /// Creates a mission. Operator only.
    ///
    /// # Errors
    ///
    /// Fails on transport errors, on bad input, and when the user lacks a
    /// required entitlement.
    pub async fn create(operator: &PhantomClient, request: &CreateMission) -> Result<Self, Error> {
        let record = operator.create_mission(request).await?;
        Ok(Self::attach(operator.clone(), &record.id))
    }

    /// A handle on an existing mission, through `client` (the operator's,
    /// or the agent's whose token serves the mission).
    pub fn attach(client: PhantomClient, id: &str) -> Self {
        Self {
            client,
            id: id.to_owned(),
        }
    }

    /// The mission's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The mission as Phantom has it now.
    ///
    /// # Errors
    ///
    /// Fails on transport errors.
    pub async fn record(&self) -> Result<MissionRecord, Error> {
        self.client.mission(&self.id).await
    }

    /// Marks the mission completed.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and if the mission is already over.
    pub async fn complete(&self) -> Result<MissionRecord, Error> {
        self.client.transition(&self.id, "complete", None).await
    }

    /// Fails the mission and runs its compensations through `tools`, newest
    /// first.
    ///
    /// # Errors
    ///
    /// Fails on transport errors.
    pub async fn fail<S>(&self, reason: &str, tools: &mut S) -> Result<Rollback, Error>
    where
        S: Service<ToolCall, Response = ToolOutput>,
        S::Error: Into<BoxError>,
    {
        self.client
            .transition(&self.id, "fail", Some(reason))
            .await?;
        self.rollback(tools).await
    }

    /// Runs the compensations Phantom says are due, newest action first, and
    /// reports each result. Safe to call again: only what is still due runs.
    ///
    /// # Errors
    ///
    /// Fails on transport errors. A compensation that fails is reported to
    /// Phantom (the mission then ends `compensation_failed`), not returned
    /// as an error.
    pub async fn rollback<S>(&self, tools: &mut S) -> Result<Rollback, Error>
    where
        S: Service<ToolCall, Response = ToolOutput>,
        S::Error: Into<BoxError>,
    {
        let record = self.client.mission(&self.id).await?;
        let mut ran = Vec::new();
        let mut state = record.state;

        for due in record.compensations_due {
            let Some(compensation) = due.compensation else {
                continue;
            };
            let call = ToolCall::new(compensation.name.clone(), compensation.args.clone());
            let result = run_one(tools, call).await;
            let report = match &result {
                Ok(_) => CompensationResult {
                    ok: true,
                    detail: None,
                },
                Err(e) => CompensationResult {
                    ok: false,
                    detail: Some(e.to_string()),
                },
            };
            tracing::debug!(seq = due.seq, tool = %compensation.name, ok = report.ok, "compensation ran");

            state = self
                .client
                .report_compensation(&self.id, due.seq, &report)
                .await?
                .state;
            ran.push((due.seq, compensation.name, report.ok));
        }

        Ok(Rollback { ran, state })
    }

    /// Runs `work` with a clone of `tools`; if it fails, fails the mission
    /// and rolls it back through `tools`. On success the mission is left
    /// running: call [`complete`](Self::complete) when the task is done.
    ///
    /// # Errors
    ///
    /// [`RunError::Failed`] carries the work's error and the rollback;
    /// [`RunError::Phantom`] is for Phantom being unreachable.
    pub async fn run<S, F, Fut, T, E>(&self, mut tools: S, work: F) -> Result<T, RunError<E>>
    where
        S: Service<ToolCall, Response = ToolOutput> + Clone,
        S::Error: Into<BoxError>,
        F: FnOnce(S) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: std::fmt::Display,
    {
        match work(tools.clone()).await {
            Ok(value) => Ok(value),
            Err(error) => {
                let rollback = self.fail(&error.to_string(), &mut tools).await?;
                Err(RunError::Failed { error, rollback })
            }
        }
    }
}
