//! The relationship graph over HTTP: writes, usersets, revisions, and the
//! graph step of authorize.

use phantom_sdk::{Action, CheckRequest, DecisionCode, Verdict, WriteTuples};

use crate::harness::Server;

fn tuples(list: &[&str]) -> Vec<phantom_sdk::Tuple> {
    list.iter().map(|t| t.parse().unwrap()).collect()
}

async fn check(
    server: &Server,
    subject: &str,
    relation: &str,
    object: &str,
    at_least: Option<u64>,
) -> Result<bool, phantom_sdk::Error> {
    server
        .operator
        .check(&CheckRequest {
            subject: subject.parse().unwrap(),
            relation: relation.to_owned(),
            object: object.parse().unwrap(),
            at_least,
        })
        .await
        .map(|r| r.allowed)
}

#[tokio::test]
async fn usersets_and_revisions_behave_as_in_zanzibar() {
    let mut server = Server::start().await;
    let written = server
        .operator
        .write_tuples(&WriteTuples {
            writes: tuples(&[
                "resource:doc_456#owner@user:123",
                "resource:doc_456#viewer@group:eng#member",
                "group:eng#member@user:ada",
            ]),
            deletes: vec![],
        })
        .await
        .unwrap();
    assert_eq!(written.revision, 1);

    assert!(
        check(&server, "user:123", "owner", "resource:doc_456", Some(1))
            .await
            .unwrap()
    );
    assert!(
        check(&server, "user:ada", "viewer", "resource:doc_456", None)
            .await
            .unwrap()
    );
    assert!(
        !check(&server, "user:bob", "viewer", "resource:doc_456", None)
            .await
            .unwrap()
    );

    let err = check(&server, "user:ada", "viewer", "resource:doc_456", Some(99))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));

    let removed = server
        .operator
        .write_tuples(&WriteTuples {
            writes: vec![],
            deletes: tuples(&["group:eng#member@user:ada"]),
        })
        .await
        .unwrap();
    assert_eq!(removed.revision, 2);
    assert!(
        !check(&server, "user:ada", "viewer", "resource:doc_456", Some(2))
            .await
            .unwrap()
    );

    server.restart().await;
    assert!(
        check(&server, "user:123", "owner", "resource:doc_456", Some(2))
            .await
            .unwrap()
    );
    assert!(
        !check(&server, "user:ada", "viewer", "resource:doc_456", None)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn authorize_checks_the_users_relation_to_the_resource() {
    let server = Server::start().await;
    server
        .operator
        .write_tuples(&WriteTuples {
            writes: tuples(&["resource:doc_456#viewer@user:123"]),
            deletes: vec![],
        })
        .await
        .unwrap();
    let token = server
        .token(
            "Summarize the quarterly planning document",
            &["docs.*"],
            None,
            "10m",
            None,
        )
        .await;
    let agent = server.agent(&token);

    let mut read = Action::new("read_document", serde_json::json!({"document": "doc_456"}));
    read.scope = Some("docs.read".to_owned());
    read.risk = Some(phantom_sdk::Risk {
        read_only: Some(true),
        ..phantom_sdk::Risk::default()
    });
    read.resource = Some("resource:doc_456".to_owned());
    let allowed = agent.authorize(&read).await.unwrap();
    assert_eq!(allowed.decision, Verdict::Allow, "{}", allowed.reason);

    read.resource = Some("resource:doc_999".to_owned());
    let denied = agent.authorize(&read).await.unwrap();
    assert_eq!(
        (denied.decision, denied.code),
        (Verdict::Block, DecisionCode::GraphDenied)
    );
}
