//! Missions through the SDK's layer: approvals, denials, revocation,
//! rollback by compensation, entitlements.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use phantom_sdk::{
    Action, ApprovalDecision, ApprovalStatus, AuthorizeRequest, Compensation, DecisionCode,
    Entitlement, IssuedToken, Mission, MissionState, PhantomClient, PhantomLayer, Risk, ToolCall,
    ToolOutcome, ToolOutput, Verdict,
};
use tower::{Layer, Service, ServiceExt};

use crate::harness::Server;

/// Tools that record what ran, in order: `download` (undone by `delete`),
/// `purchase` (undone by `refund`), and the two compensations.
#[derive(Clone, Default)]
struct Shop {
    log: Arc<Mutex<Vec<String>>>,
}

impl Shop {
    fn ran(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Service<ToolCall> for Shop {
    type Response = ToolOutput;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<ToolOutput, std::io::Error>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: ToolCall) -> Self::Future {
        let args = &call.action.args;
        let entry = format!(
            "{} {}",
            call.action.tool,
            args.get("item")
                .or(args.get("file"))
                .map(|v| v.to_string())
                .unwrap_or_default()
        );
        self.log.lock().unwrap().push(entry);
        let output =
            match call.action.tool.as_str() {
                "download" => ToolOutput::new(serde_json::json!({"saved": args["file"]}))
                    .undone_by(Compensation {
                        name: "delete".to_owned(),
                        args: serde_json::json!({"file": args["file"]}),
                    }),
                "purchase" => ToolOutput::new(serde_json::json!({"charged": args["usd"]}))
                    .undone_by(Compensation {
                        name: "refund".to_owned(),
                        args: serde_json::json!({"item": args["item"]}),
                    }),
                _ => ToolOutput::new(serde_json::json!({"ok": true})),
            };
        std::future::ready(Ok(output))
    }
}

fn download(file: &str) -> ToolCall {
    let mut call = ToolCall::new("download", serde_json::json!({"file": file}));
    call.action.scope = Some("shop.download".to_owned());
    call
}

fn purchase(item: &str, usd: f64) -> ToolCall {
    let mut call = ToolCall::new("purchase", serde_json::json!({"item": item, "usd": usd}));
    call.action.scope = Some("shop.buy".to_owned());
    call.action.risk = Some(Risk {
        spend_usd: Some(usd),
        ..Risk::default()
    });
    call
}

const INTENT: &str = "Buy a ticket for the RustConf workshop and download its schedule";

async fn shop_mission(server: &Server) -> (String, IssuedToken, PhantomClient) {
    let mission = server.mission(INTENT).await;
    let token = server
        .token(INTENT, &["shop.*"], Some(20), "1h", Some(&mission.id))
        .await;
    let agent = server.agent(&token);
    (mission.id, token, agent)
}

async fn pending_approval(server: &Server) -> phantom_sdk::Approval {
    let started = Instant::now();
    loop {
        let pending = server
            .operator
            .approvals(Some(ApprovalStatus::Pending))
            .await
            .unwrap();
        if let Some(first) = pending.into_iter().next() {
            return first;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no approval was requested"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_big_purchase_waits_for_approval_and_runs_once_approved() {
    let server = Server::start().await;
    let (mission_id, _, agent) = shop_mission(&server).await;
    let shop = Shop::default();
    let guarded = PhantomLayer::new(agent).layer(shop.clone());

    let waiting = tokio::spawn(guarded.clone().oneshot(purchase("workshop ticket", 250.0)));
    let approval = pending_approval(&server).await;
    assert_eq!(approval.mission_id.as_deref(), Some(mission_id.as_str()));
    assert!(approval.reason.contains("250"), "{}", approval.reason);
    assert!(
        shop.ran().is_empty(),
        "nothing runs before a human approves"
    );

    server
        .operator
        .decide(
            &approval.id,
            &ApprovalDecision {
                approve: true,
                by: "alice@example.com".to_owned(),
                note: None,
            },
        )
        .await
        .unwrap();
    let outcome = waiting.await.unwrap().unwrap();
    assert!(matches!(outcome, ToolOutcome::Ran { .. }), "{outcome:?}");
    assert_eq!(shop.ran(), vec!["purchase \"workshop ticket\"".to_owned()]);

    let record = server.operator.mission(&mission_id).await.unwrap();
    assert_eq!(record.actions.len(), 1);
    assert_eq!(record.state, MissionState::Running);
}

#[tokio::test]
async fn a_denied_purchase_terminates_the_mission_and_undoes_it_newest_first() {
    let server = Server::start().await;
    let (mission_id, _, agent) = shop_mission(&server).await;
    let shop = Shop::default();
    let guarded = PhantomLayer::new(agent).layer(shop.clone());

    for file in ["schedule.pdf", "map.pdf"] {
        let outcome = guarded.clone().oneshot(download(file)).await.unwrap();
        assert!(matches!(outcome, ToolOutcome::Ran { .. }), "{outcome:?}");
    }

    let waiting = tokio::spawn(guarded.clone().oneshot(purchase("workshop ticket", 250.0)));
    let approval = pending_approval(&server).await;
    server
        .operator
        .decide(
            &approval.id,
            &ApprovalDecision {
                approve: false,
                by: "alice@example.com".to_owned(),
                note: Some("too expensive".to_owned()),
            },
        )
        .await
        .unwrap();

    let outcome = waiting.await.unwrap().unwrap();
    let denial = outcome.denial().expect("a denial");
    assert_eq!(denial.code, DecisionCode::ApprovalDenied);
    assert!(
        denial.reason.contains("alice@example.com"),
        "{}",
        denial.reason
    );

    // The purchase never ran; the downloads were undone, newest first.
    assert_eq!(
        shop.ran(),
        vec![
            "download \"schedule.pdf\"".to_owned(),
            "download \"map.pdf\"".to_owned(),
            "delete \"map.pdf\"".to_owned(),
            "delete \"schedule.pdf\"".to_owned(),
        ]
    );
    let record = server.operator.mission(&mission_id).await.unwrap();
    assert_eq!(record.state, MissionState::Compensated);
    assert!(record.state_reason.unwrap().contains("denied"));

    // The mission is over: its token can act no more.
    let after = guarded.oneshot(download("other.pdf")).await.unwrap();
    assert_eq!(
        after.denial().map(|d| d.code),
        Some(DecisionCode::MissionNotRunning)
    );
}

#[tokio::test]
async fn revoking_the_token_fails_its_pending_actions_at_once() {
    let server = Server::start().await;
    let (_, token, agent) = shop_mission(&server).await;
    let shop = Shop::default();
    let guarded = PhantomLayer::new(agent).layer(shop.clone());

    let waiting = tokio::spawn(guarded.clone().oneshot(purchase("workshop ticket", 250.0)));
    let approval = pending_approval(&server).await;

    let revoked_at = Instant::now();
    server.operator.revoke_token(&token.token_id).await.unwrap();
    let outcome = waiting.await.unwrap().unwrap();
    // The layer long-polls for 25s at a time: an answer well before that
    // means the revocation woke it.
    assert!(
        revoked_at.elapsed() < Duration::from_secs(5),
        "took {:?}",
        revoked_at.elapsed()
    );
    assert_eq!(
        outcome.denial().map(|d| d.code),
        Some(DecisionCode::ApprovalDenied)
    );
    assert!(shop.ran().is_empty());

    let settled = server.operator.approval(&approval.id, None).await.unwrap();
    assert_eq!(settled.status, ApprovalStatus::Cancelled);

    // Approving it now is refused: it is settled.
    let late = server
        .operator
        .decide(
            &approval.id,
            &ApprovalDecision {
                approve: true,
                by: "alice".to_owned(),
                note: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(late.status(), Some(409));
}

#[tokio::test]
async fn an_approval_covers_exactly_the_action_approved_and_only_once() {
    let server = Server::start().await;
    let (_, _, agent) = shop_mission(&server).await;

    let asked = agent
        .authorize(&purchase("workshop ticket", 250.0).action)
        .await
        .unwrap();
    assert_eq!(asked.decision, Verdict::RequireApproval);
    assert_eq!(asked.code, DecisionCode::SpendOverThreshold);
    let approval_id = asked.approval_id.clone().unwrap();
    server
        .operator
        .decide(
            &approval_id,
            &ApprovalDecision {
                approve: true,
                by: "alice".to_owned(),
                note: None,
            },
        )
        .await
        .unwrap();

    // Another amount under the same approval: refused.
    let swapped = agent
        .authorize_request(&AuthorizeRequest {
            action: purchase("workshop ticket", 900.0).action,
            approval_id: Some(approval_id.clone()),
        })
        .await
        .unwrap();
    assert_eq!(
        (swapped.decision, swapped.code),
        (Verdict::Block, DecisionCode::ApprovalInvalid)
    );

    let exact = AuthorizeRequest {
        action: purchase("workshop ticket", 250.0).action,
        approval_id: Some(approval_id),
    };
    let first = agent.authorize_request(&exact).await.unwrap();
    assert_eq!(
        (first.decision, first.code),
        (Verdict::Allow, DecisionCode::Approved)
    );
    let again = agent.authorize_request(&exact).await.unwrap();
    assert_eq!(
        (again.decision, again.code),
        (Verdict::Block, DecisionCode::ApprovalInvalid)
    );
}

#[tokio::test]
async fn an_unanswered_approval_expires_as_a_denial_after_48_hours() {
    let server = Server::start().await;
    let (mission_id, _, agent) = shop_mission(&server).await;
    let shop = Shop::default();
    let guarded = PhantomLayer::new(agent.clone()).layer(shop.clone());
    assert!(matches!(
        guarded
            .clone()
            .oneshot(download("schedule.pdf"))
            .await
            .unwrap(),
        ToolOutcome::Ran { .. }
    ));

    let asked = agent
        .authorize(&purchase("workshop ticket", 250.0).action)
        .await
        .unwrap();
    let approval_id = asked.approval_id.unwrap();
    server.advance("47h").await;
    assert_eq!(
        server
            .operator
            .approval(&approval_id, None)
            .await
            .unwrap()
            .status,
        ApprovalStatus::Pending
    );
    server.advance("2h").await;
    assert_eq!(
        server
            .operator
            .approval(&approval_id, None)
            .await
            .unwrap()
            .status,
        ApprovalStatus::Expired
    );

    // The expiry terminated the mission; the agent's side undoes its work.
    let record = server.operator.mission(&mission_id).await.unwrap();
    assert_eq!(record.state, MissionState::Compensating);
    assert_eq!(record.compensations_due.len(), 1);
    let rollback = Mission::attach(agent, &mission_id)
        .rollback(&mut shop.clone())
        .await
        .unwrap();
    assert_eq!(rollback.state, MissionState::Compensated);
    assert_eq!(
        shop.ran().last().map(String::as_str),
        Some("delete \"schedule.pdf\"")
    );
}

#[tokio::test]
async fn a_failed_mission_runs_its_compensations_and_reports_a_failing_one() {
    let server = Server::start().await;
    let (mission_id, _, agent) = shop_mission(&server).await;
    let shop = Shop::default();
    let guarded = PhantomLayer::new(agent.clone()).layer(shop.clone());
    let mission = Mission::attach(agent, &mission_id);

    let result = mission
        .run(shop.clone(), |_| async {
            for file in ["a.pdf", "b.pdf", "c.pdf"] {
                guarded
                    .clone()
                    .oneshot(download(file))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Err::<(), String>("the analysis step crashed".to_owned())
        })
        .await;
    let Err(phantom_sdk::RunError::Failed { rollback, .. }) = result else {
        panic!("the mission should have failed");
    };
    let order: Vec<u32> = rollback.ran.iter().map(|(seq, _, _)| *seq).collect();
    assert_eq!(order, vec![3, 2, 1]);
    assert_eq!(rollback.state, MissionState::Compensated);

    // A compensation that fails leaves the mission marked, not compensated.
    let (mission_id, _, agent) = shop_mission(&server).await;
    let guarded = PhantomLayer::new(agent.clone()).layer(Shop::default());
    guarded.oneshot(download("d.pdf")).await.unwrap();
    let mut broken = tower::service_fn(|_: ToolCall| async {
        Err::<ToolOutput, _>(std::io::Error::other("disk gone"))
    });
    let rollback = Mission::attach(agent, &mission_id)
        .fail("gave up", &mut broken)
        .await
        .unwrap();
    assert_eq!(rollback.state, MissionState::CompensationFailed);
    let record = server.operator.mission(&mission_id).await.unwrap();
    assert_eq!(
        record.actions[0].compensation_detail.as_deref(),
        Some("disk gone")
    );
}

#[tokio::test]
async fn losing_an_entitlement_pauses_the_missions_that_need_it() {
    let server = Server::start().await;
    let pro = Entitlement {
        user: "user:123".to_owned(),
        entitlement: "pro_features".to_owned(),
    };
    server.operator.grant_entitlement(&pro).await.unwrap();
    let mission = server
        .operator
        .create_mission(&phantom_sdk::CreateMission {
            user: "user:123".to_owned(),
            intent: INTENT.to_owned(),
            timeout: "7d".parse().unwrap(),
            durable: true,
            requires_entitlements: vec!["pro_features".to_owned()],
        })
        .await
        .unwrap();
    let token = server
        .token(INTENT, &["shop.*"], None, "1h", Some(&mission.id))
        .await;
    let agent = server.agent(&token);
    let action: Action = download("schedule.pdf").action;
    assert_eq!(
        agent.authorize(&action).await.unwrap().decision,
        Verdict::Allow
    );

    // Stripe says the subscription was cancelled.
    let change = server.operator.remove_entitlement(&pro).await.unwrap();
    assert_eq!(change.paused_missions, vec![mission.id.clone()]);
    let paused = agent.authorize(&action).await.unwrap();
    assert_eq!(
        (paused.decision, paused.code),
        (Verdict::Block, DecisionCode::MissionNotRunning)
    );
    assert!(paused.reason.contains("pro_features"), "{}", paused.reason);

    // Re-authorized: granted again and resumed by an operator.
    server.operator.grant_entitlement(&pro).await.unwrap();
    server
        .operator
        .transition(&mission.id, "resume", Some("re-subscribed"))
        .await
        .unwrap();
    assert_eq!(
        agent.authorize(&action).await.unwrap().decision,
        Verdict::Allow
    );

    // A new mission needing an entitlement the user lacks is refused.
    let refused = server
        .operator
        .create_mission(&phantom_sdk::CreateMission {
            user: "user:123".to_owned(),
            intent: INTENT.to_owned(),
            timeout: "7d".parse().unwrap(),
            durable: true,
            requires_entitlements: vec!["enterprise".to_owned()],
        })
        .await
        .unwrap_err();
    assert_eq!(
        (refused.status(), refused.code()),
        (Some(409), Some("missing_entitlement"))
    );
}

#[tokio::test]
async fn destroying_a_critical_resource_needs_approval() {
    let server =
        Server::start_with(&[("PHANTOM_CRITICAL_RESOURCES", "db:prod,bucket:backups-*")]).await;
    let token = server
        .token(
            "Delete the events_2019 table from the staging and production databases",
            &["db.*"],
            None,
            "1h",
            None,
        )
        .await;
    let agent = server.agent(&token);

    let mut delete_table = Action::new("delete_table", serde_json::json!({"table": "events_2019"}));
    delete_table.scope = Some("db.admin".to_owned());
    delete_table.risk = Some(Risk {
        destructive: Some(true),
        ..Risk::default()
    });

    delete_table.resource = Some("db:staging".to_owned());
    server
        .operator
        .write_tuples(&phantom_sdk::WriteTuples {
            writes: vec![
                "db:staging#editor@user:123".parse().unwrap(),
                "db:prod#editor@user:123".parse().unwrap(),
            ],
            deletes: vec![],
        })
        .await
        .unwrap();
    assert_eq!(
        agent.authorize(&delete_table).await.unwrap().decision,
        Verdict::Allow
    );

    delete_table.resource = Some("db:prod".to_owned());
    let held = agent.authorize(&delete_table).await.unwrap();
    assert_eq!(
        (held.decision, held.code),
        (Verdict::RequireApproval, DecisionCode::CriticalResource)
    );
}
