//! OpenFGA's query suites, run as OpenFGA's Go runner runs them (see
//! tests/data/openfga/README.md): one fresh graph per test, stages in order, tuples shuffled
//! and written in chunks of 40, then every Check, ListObjects and ListUsers assertion; and a
//! second run of single-stage tests with at most 100 tuples where the stage's tuples are sent
//! as contextual tuples instead of being written.

use std::collections::BTreeSet;

use phantom_server::graph::{
    CheckRequest, Graph, GraphError, ListObjectsRequest, ListUsersRequest, TupleKey, UserFilter,
};
use serde_json::{Map, Value};

use crate::tally::Tally;
use crate::{data_dir, read_yaml};

/// A small deterministic shuffle (the order must not matter, so any permutation will do).
fn shuffle<T>(items: &mut [T], seed: &str) {
    let mut state: u64 = seed.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x1000_0000_01b3)
    });
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = (state % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

fn tuples(value: Option<&Value>) -> Vec<TupleKey> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| serde_json::from_value(t.clone()).unwrap())
            .collect(),
        _ => Vec::new(),
    }
}

/// The strings of a YAML list (empty when absent).
pub fn strings(value: Option<&Value>) -> BTreeSet<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect(),
        _ => BTreeSet::new(),
    }
}

fn context(assertion: &Value) -> Option<Map<String, Value>> {
    assertion.get("context").and_then(Value::as_object).cloned()
}

fn expect_error(assertion: &Value) -> Option<u64> {
    assertion
        .get("errorCode")
        .and_then(Value::as_u64)
        .filter(|c| *c != 0)
}

