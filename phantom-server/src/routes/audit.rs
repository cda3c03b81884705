//! `GET /v1/audit`.

use aide::axum::ApiRouter;
use aide::axum::routing::get_with;
use axum::Json;
use axum::extract::State;
use phantom_sdk::{AuditPage, AuditQuery};

use crate::audit;
use crate::auth::Operator;
use crate::error::ApiResult;
use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::store::StoreError;

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new().api_route(
        "/v1/audit",
        get_with(trail, |op| {
            op.summary("The audit trail, oldest first, filterable by mission, agent and token")
        }),
    )
}

async fn trail(
    _: Operator,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let page = state
        .store()
        .read(move |conn| audit::query(conn, &query).map_err(StoreError::from))
        .await?;
    Ok(Json(page))
}
