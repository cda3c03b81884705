//! The relationship graph over HTTP: writes, usersets, revisions, and the
//! graph step of authorize.

use phantom_sdk::{Action, CheckRequest, DecisionCode, Verdict, WriteTuples};

use crate::harness::Server;

fn tuples(list: &[&str]) -> Vec<phantom_sdk::Tuple> {
    list.iter().map(|t| t.parse().unwrap()).collect()
}

/// Writes tuples, failing the test if the server refuses them.
async fn write(server: &Server, list: &[&str]) {
    server
        .operator
        .write_tuples(&WriteTuples {
            writes: tuples(list),
            deletes: vec![],
        })
        .await
        .unwrap();
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
            at_least,
            ..CheckRequest::new(subject.parse().unwrap(), relation, object.parse().unwrap())
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

const MODEL: &str = "model
  schema 1.1
type user
type group
  relations
    define member: [user, group#member]
type folder
  relations
    define viewer: [user, group#member]
type document
  relations
    define parent: [folder]
    define owner: [user]
    define editor: [user] or owner
    define viewer: [user, user:*, group#member] or editor or viewer from parent
";

#[tokio::test]
async fn a_model_gives_relations_their_meaning_and_survives_restarts() {
    let mut server = Server::start().await;
    let written = server.operator.write_model(MODEL).await.unwrap();
    server
        .operator
        .write_tuples(&WriteTuples {
            writes: tuples(&[
                "document:plan#owner@user:ada",
                "document:plan#parent@folder:q3",
                "folder:q3#viewer@group:eng#member",
                "group:eng#member@user:bob",
            ]),
            deletes: vec![],
        })
        .await
        .unwrap();

    // Computed relations, tuple-to-userset, usersets.
    assert!(
        check(&server, "user:ada", "viewer", "document:plan", None)
            .await
            .unwrap()
    );
    assert!(
        check(&server, "user:ada", "editor", "document:plan", None)
            .await
            .unwrap()
    );
    assert!(
        check(&server, "user:bob", "viewer", "document:plan", None)
            .await
            .unwrap()
    );
    assert!(
        !check(&server, "user:bob", "editor", "document:plan", None)
            .await
            .unwrap()
    );

    // Why: the path of tuples and rewrites that allowed it.
    let explained = server
        .operator
        .check(&CheckRequest {
            explain: true,
            ..CheckRequest::new(
                "user:bob".parse().unwrap(),
                "viewer",
                "document:plan".parse().unwrap(),
            )
        })
        .await
        .unwrap();
    let why = explained.why.expect("an explanation").to_string();
    assert!(why.contains("folder:q3"), "{why}");

    let objects = server
        .operator
        .list_objects(&phantom_sdk::ListObjectsRequest {
            subject: "user:bob".parse().unwrap(),
            relation: "viewer".to_owned(),
            object_type: "document".to_owned(),
            at_least: None,
            contextual_tuples: vec![],
            context: None,
            model_id: None,
        })
        .await
        .unwrap();
    assert_eq!(objects.objects, vec!["document:plan".to_owned()]);

    let users = server
        .operator
        .list_users(&phantom_sdk::ListUsersRequest {
            object: "document:plan".parse().unwrap(),
            relation: "viewer".to_owned(),
            user_filters: vec!["user".to_owned()],
            at_least: None,
            contextual_tuples: vec![],
            context: None,
            model_id: None,
        })
        .await
        .unwrap();
    let mut found = users.users.clone();
    found.sort();
    assert_eq!(found, vec!["user:ada".to_owned(), "user:bob".to_owned()]);

    let tree = server
        .operator
        .expand(&phantom_sdk::ExpandRequest {
            relation: "viewer".to_owned(),
            object: "document:plan".parse().unwrap(),
            at_least: None,
            contextual_tuples: vec![],
            model_id: None,
        })
        .await
        .unwrap();
    assert!(tree.tree.to_string().contains("parent"), "{}", tree.tree);

    // A tuple the model does not allow is refused, naming why; nothing is
    // written.
    let revision = server.operator.health().await.unwrap()["graph_revision"].clone();
    let refused = server
        .operator
        .write_tuples(&WriteTuples {
            writes: tuples(&["document:plan#owner@group:eng#member"]),
            deletes: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(
        (refused.status(), refused.code()),
        (Some(400), Some("invalid_tuple"))
    );
    assert_eq!(
        server.operator.health().await.unwrap()["graph_revision"],
        revision
    );

    // The model and the tuples come back after a restart.
    server.restart().await;
    assert_eq!(
        server.operator.model(None).await.unwrap().model_id,
        written.model_id
    );
    assert!(
        check(&server, "user:bob", "viewer", "document:plan", None)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn an_invalid_model_is_refused_with_its_line_and_column() {
    let server = Server::start().await;
    let broken = "model\n  schema 1.1\ntype user\ntype document\n  relations\n    define viewer: [user] or editor\n";
    let err = server.operator.write_model(broken).await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    let message = err.to_string();
    assert!(message.contains("editor"), "{message}");

    let syntax = "model\n  schema 1.1\ntype user\n  relations\n    define viewer [user]\n";
    let err = server.operator.write_model(syntax).await.unwrap_err();
    assert!(err.to_string().contains("line 5"), "{err}");
    assert!(
        server.operator.model(None).await.is_err(),
        "nothing was written"
    );
}

#[tokio::test]
async fn authorize_uses_the_models_computed_relations() {
    let server = Server::start().await;
    server.operator.write_model(MODEL).await.unwrap();
    server
        .operator
        .write_tuples(&WriteTuples {
            writes: tuples(&["document:plan#owner@user:123"]),
            deletes: vec![],
        })
        .await
        .unwrap();
    let token = server
        .token(
            "Summarize the quarterly plan document",
            &["docs.*"],
            None,
            "10m",
            None,
        )
        .await;
    let agent = server.agent(&token);

    let mut read = Action::new("read_document", serde_json::json!({"document": "plan"}));
    read.scope = Some("docs.read".to_owned());
    read.risk = Some(phantom_sdk::Risk {
        read_only: Some(true),
        ..phantom_sdk::Risk::default()
    });
    read.resource = Some("document:plan".to_owned());
    // The owner is a viewer through the model, with no viewer tuple.
    let allowed = agent.authorize(&read).await.unwrap();
    assert_eq!(allowed.decision, Verdict::Allow, "{}", allowed.reason);
}

#[tokio::test]
async fn a_json_model_with_an_every_parent_arrow_is_served_without_dsl() {
    let server = Server::start().await;
    // SpiceDB's `team.all(member)` in the JSON form: Phantom's one extension.
    let model = serde_json::json!({
        "schema_version": "1.1",
        "type_definitions": [
            {"type": "user"},
            {"type": "team", "relations": {"member": {"this": {}}},
             "metadata": {"relations": {"member": {"directly_related_user_types": [{"type": "user"}]}}}},
            {"type": "resource",
             "relations": {
                 "team": {"this": {}},
                 "view_all": {"tupleToUserset": {
                     "tupleset": {"relation": "team"},
                     "computedUserset": {"relation": "member"},
                     "all": true}}},
             "metadata": {"relations": {"team": {"directly_related_user_types": [{"type": "team"}]}}}}
        ]
    });
    let response = reqwest::Client::new()
        .put(format!("{}/v1/model", server.url()))
        .bearer_auth(server.key())
        .json(&model)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        200,
        "{:?}",
        response.text().await
    );

    let served = server.operator.model(None).await.unwrap();
    assert!(served.dsl.is_none(), "the DSL cannot say `.all()`");
    assert_eq!(
        served.model["type_definitions"][2]["relations"]["view_all"]["tupleToUserset"]["all"],
        true
    );

    write(
        &server,
        &[
            "resource:r#team@team:a",
            "resource:r#team@team:b",
            "team:a#member@user:ann",
            "team:b#member@user:ann",
            "team:a#member@user:bob",
        ],
    )
    .await;
    assert!(
        check(&server, "user:ann", "view_all", "resource:r", None)
            .await
            .unwrap()
    );
    assert!(
        !check(&server, "user:bob", "view_all", "resource:r", None)
            .await
            .unwrap()
    );
}
