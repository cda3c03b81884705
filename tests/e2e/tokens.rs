//! Ghost tokens: scope, budget, expiry, revocation, each with its own reason.

use std::sync::Arc;

use phantom_sdk::{Action, AuditQuery, DecisionCode, PhantomClient, TokenState, Verdict};

use crate::harness::Server;

fn gmail(tool: &str, scope: &str) -> Action {
    let mut action = Action::new(tool, serde_json::json!({"query": "flight receipt"}));
    action.scope = Some(scope.to_owned());
    action.risk = Some(phantom_sdk::Risk {
        read_only: Some(scope.ends_with("readonly")),
        ..phantom_sdk::Risk::default()
    });
    action
}

#[tokio::test]
async fn a_readonly_gmail_token_cannot_delete() {
    let server = Server::start().await;
    let token = server
        .token(
            "Find flight receipt in Gmail",
            &["gmail.readonly"],
            Some(10),
            "5 minutes",
            None,
        )
        .await;
    let agent = server.agent(&token);

    let search = agent
        .authorize(&gmail("gmail.search", "gmail.readonly"))
        .await
        .unwrap();
    assert_eq!(search.decision, Verdict::Allow, "{}", search.reason);

    let delete = agent
        .authorize(&gmail("gmail.delete", "gmail.modify"))
        .await
        .unwrap();
    assert_eq!(delete.decision, Verdict::Block);
    assert_eq!(delete.code, DecisionCode::OutOfScope);
    assert!(delete.reason.contains("gmail.modify"), "{}", delete.reason);

    // A blocked call spends nothing.
    assert_eq!(delete.remaining_actions, Some(9));
}

#[tokio::test]
async fn a_token_stops_after_its_actions_and_after_its_time() {
    let server = Server::start().await;
    let token = server
        .token(
            "Find flight receipt in Gmail",
            &["gmail.readonly"],
            Some(10),
            "5 minutes",
            None,
        )
        .await;
    let agent = server.agent(&token);
    let search = gmail("gmail.search", "gmail.readonly");

    for left in (0..10).rev() {
        let decision = agent.authorize(&search).await.unwrap();
        assert_eq!(decision.decision, Verdict::Allow, "{}", decision.reason);
        assert_eq!(decision.remaining_actions, Some(left));
    }
    let eleventh = agent.authorize(&search).await.unwrap();
    assert_eq!(
        (eleventh.decision, eleventh.code),
        (Verdict::Block, DecisionCode::TokenExhausted)
    );
    let status = server.operator.token_status(&token.token_id).await.unwrap();
    assert_eq!(status.state, TokenState::Exhausted);

    // A fresh token expires after five minutes of (manual) clock time.
    let timed = server
        .token(
            "Find flight receipt in Gmail",
            &["gmail.readonly"],
            Some(10),
            "5m",
            None,
        )
        .await;
    let agent = server.agent(&timed);
    assert_eq!(
        agent.authorize(&search).await.unwrap().decision,
        Verdict::Allow
    );
    server.advance("4m").await;
    assert_eq!(
        agent.authorize(&search).await.unwrap().decision,
        Verdict::Allow
    );
    server.advance("61s").await;
    let late = agent.authorize(&search).await.unwrap();
    assert_eq!(
        (late.decision, late.code),
        (Verdict::Block, DecisionCode::TokenExpired)
    );
    assert_eq!(
        server
            .operator
            .token_status(&timed.token_id)
            .await
            .unwrap()
            .state,
        TokenState::Expired
    );
}

#[tokio::test]
async fn concurrent_calls_never_overspend_the_budget() {
    let server = Server::start().await;
    let token = server
        .token(
            "Find flight receipt in Gmail",
            &["gmail.readonly"],
            Some(10),
            "5m",
            None,
        )
        .await;
    let agent: Arc<PhantomClient> = Arc::new(server.agent(&token));

    let calls = (0..100).map(|_| {
        let agent = Arc::clone(&agent);
        tokio::spawn(async move {
            agent
                .authorize(&gmail("gmail.search", "gmail.readonly"))
                .await
        })
    });
    let decisions = futures::future::join_all(calls).await;
    let decisions: Vec<_> = decisions.into_iter().map(|d| d.unwrap().unwrap()).collect();

    let allowed = decisions
        .iter()
        .filter(|d| d.decision == Verdict::Allow)
        .count();
    assert_eq!(allowed, 10);
    assert!(
        decisions
            .iter()
            .filter(|d| d.decision != Verdict::Allow)
            .all(|d| d.code == DecisionCode::TokenExhausted)
    );
    let status = server.operator.token_status(&token.token_id).await.unwrap();
    assert_eq!(status.actions_used, 10);
}

