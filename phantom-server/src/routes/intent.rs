//! `POST /v1/intent/evaluate`: ask the intent engine alone.

use aide::axum::ApiRouter;
use aide::axum::routing::post_with;
use axum::Json;
use axum::extract::State;
use phantom_sdk::{EvaluateIntent, IntentEvaluation, Verdict};

use crate::auth::Operator;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::intent::{self, Proposal, ToolAnnotations};
use crate::state::AppState;

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new().api_route(
        "/v1/intent/evaluate",
        post_with(evaluate, |op| {
            op.summary("Score how well an action serves a mission")
        }),
    )
}

async fn evaluate(
    _: Operator,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<EvaluateIntent>,
) -> ApiResult<Json<IntentEvaluation>> {
    if request.mission.trim().is_empty() || request.mission.len() > super::tokens::MAX_INTENT_LEN {
        return Err(ApiError::invalid(
            "invalid_request",
            "`mission` must be 1 to 4096 bytes",
        ));
    }
    let action = &request.action;
    let annotations = action.risk.as_ref().map(|risk| ToolAnnotations {
        read_only: risk.read_only.unwrap_or(false),
        destructive: risk.destructive.unwrap_or(false),
        egress: risk.egress.unwrap_or(false),
        spend_usd: risk.spend_usd,
    });
    let assessment = state
        .intent()
        .evaluate(&Proposal {
            mission: &request.mission,
            tool: &action.tool,
            description: action.description.as_deref(),
            args: &action.args,
            annotations: annotations.as_ref(),
            scopes: &[],
            history: &[],
            provenance: None,
        })
        .await;

    let decision = match assessment.verdict {
        intent::Verdict::Block => Verdict::Block,
        intent::Verdict::RequireApproval => Verdict::RequireApproval,
        intent::Verdict::Allow => Verdict::Allow,
    };
    Ok(Json(IntentEvaluation {
        alignment_score: assessment.alignment_score,
        decision,
        reason: assessment.reason,
        tier: assessment.tier.as_str().to_owned(),
        latency_ms: assessment.latency.as_secs_f64() * 1000.0,
    }))
}
