//! `POST /v1/graph/write`, `POST /v1/graph/check`.

use aide::axum::ApiRouter;
use aide::axum::routing::post_with;
use axum::Json;
use axum::extract::State;
use phantom_sdk::{CheckRequest, CheckResponse, WriteTuples, Written};

use crate::auth::Operator;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::state::AppState;

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/v1/graph/write",
            post_with(write, |op| {
                op.summary("Write and delete tuples atomically; returns the new revision")
            }),
        )
        .api_route(
            "/v1/graph/check",
            post_with(check, |op| {
                op.summary("Does the subject have the relation on the object?")
            }),
        )
}

async fn write(
    _: Operator,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<WriteTuples>,
) -> ApiResult<Json<Written>> {
    let now_ms = state.clock().now_ms();
    let revision = state.graph().write(state.store(), now_ms, request).await?;
    Ok(Json(Written { revision }))
}

async fn check(
    _: Operator,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<CheckRequest>,
) -> ApiResult<Json<CheckResponse>> {
    let (allowed, revision) = state.graph().check(
        &request.subject,
        &request.relation,
        &request.object,
        request.at_least,
    )?;
    Ok(Json(CheckResponse { allowed, revision }))
}