#[tokio::test]
async fn revocation_blocks_the_next_call() {
    let server = Server::start().await;
    let token = server
        .token(
            "Find flight receipt in Gmail",
            &["gmail.readonly"],
            Some(10),
            "5m",
            None,
        )
        .await;
    let agent = server.agent(&token);
    let search = gmail("gmail.search", "gmail.readonly");
    assert_eq!(
        agent.authorize(&search).await.unwrap().decision,
        Verdict::Allow
    );

    let revoked = server.operator.revoke_token(&token.token_id).await.unwrap();
    assert_eq!(revoked.state, TokenState::Revoked);
    let after = agent.authorize(&search).await.unwrap();
    assert_eq!(
        (after.decision, after.code),
        (Verdict::Block, DecisionCode::TokenRevoked)
    );
}

#[tokio::test]
async fn unknown_and_mistyped_tokens_are_blocked_with_their_own_reason() {
    let server = Server::start().await;
    let search = gmail("gmail.search", "gmail.readonly");

    // Well formed, never issued.
    let stranger = phantom_server::secrets::generate(phantom_sdk::SecretKind::GhostToken).unwrap();
    let unknown = server
        .operator
        .as_agent(stranger.expose())
        .unwrap()
        .authorize(&search)
        .await
        .unwrap();
    assert_eq!(
        (unknown.decision, unknown.code),
        (Verdict::Block, DecisionCode::TokenUnknown)
    );

    // A typo fails the checksum: the SDK refuses it before any request.
    let issued = server
        .token(
            "Find flight receipt in Gmail",
            &["gmail.readonly"],
            Some(10),
            "5m",
            None,
        )
        .await;
    let mut typo = issued.token.clone().into_bytes();
    let last = typo.len() - 1;
    typo[last] = if typo[last] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    assert!(PhantomClient::agent(&server.url(), &typo).is_err());

    // Sent anyway (a client that does not check), the server refuses it
    // without a lookup and says why.
    let raw = reqwest::Client::new()
        .post(format!("{}/v1/authorize", server.url()))
        .bearer_auth(&typo)
        .json(&serde_json::json!({"action": {"tool": "gmail.search", "args": {}}}))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(body["decision"], "BLOCK");
    assert_eq!(body["code"], "token_unknown");
    assert!(
        body["reason"].as_str().unwrap().contains("checksum"),
        "{body}"
    );
}

#[tokio::test]
async fn each_refusal_reason_is_in_the_audit_trail() {
    let server = Server::start().await;
    let search = gmail("gmail.search", "gmail.readonly");

    let exhausted = server
        .token(
            "Find flight receipt in Gmail",
            &["gmail.readonly"],
            Some(1),
            "5m",
            None,
        )
        .await;
    let agent = server.agent(&exhausted);
    agent.authorize(&search).await.unwrap();
    agent.authorize(&search).await.unwrap();

    let revoked = server
        .token(
            "Find flight receipt in Gmail",
            &["gmail.readonly"],
            Some(5),
            "5m",
            None,
        )
        .await;
    server
        .operator
        .revoke_token(&revoked.token_id)
        .await
        .unwrap();
    server.agent(&revoked).authorize(&search).await.unwrap();

    let expired = server
        .token(
            "Find flight receipt in Gmail",
            &["gmail.readonly"],
            Some(5),
            "1m",
            None,
        )
        .await;
    server.advance("2m").await;
    server.agent(&expired).authorize(&search).await.unwrap();

    let page = server
        .operator
        .audit(&AuditQuery {
            limit: Some(1000),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let codes: Vec<(Option<String>, Option<String>)> = page
        .events
        .iter()
        .filter(|e| e.kind == "decision")
        .map(|e| (e.token_id.clone(), e.code.clone()))
        .collect();
    for (token, code) in [
        (&exhausted.token_id, "token_exhausted"),
        (&revoked.token_id, "token_revoked"),
        (&expired.token_id, "token_expired"),
    ] {
        assert!(
            codes.contains(&(Some(token.clone()), Some(code.to_owned()))),
            "{code} for {token} in {codes:?}"
        );
    }

    // The audit trail never holds the token itself, nor argument values.
    let trail = serde_json::to_string(&page.events).unwrap();
    for secret in [&exhausted.token, &revoked.token, &expired.token] {
        assert!(!trail.contains(secret.as_str()));
    }
    assert!(
        !trail.contains("flight receipt"),
        "argument values stay out of the audit trail"
    );
}
