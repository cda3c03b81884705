//! Health, metrics and the API description.

use std::sync::Arc;

use aide::axum::routing::get_with;
use aide::axum::{ApiRouter, IntoApiResponse};
use aide::openapi::OpenApi;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use schemars::JsonSchema;
use serde::Serialize;

use crate::auth::Operator;
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/healthz",
            get_with(healthz, |op| {
                op.summary("Liveness and a few gauges; needs no key")
            }),
        )
        .api_route(
            "/metrics",
            get_with(metrics, |op| op.summary("Prometheus metrics")),
        )
        .route("/openapi.json", axum::routing::get(openapi))
}

/// What `/healthz` reports.
#[derive(Serialize, JsonSchema)]
struct Health {
    /// `ok` when the server can read its store.
    status: &'static str,
    /// The graph's latest revision.
    graph_revision: u64,
    /// Tuples in the graph.
    tuples: usize,
    /// The server's version.
    version: &'static str,
}

async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    // A read proves the database is there; the writer's health shows in
    // every write's answer.
    state
        .store()
        .read(|conn| {
            conn.query_row("SELECT 1", [], |_| Ok(()))
                .map_err(crate::store::StoreError::from)
        })
        .await?;
    Ok(Json(Health {
        status: "ok",
        graph_revision: state.graph().revision(),
        tuples: state.graph().len(),
        version: env!("CARGO_PKG_VERSION"),
    }))
}

async fn metrics(_: Operator, State(state): State<AppState>) -> impl IntoApiResponse {
    let text = state
        .metrics()
        .map(|handle| handle.render())
        .unwrap_or_default();
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

async fn openapi(Extension(api): Extension<Arc<OpenApi>>) -> impl IntoResponse {
    Json(OpenApi::clone(&api))
}
