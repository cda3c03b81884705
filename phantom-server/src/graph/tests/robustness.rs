//! The parsers never panic: random strings, and valid inputs mutated byte by byte. These are
//! the same code paths as the cargo-fuzz targets in `fuzz/`, run under proptest because
//! cargo-fuzz needs a nightly toolchain.

use proptest::prelude::*;

use crate::graph::model::spicedb::from_spicedb_schema;
use crate::graph::model::{AuthorizationModel, parse_dsl};
use crate::graph::tuple::TupleKey;

const SEED_MODEL: &str = "model
  schema 1.1
type user
type group
  relations
    define member: [user, group#member, user:*]
type document
  relations
    define parent: [document]
    define owner: [user with in_office]
    define viewer: ([user] or owner) and (member from parent but not owner)
condition in_office(ip: ipaddress, allowed: list<string>) {
  ip.in_cidr(\"10.0.0.0/8\") && \"x\" in allowed
}
";

const SEED_SPICEDB: &str = "use expiration
definition user {}
caveat c(x int) { x > 1 }
definition document {
  relation viewer: user | user:* | group#member | user with c and expiration
  permission view = (viewer + parent->view) & viewer - nil
}
";

/// Applies byte edits (position, new byte, delete?) to a seed.
fn mutate(seed: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut bytes = seed.as_bytes().to_vec();
    for &(at, byte, op) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let at = at % bytes.len();
        match op % 3 {
            0 => bytes[at] = byte,
            1 => {
                bytes.remove(at);
            }
            _ => bytes.insert(at, byte),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn exercise_model(text: &str) {
    let _ = parse_dsl(text);
    if let Ok(model) = AuthorizationModel::from_dsl(text) {
        // A valid model writes back to a DSL that parses to the same model.
        let written = model.to_dsl().unwrap();
        assert_eq!(parse_dsl(&written).unwrap(), model, "{written}");
    }
    let _ = from_spicedb_schema(text);
    let _ = AuthorizationModel::from_json(text);
}

fn exercise_tuple(text: &str) {
    if let Ok(tuple) = text.parse::<TupleKey>() {
        // Whatever parses prints back to something that parses to the same tuple.
        let printed = tuple.to_string();
        assert_eq!(printed.parse::<TupleKey>().unwrap(), tuple);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn model_parsers_never_panic_on_random_text(text in "\\PC{0,300}") {
        exercise_model(&text);
    }

    #[test]
    fn model_parsers_never_panic_on_mutated_models(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)) {
        exercise_model(&mutate(SEED_MODEL, &edits));
        exercise_model(&mutate(SEED_SPICEDB, &edits));
    }

    #[test]
    fn tuple_parser_never_panics(text in "\\PC{0,80}") {
        exercise_tuple(&text);
    }

    #[test]
    fn tuple_parser_never_panics_on_mutated_tuples(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6)) {
        exercise_tuple(&mutate("document:1#viewer@group:eng#member[cond:{\"x\":1}]", &edits));
        exercise_tuple(&mutate("folder:a/b#parent@user:*", &edits));
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!(
        "model\n  schema 1.1\ntype user\ntype doc\n  relations\n    define a: [user]\n    define b: {}a{}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    assert!(AuthorizationModel::from_dsl(&deep).is_err());
    let spicedb = format!(
        "definition user {{}}\ndefinition doc {{\n relation a: user\n permission b = {}a{}\n}}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    assert!(from_spicedb_schema(&spicedb).is_err());
    let cel = format!(
        "model\n  schema 1.1\ntype user\ntype doc\n  relations\n    define a: [user with c]\ncondition c(x: int) {{\n  {}x{} > 1\n}}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let model = AuthorizationModel::from_dsl(&cel).unwrap();
    let mut graph = crate::graph::Graph::new();
    assert!(graph.write_model(model).is_err());
}

#[test]
fn long_cel_expressions_do_not_crash() {
    // The CEL interpreter takes about 38 KiB of stack per nesting level in
    // debug builds (far less in release, where the limits are sized for
    // 2 MiB threads): give the test room so it runs in every build.
    let body = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(long_cel_expressions)
        .unwrap();
    body.join().unwrap();
}

fn long_cel_expressions() {
    // Just under the operator limit (512), then far over it; compiled, then evaluated.
    for n in [510, 20_000] {
        let forms = [
            vec!["x"; n + 1].join(" + "),
            format!("{}(x > 1)", "!".repeat(n)),
            format!("m{}", ".a".repeat(n)),
        ];
        for expression in forms {
            let dsl = format!(
                "model\n  schema 1.1\ntype user\ntype doc\n  relations\n    define a: [user with c]\n\
                 condition c(x: int, m: map<int>) {{\n  {expression} > 1\n}}\n"
            );
            let model = AuthorizationModel::from_dsl(&dsl).unwrap();
            let mut graph = crate::graph::Graph::new();
            let written = graph.write_model(model);
            assert_eq!(written.is_ok(), n < 512, "{n}");
            if written.is_ok() {
                graph
                    .apply(&["doc:1#a@user:u[c]".parse().unwrap()], &[])
                    .unwrap();
                let context = serde_json::json!({"x": 1, "m": {}});
                let mut request = crate::graph::CheckRequest::new("doc:1", "a", "user:u");
                request.context = context.as_object();
                let _ = graph.check(&request);
            }
        }
    }
}
