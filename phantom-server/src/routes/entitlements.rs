//! `POST /v1/entitlements`, `DELETE /v1/entitlements`.

use aide::axum::ApiRouter;
use aide::axum::routing::post_with;
use axum::Json;
use axum::extract::State;
use phantom_sdk::{Entitlement, EntitlementChange};

use super::tokens::user_subject;
use crate::auth::Operator;
use crate::entitlements;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::missions::MissionError;
use crate::state::AppState;
use crate::store::StoreError;

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new().api_route(
        "/v1/entitlements",
        post_with(grant, |op| op.summary("Grant an entitlement")).delete_with(remove, |op| {
            op.summary("Remove an entitlement; pauses every mission that requires it")
        }),
    )
}

fn validate(entitlement: &Entitlement) -> Result<(String, String), ApiError> {
    let user = user_subject(&entitlement.user)?;
    let name = entitlement.entitlement.trim();
    let valid = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
    if !valid {
        return Err(ApiError::invalid(
            "invalid_request",
            "`entitlement` must be 1 to 128 letters, digits or `_ - . :`",
        ));
    }
    Ok((user, name.to_owned()))
}

async fn grant(
    _: Operator,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<Entitlement>,
) -> ApiResult<Json<EntitlementChange>> {
    let (user, name) = validate(&request)?;
    let now_ms = state.clock().now_ms();
    state
        .store()
        .write(move |conn| {
            entitlements::grant(conn, &user, &name, now_ms).map_err(StoreError::from)
        })
        .await?;
    Ok(Json(EntitlementChange {
        held: true,
        paused_missions: Vec::new(),
    }))
}

async fn remove(
    _: Operator,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<Entitlement>,
) -> ApiResult<Json<EntitlementChange>> {
    let (user, name) = validate(&request)?;
    let now_ms = state.clock().now_ms();
    let paused = state
        .store()
        .write(move |conn| -> Result<_, MissionError> {
            entitlements::remove(conn, &user, &name, now_ms)
        })
        .await?;
    Ok(Json(EntitlementChange {
        held: false,
        paused_missions: paused,
    }))
}
