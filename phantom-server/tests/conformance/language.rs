//! OpenFGA's language corpus: DSL ↔ JSON transformer pairs, syntax and semantic validation
//! cases, JSON validation, object ids, modular models and `fga.mod` manifests (not
//! supported), and the CLI's store files.

use std::collections::BTreeSet;
use std::fs;

use phantom_server::graph::model::{AuthorizationModel, ModelError, parse_dsl};
use phantom_server::graph::tuple::is_valid_object_id;
use phantom_server::graph::{
    CheckRequest, Graph, ListObjectsRequest, ListUsersRequest, TupleKey, UserFilter,
};
use serde_json::Value;

use crate::openfga::strings;
use crate::tally::Tally;
use crate::{data_dir, read_yaml};

fn language_dir() -> std::path::PathBuf {
    data_dir().join("openfga/language")
}

fn cases(file: &str) -> Vec<Value> {
    match read_yaml(&language_dir().join(file)) {
        Value::Array(cases) => cases,
        other => panic!("{file}: expected a list, got {other}"),
    }
}

/// The case folders under `folder` with their names, in name order.
fn case_dirs(folder: &str) -> Vec<(String, std::path::PathBuf)> {
    let mut dirs: Vec<_> = fs::read_dir(language_dir().join(folder))
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, path)
        })
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn transformer_pairs() {
    let mut tally = Tally::new("language/transformer");
    for (name, dir) in case_dirs("transformer") {
        let dsl = fs::read_to_string(dir.join("authorization-model.fga")).unwrap();
        let expected: Value = serde_json::from_str(
            &fs::read_to_string(dir.join("authorization-model.json")).unwrap(),
        )
        .unwrap();

        // DSL → JSON.
        // The transformer corpus checks the transformation only; some of its models are not
        // semantically valid (undefined conditions), so only the syntax is checked here.
        let outcome = parse_dsl(&dsl)
            .map_err(|e| e.to_string())
            .and_then(|model| {
                let got = serde_json::to_value(&model).unwrap();
                if got == expected {
                    Ok(())
                } else {
                    Err(format!("json differs:\n{got}\nexpected:\n{expected}"))
                }
            });
        tally.record(&format!("{name} dsl->json"), outcome);

        // JSON → DSL → JSON.
        let outcome = serde_json::from_value::<AuthorizationModel>(expected.clone())
            .map_err(|e| e.to_string())
            .and_then(|model| model.to_dsl().map_err(|e| e.to_string()))
            .and_then(|text| parse_dsl(&text).map_err(|e| format!("{e}\n{text}")))
            .and_then(|model| {
                let got = serde_json::to_value(&model).unwrap();
                if got == expected {
                    Ok(())
                } else {
                    Err(format!("round trip differs:\n{got}"))
                }
            });
        tally.record(&format!("{name} json->dsl->json"), outcome);
    }
    assert!(tally.finish());
}

#[test]
fn transformer_modules() {
    let mut tally = Tally::new("language/transformer-module");
    for (name, _) in case_dirs("transformer-module") {
        tally.record(&name, Err("modular models are not supported".to_owned()));
    }
    assert!(tally.finish());
}

/// `fga.mod` files (the manifest of a modular model) parsed to JSON with positions: part of
/// modular models, which are not supported.
#[test]
fn fga_mod_files() {
    let mut tally = Tally::new("language/fga-mod");
    for case in cases("fga-mod-transformer-cases.yaml") {
        let name = case["name"].as_str().unwrap().to_owned();
        tally.record(&name, Err("fga.mod manifests are not parsed".to_owned()));
    }
    assert!(tally.finish());
}

/// The OpenFGA CLI's store files (`store.fga.yaml`): a model (inline or in `model_file`),
/// tuples, and Check / ListObjects / ListUsers tests. The tests of the valid files run against
/// the engine; the files that must fail the CLI's JSON-schema validation are listed as not
/// supported, since Phantom reads no store files.
#[test]
fn store_files() {
    let mut tally = Tally::new("language/stores");
    for (name, dir) in case_dirs("stores") {
        if dir.join("expected_errors.json").exists() {
            tally.record(&name, Err("store-file schema validation".to_owned()));
            continue;
        }
        let store = read_yaml(&dir.join("store.fga.yaml"));
        let dsl = match (store.get("model"), store.get("model_file")) {
            (Some(Value::String(model)), _) => model.clone(),
            (_, Some(Value::String(file))) => fs::read_to_string(dir.join(file)).unwrap(),
            _ => panic!("{name}: no model"),
        };
        let mut graph = Graph::new();
        if let Err(e) = graph.write_model_dsl(&dsl) {
            tally.record(&name, Err(format!("model: {e}")));
            continue;
        }
        let tuples: Vec<TupleKey> = store["tuples"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                TupleKey::new(
                    str_of(t, "object"),
                    str_of(t, "relation"),
                    str_of(t, "user"),
                )
            })
            .collect();
        if let Err(e) = graph.apply(&tuples, &[]) {
            tally.record(&name, Err(format!("tuples: {e}")));
            continue;
        }
        for (i, test) in store["tests"].as_array().into_iter().flatten().enumerate() {
            let outcome = store_test(&graph, test);
            tally.record(&format!("{name}/{i}"), outcome);
        }
    }
    assert!(tally.finish());
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or("")
}

