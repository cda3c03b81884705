//! `POST /v1/authorize`: the decision on one tool call, with the ghost
//! token as bearer.

use aide::axum::ApiRouter;
use aide::axum::routing::post_with;
use axum::Json;
use axum::extract::State;
use phantom_sdk::{AuthorizeRequest, Decision};

use crate::auth::Bearer;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::state::AppState;

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new().api_route(
        "/v1/authorize",
        post_with(authorize, |op| {
            op.summary("Decide on one tool call: ALLOW, BLOCK or REQUIRE_APPROVAL")
                .description("Authenticate with the ghost token (`Authorization: Bearer phm_…`). A refusal is a decision, not an error; an ALLOW spends one action.")
        }),
    )
}

async fn authorize(
    Bearer(token): Bearer,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<AuthorizeRequest>,
) -> ApiResult<Json<Decision>> {
    crate::authorize::authorize(&state, token.as_deref(), request)
        .await
        .map(Json)
}
