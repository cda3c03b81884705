//! The authorize decision.
//!
//! Checks run in the contract's order, cheapest and most certain first:
//! the token (unknown, expired, exhausted, revoked), the scope, the
//! mission's state, the graph, the intent engine, and the risk policy. The
//! first check that says no decides. The token's budget is spent, the
//! approval request created and the audit entry written in one durable
//! transaction before the decision is returned; the token and the mission
//! are checked again inside it, so a revocation or a rollback that lands
//! while the intent engine thinks still wins.

use std::time::Instant;

use phantom_sdk::{
    Action, AuthorizeRequest, Decision, DecisionCode, MissionState, ObjectRef, Secret, SecretKind,
    Subject, TokenState, Verdict,
};
use rusqlite::{Connection, params};

use crate::approvals;
use crate::audit::{self, AuditEntry};
use crate::error::ApiError;
use crate::intent::{self, PastAction, Proposal, ToolAnnotations};
use crate::missions::{self, MissionRow};
use crate::secrets;
use crate::state::AppState;
use crate::store::StoreError;
use crate::tokens::{self, TokenRecord};

/// Longest tool name accepted.
const MAX_TOOL_LEN: usize = 128;
/// Recent actions shown to the intent engine as context.
const HISTORY: i64 = 10;

/// What the checks before the final transaction concluded.
struct Verdicts {
    verdict: Verdict,
    code: DecisionCode,
    reason: String,
    score: Option<f64>,
    tier: Option<&'static str>,
}

impl Verdicts {
    fn block(code: DecisionCode, reason: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Block,
            code,
            reason: reason.into(),
            score: None,
            tier: None,
        }
    }
}

/// Decides on `request`, presented with `bearer`.
///
/// # Errors
///
/// A 400 for a malformed action; store errors. Every refusal of the action
/// itself is an `Ok` decision.
pub async fn authorize(
    state: &AppState,
    bearer: Option<&str>,
    request: AuthorizeRequest,
) -> Result<Decision, ApiError> {
    let started = Instant::now();
    validate(&request.action)?;
    let action_id = secrets::new_id("act");
    let now_ms = state.clock().now_ms();

    // 1. The token. A malformed one is refused without any lookup.
    let token = match bearer.map(|b| Secret::parse(SecretKind::GhostToken, b)) {
        None => None,
        Some(Err(e)) => {
            let verdicts = Verdicts::block(
                DecisionCode::TokenUnknown,
                format!("not a valid ghost token ({e})"),
            );
            return finish_without_token(state, &request.action, action_id, verdicts, started)
                .await;
        }
        Some(Ok(secret)) => {
            let hash = secrets::hash(&secret);
            state
                .store()
                .read(move |conn| load_context(conn, &hash))
                .await?
        }
    };
    let Some(Context {
        token,
        mission,
        history,
    }) = token
    else {
        let verdicts = Verdicts::block(
            DecisionCode::TokenUnknown,
            if bearer.is_some() {
                "unknown ghost token"
            } else {
                "no ghost token presented (send `Authorization: Bearer phm_…`)"
            },
        );
        return finish_without_token(state, &request.action, action_id, verdicts, started).await;
    };

    let verdicts = decide(state, &token, mission.as_ref(), &history, &request, now_ms).await;
    finish(state, token, request, action_id, verdicts, started).await
}