/// One test of a store file: every assertion of its `check`, `list_objects` and `list_users`.
fn store_test(graph: &Graph, test: &Value) -> Result<(), String> {
    let each = |key: &str| test[key].as_array().cloned().unwrap_or_default();
    for check in each("check") {
        for (relation, want) in check["assertions"].as_object().into_iter().flatten() {
            let request =
                CheckRequest::new(str_of(&check, "object"), relation, str_of(&check, "user"));
            let got = graph.check(&request).map_err(|e| e.to_string())?.allowed;
            if Some(got) != want.as_bool() {
                return Err(format!("check {request:?}: got {got}, expected {want}"));
            }
        }
    }
    for list in each("list_objects") {
        for (relation, want) in list["assertions"].as_object().into_iter().flatten() {
            let request =
                ListObjectsRequest::new(str_of(&list, "type"), relation, str_of(&list, "user"));
            let got: BTreeSet<String> = graph
                .list_objects(&request)
                .map_err(|e| e.to_string())?
                .into_iter()
                .collect();
            let want = strings(Some(want));
            if got != want {
                return Err(format!(
                    "list objects {relation}: got {got:?}, expected {want:?}"
                ));
            }
        }
    }
    for list in each("list_users") {
        let filters: Vec<UserFilter> = list["user_filter"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| UserFilter::parse(str_of(f, "type")))
            .collect();
        for (relation, want) in list["assertions"].as_object().into_iter().flatten() {
            let request = ListUsersRequest::new(str_of(&list, "object"), relation, &filters);
            let got: BTreeSet<String> = graph
                .list_users(&request)
                .map_err(|e| e.to_string())?
                .into_iter()
                .collect();
            let want = strings(want.get("users"));
            if got != want {
                return Err(format!(
                    "list users {relation}: got {got:?}, expected {want:?}"
                ));
            }
        }
    }
    Ok(())
}

/// Runs a DSL validation file: the same accept/reject decision as the expected errors, and the
/// first expected error's line among the lines we report.
fn dsl_validation(suite: &'static str, file: &str) {
    let mut tally = Tally::new(suite);
    let mut line_mismatches = Vec::new();
    for case in cases(file) {
        let name = case["name"].as_str().unwrap().to_owned();
        if case.get("skip").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let dsl = case["dsl"].as_str().unwrap();
        let expected = case
            .get("expected_errors")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let result = AuthorizationModel::from_dsl(dsl);
        let outcome = match (&result, expected.is_empty()) {
            (Ok(_), true) => Ok(()),
            (Err(e), false) => {
                let want = expected[0]["line"]["start"].as_u64().map(|l| l as u32 + 1);
                if let (Some(want), false) = (want, matches!(e, ModelError::Unsupported(_))) {
                    let lines = e.lines();
                    if !lines.contains(&want) {
                        line_mismatches
                            .push(format!("{name}: expected line {want}, got {lines:?} ({e})"));
                    }
                }
                Ok(())
            }
            (Ok(_), false) => Err(format!("accepted, expected {}", expected[0]["msg"])),
            (Err(e), true) => Err(format!("rejected: {e}")),
        };
        tally.record(&name, outcome);
    }
    for m in &line_mismatches {
        println!("[{suite}] line differs: {m}");
    }
    println!("{suite}: {} line mismatches", line_mismatches.len());
    assert!(tally.finish());
}

#[test]
fn dsl_syntax_validation() {
    dsl_validation("language/dsl-syntax", "dsl-syntax-validation-cases.yaml");
}

#[test]
fn dsl_semantic_validation() {
    dsl_validation(
        "language/dsl-semantic",
        "dsl-semantic-validation-cases.yaml",
    );
}

#[test]
fn json_validation() {
    let mut tally = Tally::new("language/json-validation");
    for case in cases("json-validation-cases.yaml") {
        let name = case["name"].as_str().unwrap().to_owned();
        let expected = case
            .get("expected_errors")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let result = AuthorizationModel::from_json(case["json"].as_str().unwrap());
        let outcome = match (&result, expected.is_empty()) {
            (Ok(_), true) | (Err(_), false) => Ok(()),
            (Ok(_), false) => Err(format!("accepted, expected {}", expected[0]["msg"])),
            (Err(e), true) => Err(format!("rejected: {e}")),
        };
        tally.record(&name, outcome);
    }
    assert!(tally.finish());
}

#[test]
fn json_to_dsl() {
    let mut tally = Tally::new("language/json-to-dsl");
    for case in cases("json-syntax-transformer-validation-cases.yaml") {
        let name = case["name"].as_str().unwrap().to_owned();
        let valid = case.get("valid").and_then(Value::as_bool).unwrap_or(true);
        let model: AuthorizationModel =
            serde_json::from_str(case["json"].as_str().unwrap()).unwrap();
        let outcome = match (model.to_dsl(), valid) {
            (Ok(text), true) => AuthorizationModel::from_dsl(&text)
                .map(|_| ())
                .map_err(|e| format!("written dsl does not parse back: {e}\n{text}")),
            (Err(_), false) => Ok(()),
            (Ok(text), false) => Err(format!("written, expected an error:\n{text}")),
            (Err(e), true) => Err(format!("not written: {e}")),
        };
        tally.record(&name, outcome);
    }
    assert!(tally.finish());
}

#[test]
fn object_ids() {
    let mut tally = Tally::new("language/object-id");
    for case in cases("object-id-validation-cases.yaml") {
        let name = case["name"].as_str().unwrap().to_owned();
        let id = case["object_id"].as_str().unwrap();
        let valid = case["valid"].as_bool().unwrap();
        let got = is_valid_object_id(id);
        tally.record(
            &name,
            if got == valid {
                Ok(())
            } else {
                Err(format!("{id:?}: got {got}"))
            },
        );
    }
    assert!(tally.finish());
}