fn compare_error(
    result: &Result<impl std::fmt::Debug, GraphError>,
    code: u64,
) -> Result<(), String> {
    match result {
        Err(e) if u64::from(e.code().as_u32()) == code => Ok(()),
        Err(e) => Err(format!(
            "expected error {code}, got {} ({e})",
            e.code().as_u32()
        )),
        Ok(v) => Err(format!("expected error {code}, got {v:?}")),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Stored,
    Contextual,
}

fn run_file(stored_suite: &'static str, contextual_suite: &'static str, file: &str) {
    let mut stored = Tally::new(stored_suite);
    let mut contextual = Tally::new(contextual_suite);
    let data = read_yaml(&data_dir().join("openfga").join(file));
    for test in data["tests"].as_array().unwrap() {
        let name = test["name"].as_str().unwrap();
        let stages = test["stages"].as_array().unwrap();
        run_test(&mut stored, name, stages, Mode::Stored);
        let contextual_ok = stages.len() == 1 && tuples(stages[0].get("tuples")).len() <= 100;
        if contextual_ok {
            run_test(&mut contextual, name, stages, Mode::Contextual);
        }
    }
    let stored_ok = stored.finish();
    let contextual_ok = contextual.finish();
    assert!(stored_ok && contextual_ok, "{file}: some assertions failed");
}

fn run_test(tally: &mut Tally, name: &str, stages: &[Value], mode: Mode) {
    let mut graph = Graph::new();
    let suffix = "";
    for (s, stage) in stages.iter().enumerate() {
        let prefix = format!("{name}/stage{s}");
        let model = stage["model"].as_str().unwrap();
        if let Err(e) = graph.write_model_dsl(model) {
            tally.record(
                &format!("{prefix}/model{suffix}"),
                Err(format!("model rejected: {e}")),
            );
            return;
        }
        let mut stage_tuples = tuples(stage.get("tuples"));
        if mode == Mode::Stored {
            shuffle(&mut stage_tuples, &prefix);
            for chunk in stage_tuples.chunks(40) {
                if let Err(e) = graph.apply(chunk, &[]) {
                    tally.record(
                        &format!("{prefix}/write{suffix}"),
                        Err(format!("write rejected: {e}")),
                    );
                    return;
                }
            }
            stage_tuples.clear();
        }

        for (i, a) in stage
            .get("checkAssertions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let outcome = run_check(&graph, a, &stage_tuples);
            tally.record(&format!("{prefix}/check{i}{suffix}"), outcome);
        }
        for (i, a) in stage
            .get("listObjectsAssertions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let outcome = run_list_objects(&graph, a, &stage_tuples);
            tally.record(&format!("{prefix}/listObjects{i}{suffix}"), outcome);
        }
        for (i, a) in stage
            .get("listUsersAssertions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let outcome = run_list_users(&graph, a, &stage_tuples);
            tally.record(&format!("{prefix}/listUsers{i}{suffix}"), outcome);
        }
    }
}

fn with_stage(assertion: &Value, stage_tuples: &[TupleKey]) -> Vec<TupleKey> {
    let mut all = stage_tuples.to_vec();
    all.extend(tuples(assertion.get("contextualTuples")));
    all
}

fn run_check(graph: &Graph, a: &Value, stage_tuples: &[TupleKey]) -> Result<(), String> {
    let t = &a["tuple"];
    let contextual = with_stage(a, stage_tuples);
    let ctx = context(a);
    let mut request = CheckRequest::new(
        t["object"].as_str().unwrap_or(""),
        t["relation"].as_str().unwrap_or(""),
        t["user"].as_str().unwrap_or(""),
    )
    .contextual_tuples(&contextual);
    request.context = ctx.as_ref();
    let result = graph.check(&request).map(|r| r.allowed);
    if let Some(code) = expect_error(a) {
        return compare_error(&result, code);
    }
    let expected = a
        .get("expectation")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match result {
        Ok(allowed) if allowed == expected => Ok(()),
        Ok(allowed) => Err(format!("allowed = {allowed}, expected {expected}")),
        Err(e) => Err(format!("error {}: {e}", e.code().as_u32())),
    }
}

fn run_list_objects(graph: &Graph, a: &Value, stage_tuples: &[TupleKey]) -> Result<(), String> {
    let r = &a["request"];
    let contextual = with_stage(a, stage_tuples);
    let ctx = context(a);
    let user = r["user"].as_str().unwrap_or("");
    let relation = r["relation"].as_str().unwrap_or("");
    let mut request = ListObjectsRequest::new(r["type"].as_str().unwrap_or(""), relation, user);
    request.contextual_tuples = &contextual;
    request.context = ctx.as_ref();
    let result = graph.list_objects(&request);
    if let Some(code) = expect_error(a) {
        return compare_error(&result, code);
    }
    let got: BTreeSet<String> = result
        .map_err(|e| format!("error {}: {e}", e.code().as_u32()))?
        .into_iter()
        .collect();
    let expected = strings(a.get("expectation"));
    if got != expected {
        return Err(format!("got {got:?}, expected {expected:?}"));
    }
    // As the Go runner does: every returned object must pass Check.
    for object in &got {
        let mut check = CheckRequest::new(object, relation, user).contextual_tuples(&contextual);
        check.context = ctx.as_ref();
        match graph.check(&check) {
            Ok(r) if r.allowed => {}
            other => return Err(format!("returned {object} but Check says {other:?}")),
        }
    }
    Ok(())
}

fn run_list_users(graph: &Graph, a: &Value, stage_tuples: &[TupleKey]) -> Result<(), String> {
    let r = &a["request"];
    let contextual = with_stage(a, stage_tuples);
    let ctx = context(a);
    let object = r["object"].as_str().unwrap_or("");
    let relation = r["relation"].as_str().unwrap_or("");
    let filters: Vec<UserFilter> = strings(r.get("filters"))
        .iter()
        .map(|f| UserFilter::parse(f))
        .collect();
    let mut request = ListUsersRequest::new(object, relation, &filters);
    request.contextual_tuples = &contextual;
    request.context = ctx.as_ref();
    let result = graph.list_users(&request);
    if let Some(code) = expect_error(a) {
        if !strings(a.get("expectation")).is_empty() {
            return Err("the assertion has both an error code and an expectation".to_owned());
        }
        return compare_error(&result, code);
    }
    let got: BTreeSet<String> = result
        .map_err(|e| format!("error {}: {e}", e.code().as_u32()))?
        .into_iter()
        .collect();
    let expected = strings(a.get("expectation"));
    if got != expected {
        return Err(format!("got {got:?}, expected {expected:?}"));
    }
    for user in &got {
        let mut check = CheckRequest::new(object, relation, user).contextual_tuples(&contextual);
        check.context = ctx.as_ref();
        match graph.check(&check) {
            Ok(r) if r.allowed => {}
            other => return Err(format!("returned {user} but Check says {other:?}")),
        }
    }
    Ok(())
}

#[test]
fn consolidated_1_1() {
    run_file(
        "openfga/consolidated_1_1_tests.yaml (stored tuples)",
        "openfga/consolidated_1_1_tests.yaml (contextual tuples)",
        "consolidated_1_1_tests.yaml",
    );
}

#[test]
fn abac() {
    run_file(
        "openfga/abac_tests.yaml (stored tuples)",
        "openfga/abac_tests.yaml (contextual tuples)",
        "abac_tests.yaml",
    );
}