/// Runs the checks that need no write: token state, scope, mission state,
/// graph, intent, risk.
async fn decide(
    state: &AppState,
    token: &TokenRecord,
    mission: Option<&MissionRow>,
    history: &[PastAction],
    request: &AuthorizeRequest,
    now_ms: i64,
) -> Verdicts {
    let action = &request.action;

    match token.state(now_ms) {
        TokenState::Active => {}
        TokenState::Expired => {
            return Verdicts::block(DecisionCode::TokenExpired, "the ghost token has expired");
        }
        TokenState::Exhausted => {
            return Verdicts::block(
                DecisionCode::TokenExhausted,
                "the ghost token has used all its actions",
            );
        }
        TokenState::Revoked => {
            return Verdicts::block(DecisionCode::TokenRevoked, "the ghost token was revoked");
        }
    }

    let needed = action.scope.as_deref().unwrap_or(&action.tool);
    if !token.grants(needed) {
        return Verdicts::block(
            DecisionCode::OutOfScope,
            format!(
                "scope `{needed}` is not granted by this token (granted: {})",
                token.scope.join(", ")
            ),
        );
    }

    if let Some(mission) = mission
        && mission.state != MissionState::Running
    {
        return Verdicts::block(
            DecisionCode::MissionNotRunning,
            mission_not_running(mission),
        );
    }
    if token.mission_id.is_some() && mission.is_none() {
        return Verdicts::block(
            DecisionCode::MissionNotRunning,
            "the token's mission no longer exists",
        );
    }

    if let Some(verdicts) = check_graph(state, token, action) {
        return verdicts;
    }

    // A human already looked at this very action: intent and risk have had
    // their say. The approval itself is checked and used in the final
    // transaction.
    if request.approval_id.is_some() {
        return Verdicts {
            verdict: Verdict::Allow,
            code: DecisionCode::Approved,
            reason: "approved by a human".to_owned(),
            score: None,
            tier: None,
        };
    }

    let intent_text = mission.map_or(token.intent.as_str(), |m| {
        if token.intent.is_empty() {
            m.intent.as_str()
        } else {
            token.intent.as_str()
        }
    });
    let annotations = action.risk.as_ref().map(|risk| ToolAnnotations {
        read_only: risk.read_only.unwrap_or(false),
        destructive: risk.destructive.unwrap_or(false),
        egress: risk.egress.unwrap_or(false),
        spend_usd: risk.spend_usd,
    });
    // What the mission's tools returned, for tracing the arguments. Without
    // it the engine still judges, only without provenance.
    let ledger = match &token.mission_id {
        Some(id) => match state.ledgers().ledger(state.store(), id).await {
            Ok(ledger) => Some(ledger),
            Err(e) => {
                tracing::warn!(error = %e, "provenance ledger unavailable; judging without it");
                None
            }
        },
        None => None,
    };
    let assessment = state
        .intent()
        .evaluate(&Proposal {
            mission: intent_text,
            tool: &action.tool,
            description: action.description.as_deref(),
            args: &action.args,
            annotations: annotations.as_ref(),
            scopes: &token.scope,
            history,
            provenance: ledger.as_deref(),
        })
        .await;
    let score = Some(assessment.alignment_score);
    let tier = Some(assessment.tier.as_str());

    if assessment.verdict == intent::Verdict::Block {
        return Verdicts {
            verdict: Verdict::Block,
            code: DecisionCode::IntentMisaligned,
            reason: assessment.reason,
            score,
            tier,
        };
    }
    // The risk policy's rules name the reason more precisely than the
    // engine's own hold (which also weighs spending), so they go first.
    if let Some(verdicts) = check_risk(state, action) {
        return Verdicts {
            score,
            tier,
            ..verdicts
        };
    }
    if assessment.verdict == intent::Verdict::RequireApproval {
        return Verdicts {
            verdict: Verdict::RequireApproval,
            code: DecisionCode::IntentUncertain,
            reason: assessment.reason,
            score,
            tier,
        };
    }

    Verdicts {
        verdict: Verdict::Allow,
        code: DecisionCode::Allowed,
        reason: assessment.reason,
        score,
        tier,
    }
}

