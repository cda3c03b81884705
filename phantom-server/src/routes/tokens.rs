//! `POST /v1/tokens`, `GET /v1/tokens/{id}`, `DELETE /v1/tokens/{id}`.

use aide::axum::ApiRouter;
use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::State;
use phantom_sdk::{IssueToken, IssuedToken, SecretKind, Subject, Timestamp, TokenStatus};
use schemars::JsonSchema;
use serde::Deserialize;

use super::Created;
use crate::approvals;
use crate::audit::{self, AuditEntry};
use crate::auth::Operator;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::missions::{self, MissionError};
use crate::secrets;
use crate::state::AppState;
use crate::store::StoreError;
use crate::tokens::{self, MAX_SCOPES, TokenRecord};

/// Longest intent accepted, in bytes.
pub const MAX_INTENT_LEN: usize = 4096;
/// Longest life a token may be given: a mission outliving this issues a
/// new token rather than holding one for ever.
const MAX_ACCESS_DAYS: u64 = 365;

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/v1/tokens",
            post_with(issue, |op| {
                op.summary("Issue a ghost token; the secret is shown once")
            }),
        )
        .api_route(
            "/v1/tokens/{id}",
            get_with(status, |op| op.summary("A token's status")).delete_with(revoke, |op| {
                op.summary("Revoke now; pending approvals of the token fail at once")
            }),
        )
}

#[derive(Deserialize, JsonSchema)]
struct TokenPath {
    /// The token's id.
    id: String,
}

/// `user:123` stays; a bare `123` means `user:123`.
pub fn user_subject(text: &str) -> Result<String, ApiError> {
    let text = text.trim();
    let full = if text.contains(':') {
        text.to_owned()
    } else {
        format!("user:{text}")
    };
    match full.parse::<Subject>() {
        Ok(Subject::Object(object)) => Ok(object.to_string()),
        Ok(_) => Err(ApiError::invalid(
            "invalid_user",
            format!("`{text}` must name one user (`user:123`), not a set"),
        )),
        Err(e) => Err(ApiError::invalid("invalid_user", e.to_string())),
    }
}

