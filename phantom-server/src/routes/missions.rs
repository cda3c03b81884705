//! Missions: create, read, record actions, move through the lifecycle,
//! report compensations.

use aide::axum::ApiRouter;
use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::State;
use phantom_sdk::{
    CompensationResult, CreateMission, MissionRecord, MissionState, RecordAction, Transition,
};
use schemars::JsonSchema;
use serde::Deserialize;

use super::Created;
use super::tokens::{MAX_INTENT_LEN, user_subject};
use crate::auth::{Caller, Operator};
use crate::entitlements;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::missions::{self, Ending, MissionError, MissionRow};
use crate::secrets;
use crate::state::AppState;

/// Longest mission timeout accepted.
const MAX_TIMEOUT_DAYS: u64 = 365;

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route("/v1/missions", post_with(create, |op| op.summary("Create a mission")))
        .api_route(
            "/v1/missions/{id}",
            get_with(read, |op| op.summary("A mission: state, actions, pending approvals, compensations due")),
        )
        .api_route(
            "/v1/missions/{id}/actions",
            post_with(record_action, |op| op.summary("Record an executed action and its compensation")),
        )
        .api_route(
            "/v1/missions/{id}/compensations/{seq}",
            post_with(report_compensation, |op| op.summary("Report what running a due compensation gave")),
        )
        .api_route(
            "/v1/missions/{id}/{transition}",
            post_with(transition, |op| {
                op.summary("complete, fail, terminate, pause or resume; fail and terminate roll back by compensation, newest first")
            }),
        )
}

#[derive(Deserialize, JsonSchema)]
struct MissionPath {
    /// The mission's id.
    id: String,
}

#[derive(Deserialize, JsonSchema)]
struct TransitionPath {
    /// The mission's id.
    id: String,
    /// `complete`, `fail`, `terminate`, `pause` or `resume`.
    transition: String,
}

#[derive(Deserialize, JsonSchema)]
struct CompensationPath {
    /// The mission's id.
    id: String,
    /// The action's sequence number within the mission.
    seq: u32,
}

async fn create(
    _: Operator,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<CreateMission>,
) -> ApiResult<Created<MissionRecord>> {
    let user = user_subject(&request.user)?;
    let intent = request.intent.trim().to_owned();
    if intent.is_empty() || intent.len() > MAX_INTENT_LEN {
        return Err(ApiError::invalid(
            "invalid_request",
            format!("`intent` must be 1 to {MAX_INTENT_LEN} bytes"),
        ));
    }
    let timeout = request.timeout.get();
    if timeout.is_zero() || timeout.as_secs() > MAX_TIMEOUT_DAYS * 86_400 {
        return Err(ApiError::invalid(
            "invalid_duration",
            format!("`timeout` must be between 1s and {MAX_TIMEOUT_DAYS} days"),
        ));
    }
    if request.requires_entitlements.len() > 32
        || request
            .requires_entitlements
            .iter()
            .any(|e| e.is_empty() || e.len() > 128)
    {
        return Err(ApiError::invalid(
            "invalid_request",
            "at most 32 entitlements of 1 to 128 characters",
        ));
    }

    state.prime_intent(&intent);
    let now_ms = state.clock().now_ms();
    let mission = MissionRow {
        id: secrets::new_id("msn"),
        user,
        intent,
        state: MissionState::Running,
        state_reason: None,
        durable: request.durable,
        requires: request.requires_entitlements,
        created_at: now_ms,
        deadline: now_ms.saturating_add(i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX)),
    };
    let record = state
        .store()
        .write(move |conn| -> Result<_, MissionError> {
            let missing = entitlements::missing(conn, &mission.user, &mission.requires)?;
            if !missing.is_empty() {
                return Err(ApiError::conflict(
                    "missing_entitlement",
                    format!(
                        "{} lacks the entitlements {}",
                        mission.user,
                        missing.join(", ")
                    ),
                )
                .into());
            }
            missions::insert(conn, &mission)?;
            missions::record(conn, &mission.id)
        })
        .await?;
    Ok(Created(record))
}