fn mission_not_running(mission: &MissionRow) -> String {
    let state = serde_json::to_value(mission.state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    match &mission.state_reason {
        Some(reason) => format!("the mission is {state}: {reason}"),
        None => format!("the mission is {state}"),
    }
}

/// The graph check: may the user the agent acts for touch the resource?
fn check_graph(state: &AppState, token: &TokenRecord, action: &Action) -> Option<Verdicts> {
    let resource = action.resource.as_deref()?;
    // Both were validated: the resource on entry, the user when the token
    // was issued.
    let object: ObjectRef = resource.parse().ok()?;
    let user: Subject = token.on_behalf_of.parse().ok()?;
    let read_only = action
        .risk
        .as_ref()
        .and_then(|r| r.read_only)
        .unwrap_or(false);
    let relation =
        action
            .relation
            .as_deref()
            .unwrap_or(if read_only { "viewer" } else { "editor" });

    let (object, user) = (object.to_string(), user.to_string());
    let answer = state.graph().read(None).and_then(|(index, _)| {
        index
            .check(&crate::graph::CheckRequest::new(&object, relation, &user))
            .map_err(ApiError::from)
    });
    match answer {
        Ok(answer) if answer.allowed => None,
        Ok(_) => Some(Verdicts::block(
            DecisionCode::GraphDenied,
            format!("{user} has no `{relation}` relation to {object}"),
        )),
        // A relation the model does not define, or a graph too deep to
        // resolve, cannot grant anything.
        Err(e) => Some(Verdicts::block(
            DecisionCode::GraphDenied,
            format!(
                "the graph could not grant `{relation}` on {object}: {}",
                e.message()
            ),
        )),
    }
}

/// The risk policy: big spending, or destroying something critical, needs
/// a human.
fn check_risk(state: &AppState, action: &Action) -> Option<Verdicts> {
    let config = state.config();
    let risk = action.risk.as_ref()?;

    if let Some(spend) = risk.spend_usd
        && spend > config.spend_approval_usd
    {
        return Some(Verdicts {
            verdict: Verdict::RequireApproval,
            code: DecisionCode::SpendOverThreshold,
            reason: format!(
                "spending ${spend:.2} is above the ${:.2} that needs a human's approval",
                config.spend_approval_usd
            ),
            score: None,
            tier: None,
        });
    }

    let destructive = risk.destructive.unwrap_or(false);
    if destructive
        && let Some(resource) = &action.resource
        && config
            .critical_resources
            .iter()
            .any(|pattern| matches_pattern(pattern, resource))
    {
        return Some(Verdicts {
            verdict: Verdict::RequireApproval,
            code: DecisionCode::CriticalResource,
            reason: format!(
                "`{resource}` is marked critical: destroying it needs a human's approval"
            ),
            score: None,
            tier: None,
        });
    }
    None
}

/// `db:prod` matches itself; `db:*` and `db:prod-*` match by prefix.
fn matches_pattern(pattern: &str, resource: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => resource.starts_with(prefix),
        None => pattern == resource,
    }
}

/// What the read phase loads: the token, its mission, the mission's recent
/// actions.
struct Context {
    token: TokenRecord,
    mission: Option<MissionRow>,
    history: Vec<PastAction>,
}

fn load_context(
    conn: &Connection,
    hash: &secrets::SecretHash,
) -> Result<Option<Context>, StoreError> {
    let Some(token) = tokens::by_hash(conn, hash)? else {
        return Ok(None);
    };
    let mission = match &token.mission_id {
        Some(id) => missions::get(conn, id)?,
        None => None,
    };
    let history = match &token.mission_id {
        Some(id) => {
            let mut statement = conn.prepare_cached(
                "SELECT tool FROM mission_actions WHERE mission_id = ?1 ORDER BY seq DESC LIMIT ?2",
            )?;
            let rows = statement.query_map(params![id, HISTORY], |row| {
                Ok(PastAction {
                    tool: row.get(0)?,
                    summary: String::new(),
                })
            })?;
            let mut history = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            history.reverse();
            history
        }
        None => Vec::new(),
    };
    Ok(Some(Context {
        token,
        mission,
        history,
    }))
}

