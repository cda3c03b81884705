//! Nothing acknowledged is lost: not on a graceful restart, not on a crash.

use phantom_sdk::{Action, ApprovalStatus, AuditQuery, RecordAction, TokenState, Verdict};

use crate::harness::Server;

fn search() -> Action {
    let mut action = Action::new("gmail.search", serde_json::json!({"query": "receipt"}));
    action.scope = Some("gmail.readonly".to_owned());
    action
}

#[tokio::test]
async fn tokens_missions_approvals_and_audit_survive_restarts_and_crashes() {
    let mut server = Server::start().await;
    let mission = server
        .mission("Find my flight receipt in Gmail, then buy the airport lounge pass it offers")
        .await;
    let token = server
        .token(
            "",
            &["gmail.readonly", "shop.buy"],
            Some(10),
            "1h",
            Some(&mission.id),
        )
        .await;
    let agent = server.agent(&token);

    let allowed = agent.authorize(&search()).await.unwrap();
    assert_eq!(allowed.decision, Verdict::Allow, "{}", allowed.reason);
    agent
        .record_action(
            &mission.id,
            &RecordAction {
                action_id: allowed.action_id.clone(),
                tool: "gmail.search".to_owned(),
                compensation: Some(phantom_sdk::Compensation {
                    name: "noop".to_owned(),
                    args: serde_json::json!({}),
                }),
                observation: None,
            },
        )
        .await
        .unwrap();
    let mut purchase = Action::new(
        "purchase",
        serde_json::json!({"item": "airport lounge pass"}),
    );
    purchase.scope = Some("shop.buy".to_owned());
    purchase.risk = Some(phantom_sdk::Risk {
        spend_usd: Some(120.0),
        ..phantom_sdk::Risk::default()
    });
    let held = agent.authorize(&purchase).await.unwrap();
    assert_eq!(held.decision, Verdict::RequireApproval, "{}", held.reason);
    let audit_before = server
        .operator
        .audit(&AuditQuery {
            limit: Some(1000),
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .events;

    server.restart().await;
    let status = server.operator.token_status(&token.token_id).await.unwrap();
    assert_eq!((status.state, status.actions_used), (TokenState::Active, 1));
    let record = server.operator.mission(&mission.id).await.unwrap();
    assert_eq!(record.actions.len(), 1);
    assert_eq!(record.pending_approvals.len(), 1);
    let audit_after = server
        .operator
        .audit(&AuditQuery {
            limit: Some(1000),
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .events;
    assert_eq!(audit_after.len(), audit_before.len());

    // Every decision a client saw survives a crash: spend, crash, count.
    for _ in 0..3 {
        assert_eq!(
            agent.authorize(&search()).await.unwrap().decision,
            Verdict::Allow
        );
    }
    server.crash_and_restart().await;
    assert_eq!(
        server
            .operator
            .token_status(&token.token_id)
            .await
            .unwrap()
            .actions_used,
        4
    );
    let approval = server
        .operator
        .approval(held.approval_id.as_deref().unwrap(), None)
        .await
        .unwrap();
    assert_eq!(approval.status, ApprovalStatus::Pending);
}