async fn read(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<MissionPath>,
) -> ApiResult<Json<MissionRecord>> {
    caller.may_touch_mission(&path.id)?;
    let record = state
        .store()
        .read(move |conn| missions::record(conn, &path.id))
        .await?;
    Ok(Json(record))
}

async fn record_action(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<MissionPath>,
    ApiJson(action): ApiJson<RecordAction>,
) -> ApiResult<Json<MissionRecord>> {
    caller.may_touch_mission(&path.id)?;
    if let Some(compensation) = &action.compensation
        && (compensation.name.is_empty() || compensation.name.len() > 128)
    {
        return Err(ApiError::invalid(
            "invalid_request",
            "a compensation's `name` must be 1 to 128 characters",
        ));
    }
    if let Some(observation) = &action.observation {
        crate::provenance::validate(observation)?;
    }
    let now_ms = state.clock().now_ms();
    let observation = action.observation.clone();
    let mission_id = path.id.clone();
    let record = state
        .store()
        .write(move |conn| -> Result<_, MissionError> {
            missions::record_action(conn, &path.id, &action, now_ms)?;
            missions::record(conn, &path.id)
        })
        .await?;
    if let Some(observation) = observation {
        state.ledgers().recorded(&mission_id, observation);
    }
    Ok(Json(record))
}

async fn transition(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<TransitionPath>,
    ApiJson(body): ApiJson<Transition>,
) -> ApiResult<Json<MissionRecord>> {
    caller.may_touch_mission(&path.id)?;
    let agent_may = matches!(path.transition.as_str(), "complete" | "fail");
    if matches!(caller, Caller::Agent(_)) && !agent_may {
        return Err(ApiError::forbidden(format!(
            "an agent may complete or fail its mission, not {}",
            path.transition
        )));
    }
    let reason: Option<String> = body.reason.map(|r| r.chars().take(1000).collect());

    let now_ms = state.clock().now_ms();
    let record = state
        .store()
        .write(move |conn| -> Result<_, MissionError> {
            let id = path.id.as_str();
            match path.transition.as_str() {
                "complete" => missions::transition(
                    conn,
                    id,
                    MissionState::Completed,
                    reason.as_deref(),
                    now_ms,
                )?,
                "pause" => {
                    missions::transition(conn, id, MissionState::Paused, reason.as_deref(), now_ms)?
                }
                "resume" => missions::transition(
                    conn,
                    id,
                    MissionState::Running,
                    reason.as_deref(),
                    now_ms,
                )?,
                "fail" => missions::end(
                    conn,
                    id,
                    Ending::Fail,
                    reason.as_deref().unwrap_or("the agent reported failure"),
                    now_ms,
                )?,
                "terminate" => missions::end(
                    conn,
                    id,
                    Ending::Terminate,
                    reason.as_deref().unwrap_or("terminated by an operator"),
                    now_ms,
                )?,
                other => {
                    return Err(ApiError::not_found("mission transition", other).into());
                }
            };
            missions::record(conn, id)
        })
        .await?;

    // Ending a mission withdraws its pending approvals.
    state.approvals_changed();
    Ok(Json(record))
}

async fn report_compensation(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<CompensationPath>,
    ApiJson(result): ApiJson<CompensationResult>,
) -> ApiResult<Json<MissionRecord>> {
    caller.may_touch_mission(&path.id)?;
    let now_ms = state.clock().now_ms();
    let record = state
        .store()
        .write(move |conn| -> Result<_, MissionError> {
            missions::report_compensation(
                conn,
                &path.id,
                path.seq,
                result.ok,
                result.detail.as_deref(),
                now_ms,
            )?;
            missions::record(conn, &path.id)
        })
        .await?;
    Ok(Json(record))
}