/// The final transaction for a known token: spend, ask for approval,
/// record the decision, audit. Returns the decision as it stands after the
/// re-checks.
async fn finish(
    state: &AppState,
    token: TokenRecord,
    request: AuthorizeRequest,
    action_id: String,
    verdicts: Verdicts,
    started: Instant,
) -> Result<Decision, ApiError> {
    let now_ms = state.clock().now_ms();
    let approval_ttl =
        i64::try_from(state.config().approval_ttl.get().as_millis()).unwrap_or(i64::MAX);
    let decided_id = action_id.clone();
    let mission_id = token.mission_id.clone();

    let (verdicts, remaining, approval_id) = state
        .store()
        .write(move |conn| -> Result<_, StoreError> {
            let (verdicts, remaining, approval_id) = settle(conn, &token, &request, &decided_id, verdicts, now_ms, approval_ttl)?;

            conn.prepare_cached(
                "INSERT INTO decisions (action_id, token_id, mission_id, tool, verdict, decided_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![decided_id, token.id, token.mission_id, request.action.tool, verdicts.verdict.to_string(), now_ms])?;

            let mut entry = decision_entry(&request.action, &verdicts, &decided_id);
            entry.token_id = Some(token.id.clone());
            entry.mission_id = token.mission_id.clone();
            entry.agent = Some(token.agent.clone());
            entry.user = Some(token.on_behalf_of.clone());
            if let Some(id) = &approval_id {
                entry.detail["approval_id"] = serde_json::json!(id);
            }
            audit::append(conn, now_ms, &entry)?;
            Ok((verdicts, remaining, approval_id))
        })
        .await?;

    if approval_id.is_some() {
        state.approvals_changed();
    }
    Ok(decision(
        verdicts,
        action_id,
        approval_id,
        mission_id,
        remaining,
        started,
    ))
}

/// Inside the final transaction: re-checks what may have changed since the
/// read phase, spends an action for an ALLOW, opens an approval request
/// for a REQUIRE_APPROVAL.
fn settle(
    conn: &Connection,
    token: &TokenRecord,
    request: &AuthorizeRequest,
    action_id: &str,
    verdicts: Verdicts,
    now_ms: i64,
    approval_ttl: i64,
) -> Result<(Verdicts, Option<u32>, Option<String>), StoreError> {
    let current = |conn: &Connection| -> Result<Option<u32>, StoreError> {
        Ok(tokens::by_id(conn, &token.id)?.and_then(|t| t.remaining()))
    };
    if verdicts.verdict == Verdict::Block {
        return Ok((verdicts, current(conn)?, None));
    }

    // The mission may have been paused or rolled back meanwhile.
    if let Some(id) = &token.mission_id {
        match missions::get(conn, id)? {
            Some(mission) if mission.state == MissionState::Running => {}
            Some(mission) => {
                let blocked = Verdicts::block(
                    DecisionCode::MissionNotRunning,
                    mission_not_running(&mission),
                );
                return Ok((blocked, current(conn)?, None));
            }
            None => {
                let blocked = Verdicts::block(
                    DecisionCode::MissionNotRunning,
                    "the token's mission no longer exists",
                );
                return Ok((blocked, current(conn)?, None));
            }
        }
    }

    if verdicts.verdict == Verdict::RequireApproval {
        // Ask only if the token could still act once approved.
        let fresh = tokens::by_id(conn, &token.id)?;
        if let Some(blocked) = fresh.as_ref().and_then(|t| token_block(t, now_ms)) {
            return Ok((blocked, current(conn)?, None));
        }
        let approval_id = approvals::ask(
            conn,
            &token.id,
            token.mission_id.as_deref(),
            action_id,
            &request.action,
            &verdicts.reason,
            now_ms,
            now_ms.saturating_add(approval_ttl),
        )?;
        return Ok((verdicts, current(conn)?, Some(approval_id)));
    }

    if let Some(approval_id) = &request.approval_id
        && let Err(why) = approvals::consume(conn, approval_id, &token.id, &request.action, now_ms)?
    {
        return Ok((
            Verdicts::block(DecisionCode::ApprovalInvalid, why),
            current(conn)?,
            None,
        ));
    }

    // One conditional UPDATE: concurrent calls can never overspend.
    match tokens::spend(conn, &token.id, now_ms)? {
        Some(spent) => Ok((verdicts, spent.remaining(), None)),
        None => {
            let fresh = tokens::by_id(conn, &token.id)?;
            let blocked = fresh
                .as_ref()
                .and_then(|t| token_block(t, now_ms))
                .unwrap_or_else(|| {
                    Verdicts::block(
                        DecisionCode::TokenUnknown,
                        "the ghost token no longer exists",
                    )
                });
            Ok((blocked, fresh.and_then(|t| t.remaining()), None))
        }
    }
}

/// The BLOCK a token's state calls for, if it is not active.
fn token_block(token: &TokenRecord, now_ms: i64) -> Option<Verdicts> {
    match token.state(now_ms) {
        TokenState::Active => None,
        TokenState::Expired => Some(Verdicts::block(
            DecisionCode::TokenExpired,
            "the ghost token has expired",
        )),
        TokenState::Exhausted => Some(Verdicts::block(
            DecisionCode::TokenExhausted,
            "the ghost token has used all its actions",
        )),
        TokenState::Revoked => Some(Verdicts::block(
            DecisionCode::TokenRevoked,
            "the ghost token was revoked",
        )),
    }
}

/// A BLOCK for a request without a usable token: audited, nothing spent.
async fn finish_without_token(
    state: &AppState,
    action: &Action,
    action_id: String,
    verdicts: Verdicts,
    started: Instant,
) -> Result<Decision, ApiError> {
    let now_ms = state.clock().now_ms();
    let entry = decision_entry(action, &verdicts, &action_id);
    state
        .store()
        .write(move |conn| audit::append(conn, now_ms, &entry).map_err(StoreError::from))
        .await?;
    Ok(decision(verdicts, action_id, None, None, None, started))
}

/// The audit entry of a decision: the tool and the argument names, never
/// their values.
fn decision_entry(action: &Action, verdicts: &Verdicts, action_id: &str) -> AuditEntry {
    let mut entry = AuditEntry::new("decision");
    entry.tool = Some(action.tool.clone());
    entry.decision = Some(verdicts.verdict.to_string());
    entry.code = Some(verdicts.code.to_string());
    entry.reason = Some(verdicts.reason.clone());
    entry.score = verdicts.score;
    let argument_names: Vec<&String> = action
        .args
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    entry.detail = serde_json::json!({
        "action_id": action_id,
        "scope": action.scope,
        "resource": action.resource,
        "arguments": argument_names,
        "args_sha256": hex(&secrets::fingerprint(&action.args)),
        "tier": verdicts.tier,
    });
    entry
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decision(
    verdicts: Verdicts,
    action_id: String,
    approval_id: Option<String>,
    mission_id: Option<String>,
    remaining_actions: Option<u32>,
    started: Instant,
) -> Decision {
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    metrics::counter!("phantom_decisions_total", "decision" => verdicts.verdict.to_string(), "code" => verdicts.code.as_str()).increment(1);
    metrics::histogram!("phantom_authorize_seconds").record(latency_ms / 1000.0);
    tracing::info!(
        target: "phantom::decision",
        decision = %verdicts.verdict,
        code = %verdicts.code,
        action_id = %action_id,
        score = verdicts.score,
        latency_ms,
        "decided"
    );
    Decision {
        decision: verdicts.verdict,
        code: verdicts.code,
        reason: verdicts.reason,
        alignment_score: verdicts.score,
        intent_tier: verdicts.tier.map(str::to_owned),
        action_id,
        approval_id,
        mission_id,
        remaining_actions,
        latency_ms,
    }
}

/// Rejects malformed actions before any check runs.
fn validate(action: &Action) -> Result<(), ApiError> {
    let tool_ok = !action.tool.is_empty()
        && action.tool.len() <= MAX_TOOL_LEN
        && action
            .tool
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/'));
    if !tool_ok {
        return Err(ApiError::invalid(
            "invalid_action",
            format!(
                "`tool` must be 1 to {MAX_TOOL_LEN} characters of letters, digits and `_ - . : /`"
            ),
        ));
    }
    if let Some(scope) = &action.scope {
        tokens::validate_scope(scope).map_err(|e| ApiError::invalid("invalid_action", e))?;
        if scope.ends_with('*') {
            return Err(ApiError::invalid(
                "invalid_action",
                "an action needs one concrete scope, not a wildcard",
            ));
        }
    }
    if let Some(resource) = &action.resource {
        resource
            .parse::<ObjectRef>()
            .map_err(|e| ApiError::invalid("invalid_action", format!("`resource`: {e}")))?;
    }
    if let Some(relation) = &action.relation {
        phantom_sdk::Tuple::new("x:y", relation, "x:z")
            .map_err(|e| ApiError::invalid("invalid_action", format!("`relation`: {e}")))?;
    }
    if !action.args.is_object() {
        return Err(ApiError::invalid(
            "invalid_action",
            "`args` must be a JSON object",
        ));
    }
    if let Some(spend) = action.risk.as_ref().and_then(|r| r.spend_usd)
        && !(spend.is_finite() && spend >= 0.0)
    {
        return Err(ApiError::invalid(
            "invalid_action",
            "`risk.spend_usd` must be a non-negative amount",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_patterns_match_exactly_or_by_prefix() {
        assert!(matches_pattern("db:prod", "db:prod"));
        assert!(!matches_pattern("db:prod", "db:prod2"));
        assert!(matches_pattern("db:*", "db:anything"));
        assert!(matches_pattern("bucket:backups-*", "bucket:backups-2026"));
        assert!(!matches_pattern("bucket:backups-*", "bucket:logs"));
    }

    #[test]
    fn malformed_actions_are_refused() {
        let mut action = Action::new("read_file", serde_json::json!({"path": "/a"}));
        assert!(validate(&action).is_ok());
        action.tool = "rm -rf".into();
        assert!(validate(&action).is_err());
        action.tool = "read_file".into();
        action.resource = Some("not-an-object".into());
        assert!(validate(&action).is_err());
        action.resource = None;
        action.args = serde_json::json!([1, 2]);
        assert!(validate(&action).is_err());
    }
}
