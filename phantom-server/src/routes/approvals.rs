//! Human approval: list, wait on, decide.

use std::time::Duration;

use aide::axum::ApiRouter;
use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::State;
use phantom_sdk::{Approval, ApprovalDecision, HumanDuration};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::approvals;
use crate::auth::{Caller, Operator};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::missions::MissionError;
use crate::state::AppState;
use crate::store::StoreError;

/// Longest a long poll may hold a connection.
const MAX_WAIT: Duration = Duration::from_secs(60);

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route("/v1/approvals", get_with(list, |op| op.summary("Approval requests, by status")))
        .api_route(
            "/v1/approvals/{id}",
            get_with(read, |op| {
                op.summary("One approval request; with `wait`, holds the request until it is settled (long poll)")
            }),
        )
        .api_route(
            "/v1/approvals/{id}/decision",
            post_with(decide, |op| op.summary("Approve or deny; a denial terminates the mission and rolls it back")),
        )
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// `pending`, `approved`, `denied`, `expired` or `cancelled`.
    status: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WaitQuery {
    /// Hold the request up to this long (at most 60s) for the approval to
    /// be settled, e.g. `25s`.
    wait: Option<HumanDuration>,
}

#[derive(Deserialize, JsonSchema)]
struct ApprovalPath {
    /// The approval's id.
    id: String,
}

async fn list(
    _: Operator,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<Approval>>> {
    let status = query
        .status
        .as_deref()
        .map(approvals::status_from_query)
        .transpose()?;
    let found = state
        .store()
        .read(move |conn| approvals::list(conn, status).map_err(StoreError::from))
        .await?;
    Ok(Json(found))
}

async fn read(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<ApprovalPath>,
    ApiQuery(query): ApiQuery<WaitQuery>,
) -> ApiResult<Json<Approval>> {
    let wait = query
        .wait
        .map_or(Duration::ZERO, HumanDuration::get)
        .min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    // Subscribe before reading, so a change between the read and the wait
    // is not missed.
    let mut changes = state.watch_approvals();

    loop {
        let id = path.id.clone();
        let approval = state
            .store()
            .read(move |conn| approvals::get(conn, &id).map_err(StoreError::from))
            .await?
            .ok_or_else(|| ApiError::not_found("approval", &path.id))?;
        if let Caller::Agent(token) = &caller
            && token.id != approval.token_id
        {
            return Err(ApiError::forbidden(
                "this approval belongs to another token",
            ));
        }

        if approval.status.is_settled() {
            return Ok(Json(approval));
        }
        match tokio::time::timeout_at(deadline, changes.changed()).await {
            Ok(Ok(())) => continue,
            // Timed out, or the server is shutting down: answer as it stands.
            Ok(Err(_)) | Err(_) => return Ok(Json(approval)),
        }
    }
}

async fn decide(
    _: Operator,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<ApprovalPath>,
    ApiJson(decision): ApiJson<ApprovalDecision>,
) -> ApiResult<Json<Approval>> {
    if decision.by.trim().is_empty() || decision.by.len() > 256 {
        return Err(ApiError::invalid(
            "invalid_request",
            "`by` must name who decides (1 to 256 characters)",
        ));
    }
    let note: Option<String> = decision.note.map(|n| n.chars().take(2000).collect());
    let now_ms = state.clock().now_ms();
    let approval = state
        .store()
        .write(move |conn| -> Result<_, MissionError> {
            approvals::decide(
                conn,
                &path.id,
                decision.approve,
                decision.by.trim(),
                note.as_deref(),
                now_ms,
            )
        })
        .await?;
    state.approvals_changed();
    Ok(Json(approval))
}
