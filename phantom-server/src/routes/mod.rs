//! The HTTP API: one module per concept, assembled here with the OpenAPI
//! description generated from the handlers' types.

mod approvals;
mod audit;
mod authorize;
mod entitlements;
mod graph;
mod health;
mod intent;
mod missions;
mod testing;
mod tokens;

use std::sync::Arc;

use aide::OperationOutput;
use aide::axum::ApiRouter;
use aide::generate::GenContext;
use aide::openapi::{
    Info, OpenApi, Operation, ReferenceOr, Response as ApiResponse, SecurityRequirement,
    SecurityScheme, StatusCode as ApiStatus,
};
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use schemars::JsonSchema;
use serde::Serialize;
use tower_http::trace::TraceLayer;

use crate::config::ClockMode;
use crate::state::AppState;

/// The whole API, ready to serve.
pub fn router(state: AppState) -> Router {
    let mut api = OpenApi {
        info: Info {
            title: "Phantom".to_owned(),
            description: Some("Authorization for AI agents: ghost tokens, the relationship graph, intent-aware decisions and durable missions.".to_owned()),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            ..Info::default()
        },
        ..OpenApi::default()
    };

    let mut routes = ApiRouter::new()
        .merge(health::routes())
        .merge(tokens::routes())
        .merge(authorize::routes())
        .merge(intent::routes())
        .merge(graph::routes())
        .merge(missions::routes())
        .merge(approvals::routes())
        .merge(entitlements::routes())
        .merge(audit::routes());
    // The movable clock exists only when the server was started with it.
    if state.config().clock == ClockMode::Manual {
        routes = routes.merge(testing::routes());
    }

    let max_body = state.config().max_body_bytes;
    let router = routes.finish_api(&mut api);
    describe_credentials(&mut api);
    router
        .fallback(unknown_route)
        .layer(Extension(Arc::new(api)))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The two credentials the API takes, in the description: every call needs
/// one of them except `/healthz` (and `/openapi.json`, which is not listed).
fn describe_credentials(api: &mut OpenApi) {
    let bearer = |format: &str, description: &str| {
        ReferenceOr::Item(SecurityScheme::Http {
            scheme: "bearer".to_owned(),
            bearer_format: Some(format.to_owned()),
            description: Some(description.to_owned()),
            extensions: Default::default(),
        })
    };
    let components = api.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        "operator".to_owned(),
        bearer(
            "phk_…",
            "A management API key: every call but an agent's own.",
        ),
    );
    components.security_schemes.insert(
        "ghost_token".to_owned(),
        bearer(
            "phm_…",
            "An agent's ghost token: authorize, its mission's actions and compensations, its approvals.",
        ),
    );
    let requirement = |scheme: &str| {
        let mut requirement = SecurityRequirement::default();
        requirement.insert(scheme.to_owned(), Vec::new());
        requirement
    };
    api.security = vec![requirement("operator"), requirement("ghost_token")];

    // An empty requirement object: no credential needed.
    if let Some(ReferenceOr::Item(health)) = api
        .paths
        .as_mut()
        .and_then(|paths| paths.paths.get_mut("/healthz"))
        && let Some(get) = health.get.as_mut()
    {
        get.security = vec![SecurityRequirement::default()];
    }
}

/// Any path the API does not serve: a JSON error like every other, naming
/// the path so a typo is easy to see.
async fn unknown_route(uri: axum::http::Uri) -> crate::error::ApiError {
    crate::error::ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_route",
        format!(
            "no route `{}`; /openapi.json lists them",
            uri.path().chars().take(200).collect::<String>()
        ),
    )
}

/// A `201 Created` answer.
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, Json(self.0)).into_response()
    }
}

impl<T: JsonSchema> OperationOutput for Created<T> {
    type Inner = T;

    fn operation_response(ctx: &mut GenContext, operation: &mut Operation) -> Option<ApiResponse> {
        Json::<T>::operation_response(ctx, operation)
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<ApiStatus>, ApiResponse)> {
        Self::operation_response(ctx, operation)
            .map(|response| vec![(Some(ApiStatus::Code(201)), response)])
            .unwrap_or_default()
    }
}
