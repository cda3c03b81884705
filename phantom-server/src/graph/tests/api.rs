//! The public API's promises, one by one.

use serde_json::json;

use crate::graph::{
    CheckRequest, ErrorCode, ExpandRequest, Graph, GraphError, ListObjectsRequest,
    ListUsersRequest, OnConflict, TupleKey, UserFilter, Why, WriteOptions,
};

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
    define blocked: [user]
    define viewer: ([user, user:*, group#member] or owner or viewer from parent) but not blocked
";

fn t(s: &str) -> TupleKey {
    s.parse().unwrap()
}

fn graph() -> Graph {
    let mut g = Graph::new();
    g.write_model_dsl(MODEL).unwrap();
    g.apply(
        &[
            t("group:eng#member@user:anne"),
            t("group:all#member@group:eng#member"),
            t("folder:f#viewer@group:all#member"),
            t("document:d#parent@folder:f"),
            t("document:d#owner@user:bob"),
            t("document:d#blocked@user:carl"),
            t("document:d#viewer@user:carl"),
        ],
        &[],
    )
    .unwrap();
    g
}

fn allowed(g: &Graph, object: &str, relation: &str, user: &str) -> bool {
    g.check(&CheckRequest::new(object, relation, user))
        .unwrap()
        .allowed
}

#[test]
fn check_follows_usersets_parents_and_exclusions() {
    let g = graph();
    assert!(allowed(&g, "document:d", "viewer", "user:anne"));
    assert!(allowed(&g, "document:d", "viewer", "user:bob"));
    assert!(!allowed(&g, "document:d", "viewer", "user:carl"));
    assert!(!allowed(&g, "document:d", "viewer", "user:dave"));
    assert!(allowed(&g, "document:d", "viewer", "group:eng#member"));
}

#[test]
fn why_returns_the_path() {
    let g = graph();
    let answer = g
        .check(&CheckRequest::new("document:d", "viewer", "user:anne").explain())
        .unwrap();
    let Some(Why::Excluding { base, .. }) = answer.why else {
        panic!("{:?}", answer.why)
    };
    let Why::ViaParent { tuple, then } = *base else {
        panic!("{base:?}")
    };
    assert_eq!(tuple.to_string(), "document:d#parent@folder:f");
    let Why::ViaUserset { tuple, .. } = *then else {
        panic!("{then:?}")
    };
    assert_eq!(tuple.to_string(), "folder:f#viewer@group:all#member");
    let json = serde_json::to_value(
        g.check(&CheckRequest::new("document:d", "viewer", "user:bob").explain())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json["why"]["kind"], "excluding");
}

#[test]
fn apply_is_atomic_and_counts_revisions() {
    let mut g = graph();
    let before = (g.revision(), g.len());
    let err = g
        .apply(
            &[
                t("document:e#owner@user:x"),
                t("document:e#owner@group:eng#member"),
            ],
            &[],
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidTuple);
    assert_eq!((g.revision(), g.len()), before, "nothing written");

    let err = g.apply(&[t("document:d#owner@user:bob")], &[]).unwrap_err();
    assert!(matches!(err, GraphError::TupleExists(_)));
    let ignore = WriteOptions {
        on_duplicate: OnConflict::Ignore,
        on_missing: OnConflict::Ignore,
        ..WriteOptions::default()
    };
    let revision = g
        .apply_with(
            &[t("document:d#owner@user:bob")],
            &[t("document:zz#owner@user:x")],
            ignore,
        )
        .unwrap();
    assert_eq!(revision, before.0 + 1);

    g.apply(&[], &[t("document:d#blocked@user:carl")]).unwrap();
    assert!(allowed(&g, "document:d", "viewer", "user:carl"));
}

#[test]
fn without_a_model_relations_are_direct_and_usersets_expand() {
    let mut g = Graph::new();
    g.apply(
        &[
            t("doc:1#viewer@group:eng#member"),
            t("group:eng#member@user:x"),
            t("doc:2#viewer@user:*"),
        ],
        &[],
    )
    .unwrap();
    assert!(allowed(&g, "doc:1", "viewer", "user:x"));
    assert!(!allowed(&g, "doc:1", "viewer", "user:y"));
    assert!(allowed(&g, "doc:2", "viewer", "user:y"));
    assert!(!allowed(&g, "doc:1", "editor", "user:x"));
    let objects = g
        .list_objects(&ListObjectsRequest::new("doc", "viewer", "user:x"))
        .unwrap();
    assert_eq!(objects, ["doc:1", "doc:2"]);
}

#[test]
fn models_are_versioned() {
    let mut g = graph();
    let first = g.latest_model_id().unwrap().to_owned();
    let second = g.write_model_dsl("model\n  schema 1.1\ntype user\ntype document\n  relations\n    define owner: [user]\n").unwrap();
    assert!(second > first, "ids sort by creation");
    // The latest model has no `viewer`; the first one still answers when named.
    assert_eq!(
        g.check(&CheckRequest::new("document:d", "viewer", "user:bob"))
            .unwrap_err()
            .code(),
        ErrorCode::ValidationError
    );
    assert!(
        g.check(&CheckRequest::new("document:d", "viewer", "user:bob").model_id(&first))
            .unwrap()
            .allowed
    );
    assert_eq!(
        g.check(&CheckRequest::new("document:d", "owner", "user:bob").model_id("nope"))
            .unwrap_err()
            .code(),
        ErrorCode::AuthorizationModelNotFound
    );
}

#[test]
fn list_users_and_expand() {
    let g = graph();
    let filters = [UserFilter::parse("user")];
    let users = g
        .list_users(&ListUsersRequest::new("document:d", "viewer", &filters))
        .unwrap();
    assert_eq!(users, ["user:anne", "user:bob"]);

    let tree = g
        .expand(&ExpandRequest {
            object: "folder:f",
            relation: "viewer",
            ..ExpandRequest::default()
        })
        .unwrap();
    assert_eq!(
        serde_json::to_value(tree).unwrap(),
        json!({"root": {"name": "folder:f#viewer", "leaf": {"users": {"users": ["group:all#member"]}}}})
    );
}

#[test]
fn depth_limit_is_a_distinct_error() {
    let mut g = Graph::new();
    let tuples: Vec<TupleKey> = (0..30)
        .map(|i| t(&format!("g:{}#m@g:{}#m", i + 1, i)))
        .chain([t("g:0#m@u:x")])
        .collect();
    g.apply(&tuples, &[]).unwrap();
    let err = g.check(&CheckRequest::new("g:30", "m", "u:x")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ResolutionTooComplex);
    assert!(
        g.check(&CheckRequest::new("g:10", "m", "u:x"))
            .unwrap()
            .allowed
    );
}

#[test]
fn conditions_use_request_context() {
    let mut g = Graph::new();
    g.write_model_dsl(
        "model\n  schema 1.1\ntype user\ntype doc\n  relations\n    define viewer: [user with office]\n\
         condition office(ip: ipaddress) {\n  ip.in_cidr(\"10.0.0.0/8\")\n}\n",
    )
    .unwrap();
    g.apply(&[t("doc:1#viewer@user:a[office]")], &[]).unwrap();
    let inside = json!({"ip": "10.1.2.3"});
    let outside = json!({"ip": "192.168.0.1"});
    let check = |ctx: Option<&serde_json::Value>| {
        let mut request = CheckRequest::new("doc:1", "viewer", "user:a");
        request.context = ctx.and_then(|c| c.as_object());
        g.check(&request).map(|r| r.allowed)
    };
    assert_eq!(check(Some(&inside)), Ok(true));
    assert_eq!(check(Some(&outside)), Ok(false));
    assert_eq!(check(None).unwrap_err().code(), ErrorCode::ValidationError);
}

#[test]
fn many_tuples_on_one_object_load_in_linear_time() {
    let mut g = Graph::new();
    let started = std::time::Instant::now();
    for batch in 0..100 {
        let tuples: Vec<TupleKey> = (0..1000)
            .map(|i| TupleKey::new("doc:hot", "viewer", format!("user:{}", batch * 1000 + i)))
            .collect();
        g.apply(&tuples, &[]).unwrap();
    }
    assert_eq!(g.len(), 100_000);
    assert!(allowed(&g, "doc:hot", "viewer", "user:54321"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn the_graph_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Graph>();
}

#[test]
fn replay_keeps_tuples_the_latest_model_forbids() {
    let mut g = Graph::new();
    g.write_model_dsl(
        "model\n  schema 1.1\ntype user\ntype doc\n  relations\n    define viewer: [user]\n",
    )
    .unwrap();
    g.write_model_dsl("model\n  schema 1.1\ntype user\ntype team\ntype doc\n  relations\n    define viewer: [team]\n").unwrap();
    let old = [t("doc:1#viewer@user:a")];
    assert_eq!(
        g.apply(&old, &[]).unwrap_err().code(),
        ErrorCode::InvalidTuple
    );
    let replay = WriteOptions {
        replay: true,
        ..WriteOptions::default()
    };
    g.apply_with(&old, &[], replay).unwrap();
    assert_eq!(g.len(), 1);
    // Ignored by the latest model, as before the restart.
    assert!(
        !g.check(&CheckRequest::new("doc:1", "viewer", "user:a"))
            .unwrap()
            .allowed
    );
    let first = g.model_ids().next().unwrap().to_owned();
    assert!(
        g.check(&CheckRequest::new("doc:1", "viewer", "user:a").model_id(&first))
            .unwrap()
            .allowed
    );
}

#[test]
fn every_parent_arrows_need_every_parent() {
    let model = crate::graph::model::spicedb::from_spicedb_schema(
        "definition user {}
         definition team { relation member: user }
         definition resource {
             relation team: team
             permission view_any = team->member
             permission view_all = team.all(member)
         }",
    )
    .unwrap();

    // The extension shows in the JSON form only where it is used, round-trips, and has no
    // OpenFGA DSL to be written as.
    let json = serde_json::to_string(&model).unwrap();
    assert_eq!(json.matches("\"all\":true").count(), 1, "{json}");
    let back: crate::graph::AuthorizationModel = serde_json::from_str(&json).unwrap();
    assert_eq!(back, model);
    assert!(matches!(
        crate::graph::model::to_dsl(&model),
        Err(crate::graph::ModelError::NotExpressible { .. })
    ));

    let mut g = Graph::new();
    g.write_model_with(model, crate::graph::Validation::References)
        .unwrap();
    g.apply(
        &[
            t("resource:r#team@team:a"),
            t("resource:r#team@team:b"),
            t("team:a#member@user:ann"),
            t("team:b#member@user:ann"),
            t("team:a#member@user:bob"),
        ],
        &[],
    )
    .unwrap();

    assert!(allowed(&g, "resource:r", "view_all", "user:ann"));
    assert!(!allowed(&g, "resource:r", "view_all", "user:bob"));
    assert!(allowed(&g, "resource:r", "view_any", "user:bob"));
    // No parent at all grants nothing.
    assert!(!allowed(&g, "resource:empty", "view_all", "user:ann"));

    let listed = g
        .list_objects(&ListObjectsRequest::new("resource", "view_all", "user:bob"))
        .unwrap();
    assert!(listed.is_empty(), "{listed:?}");
    let filters = [UserFilter::parse("user")];
    let users = g
        .list_users(&ListUsersRequest::new("resource:r", "view_all", &filters))
        .unwrap();
    assert_eq!(users, ["user:ann"]);

    // The proof names both parents.
    let answer = g
        .check(&CheckRequest::new("resource:r", "view_all", "user:ann").explain())
        .unwrap();
    let Some(Why::All { branches }) = answer.why else {
        panic!("{:?}", answer.why)
    };
    assert_eq!(branches.len(), 2);
    assert!(branches.iter().all(|b| matches!(b, Why::ViaParent { .. })));

    // Expanded as an intersection of one userset per parent.
    let tree = g
        .expand(&ExpandRequest {
            object: "resource:r",
            relation: "view_all",
            ..ExpandRequest::default()
        })
        .unwrap();
    let tree = serde_json::to_value(tree).unwrap();
    assert_eq!(
        tree["root"]["intersection"]["nodes"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{tree}"
    );
}

#[test]
fn semantic_errors_point_at_the_declaration() {
    let mut g = Graph::new();
    let err = g
        .write_model_dsl(
            "model\n  schema 1.1\ntype user\ntype doc\n  relations\n    define viewer: [usr]\n",
        )
        .unwrap_err()
        .to_string();
    // The relation's `define` on line 6 starts at column 5.
    assert!(err.contains("line 6, column 5"), "{err}");
    assert!(err.contains("usr"), "{err}");
}
