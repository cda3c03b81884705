//! `POST /v1/test/clock`: move a manual clock forward. Mounted only when
//! the server runs with `--clock manual`, for tests of expiry that must not
//! wait.

use aide::axum::ApiRouter;
use aide::axum::routing::post_with;
use axum::Json;
use axum::extract::State;
use phantom_sdk::{HumanDuration, Timestamp};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::auth::Operator;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::AppState;

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new().api_route(
        "/v1/test/clock",
        post_with(advance, |op| {
            op.summary("Move the manual clock forward (test mode only)")
        }),
    )
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Advance {
    /// How far to move, e.g. `6m`.
    advance: HumanDuration,
}

#[derive(Serialize, JsonSchema)]
struct Now {
    /// The clock after moving.
    now: Timestamp,
}

async fn advance(
    _: Operator,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<Advance>,
) -> ApiResult<Json<Now>> {
    if !state.clock().advance(request.advance.get()) {
        return Err(ApiError::conflict(
            "clock_not_manual",
            "the server's clock is the system's",
        ));
    }
    // Deadlines may have passed: expire what is due now rather than at the
    // next tick.
    crate::server::sweep(&state).await?;
    Ok(Json(Now {
        now: state.clock().now(),
    }))
}