async fn issue(
    _: Operator,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<IssueToken>,
) -> ApiResult<Created<IssuedToken>> {
    let on_behalf_of = user_subject(&request.on_behalf_of)?;
    if request.agent.trim().is_empty() || request.agent.len() > 256 {
        return Err(ApiError::invalid(
            "invalid_request",
            "`agent` must be 1 to 256 characters",
        ));
    }
    if request.intent.len() > MAX_INTENT_LEN {
        return Err(ApiError::invalid(
            "invalid_request",
            format!("`intent` is longer than {MAX_INTENT_LEN} bytes"),
        ));
    }
    if request.intent.trim().is_empty() && request.mission_id.is_none() {
        return Err(ApiError::invalid(
            "invalid_request",
            "`intent` is required unless the token serves a mission",
        ));
    }
    let constraints = &request.constraints;
    let max_access = constraints.max_access.get();
    if max_access.is_zero() || max_access.as_secs() > MAX_ACCESS_DAYS * 86_400 {
        return Err(ApiError::invalid(
            "invalid_duration",
            format!("`max_access` must be between 1s and {MAX_ACCESS_DAYS} days"),
        ));
    }
    if constraints.max_actions == Some(0) {
        return Err(ApiError::invalid(
            "invalid_request",
            "`max_actions` must be at least 1 (omit it for no limit)",
        ));
    }
    if constraints.scope.len() > MAX_SCOPES {
        return Err(ApiError::invalid(
            "invalid_request",
            format!("at most {MAX_SCOPES} scopes per token"),
        ));
    }
    for entry in &constraints.scope {
        tokens::validate_scope(entry).map_err(|e| ApiError::invalid("invalid_scope", e))?;
    }

    let secret = secrets::generate(SecretKind::GhostToken).map_err(ApiError::internal)?;
    let hash = secrets::hash(&secret);
    let now_ms = state.clock().now_ms();
    let expires_at =
        now_ms.saturating_add(i64::try_from(max_access.as_millis()).unwrap_or(i64::MAX));
    let token = TokenRecord {
        id: secrets::new_id("tok"),
        agent: request.agent.trim().to_owned(),
        on_behalf_of,
        mission_id: request.mission_id.clone(),
        intent: request.intent.trim().to_owned(),
        scope: constraints.scope.clone(),
        max_actions: constraints.max_actions,
        actions_used: 0,
        issued_at: now_ms,
        expires_at,
        revoked_at: None,
    };

    let stored = token.clone();
    state
        .store()
        .write(move |conn| -> Result<(), MissionError> {
            let mut token = stored;
            if let Some(mission_id) = &token.mission_id {
                let mission = missions::get(conn, mission_id)?
                    .ok_or_else(|| ApiError::not_found("mission", mission_id))?;
                if mission.state.is_over() {
                    return Err(ApiError::conflict(
                        "mission_over",
                        format!("mission `{mission_id}` is over"),
                    )
                    .into());
                }
                if mission.user != token.on_behalf_of {
                    return Err(ApiError::invalid(
                        "invalid_user",
                        format!(
                            "mission `{mission_id}` works for {}, not {}",
                            mission.user, token.on_behalf_of
                        ),
                    )
                    .into());
                }
                if token.intent.is_empty() {
                    token.intent = mission.intent.clone();
                }
            }
            tokens::insert(conn, &token, &hash)?;

            let mut entry = AuditEntry::new("token.issued");
            entry.token_id = Some(token.id.clone());
            entry.mission_id = token.mission_id.clone();
            entry.agent = Some(token.agent.clone());
            entry.user = Some(token.on_behalf_of.clone());
            entry.detail = serde_json::json!({
                "scope": token.scope,
                "max_actions": token.max_actions,
                "expires_at": Timestamp::from_unix_millis(token.expires_at),
            });
            audit::append(conn, now_ms, &entry)?;
            Ok(())
        })
        .await?;

    if !token.intent.is_empty() {
        state.prime_intent(&token.intent);
    }
    tracing::debug!(token_id = %token.id, agent = %token.agent, "ghost token issued");
    Ok(Created(IssuedToken {
        token: secret.expose().to_owned(),
        token_id: token.id,
        expires_at: Timestamp::from_unix_millis(expires_at),
    }))
}

async fn status(
    _: Operator,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<TokenPath>,
) -> ApiResult<Json<TokenStatus>> {
    let id = path.id.clone();
    let token = state
        .store()
        .read(move |conn| tokens::by_id(conn, &id).map_err(StoreError::from))
        .await?
        .ok_or_else(|| ApiError::not_found("token", &path.id))?;
    Ok(Json(token.status(state.clock().now_ms())))
}

async fn revoke(
    _: Operator,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<TokenPath>,
) -> ApiResult<Json<TokenStatus>> {
    let now_ms = state.clock().now_ms();
    let id = path.id.clone();
    let token = state
        .store()
        .write(move |conn| -> Result<_, MissionError> {
            let token = tokens::revoke(conn, &id, now_ms)?
                .ok_or_else(|| ApiError::not_found("token", &id))?;
            let withdrawn =
                approvals::cancel_for_token(conn, &id, "the token was revoked", now_ms)?;

            let mut entry = AuditEntry::new("token.revoked");
            entry.token_id = Some(id.clone());
            entry.mission_id = token.mission_id.clone();
            entry.agent = Some(token.agent.clone());
            entry.detail = serde_json::json!({"pending_approvals_withdrawn": withdrawn});
            audit::append(conn, now_ms, &entry)?;
            Ok(token)
        })
        .await?;

    // Agents waiting on an approval of this token learn at once.
    state.approvals_changed();
    tracing::info!(token_id = %token.id, "ghost token revoked");
    Ok(Json(token.status(now_ms)))
}
