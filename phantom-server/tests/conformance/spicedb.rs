//! SpiceDB's consistency-suite files: the schema translated into an OpenFGA model, the
//! relationships loaded (expired ones dropped), and every assertTrue / assertFalse /
//! assertCaveated run as a Check. SpiceDB semantics where they differ from OpenFGA's: only
//! the condition parameters an evaluation reaches are required, and a missing one makes the
//! answer conditional ("caveated").

use std::fs;

use chrono::{DateTime, Utc};
use phantom_server::graph::model::spicedb::from_spicedb_schema;
use phantom_server::graph::{
    CheckRequest, ConditionError, Graph, GraphConfig, GraphError, OnConflict, ParameterPolicy,
    TupleKey, Validation, WriteOptions,
};
use serde_json::{Map, Value};

use crate::tally::Tally;
use crate::{data_dir, read_yaml};

/// One relationship line: `resource#relation@subject[caveat:{...}][expiration:...]`.
/// Returns `None` for blank lines, comments and expired relationships.
fn relationship(line: &str, now: DateTime<Utc>) -> Option<Result<TupleKey, String>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with("//") {
        return None;
    }
    let mut text = line.replace("#...", "");
    if let Some(start) = text.find("[expiration:") {
        let rest = &text[start + "[expiration:".len()..];
        let end = rest.find(']')?;
        let at = match DateTime::parse_from_rfc3339(&rest[..end]) {
            Ok(at) => at,
            Err(e) => return Some(Err(format!("{line}: bad expiration: {e}"))),
        };
        if at <= now {
            return None;
        }
        text = format!("{}{}", &text[..start], &rest[end + 1..]);
    }
    Some(text.parse::<TupleKey>().map_err(|e| e.to_string()))
}

/// An assertion: `resource#permission@subject` optionally followed by ` with {json}`.
fn assertion(text: &str) -> Result<(TupleKey, Option<Map<String, Value>>), String> {
    let (tuple, context) = match text.split_once(" with ") {
        Some((t, c)) => (
            t,
            Some(serde_json::from_str::<Map<String, Value>>(c).map_err(|e| e.to_string())?),
        ),
        None => (text, None),
    };
    let tuple = tuple
        .trim()
        .replace("#...", "")
        .parse::<TupleKey>()
        .map_err(|e| e.to_string())?;
    Ok((tuple, context))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    True,
    False,
    Caveated,
}

#[test]
fn spicedb_consistency_files() {
    let mut tally = Tally::new("spicedb");
    let mut loads = Tally::new("spicedb (files loaded)");
    let now = Utc::now();
    let mut files: Vec<_> = fs::read_dir(data_dir().join("spicedb"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "skip"))
        .collect();
    files.sort();

    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = if file.ends_with(".skip") {
            serde_norway::from_str::<Value>(&fs::read_to_string(&path).unwrap()).unwrap()
        } else {
            read_yaml(&path)
        };
        let mut expectations = Vec::new();
        for (key, expect) in [
            ("assertTrue", Expect::True),
            ("assertFalse", Expect::False),
            ("assertCaveated", Expect::Caveated),
        ] {
            for (i, a) in data["assertions"][key]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                expectations.push((
                    format!("{file}/{key}{i}"),
                    a.as_str().unwrap().to_owned(),
                    expect,
                ));
            }
        }

        let loaded = load(&data, now);
        loads.record(&file, loaded.as_ref().map(|_| ()).map_err(Clone::clone));
        let graph = match loaded {
            Ok(graph) => graph,
            Err(e) => {
                for (name, _, _) in &expectations {
                    tally.record(name, Err(format!("file not loaded: {e}")));
                }
                continue;
            }
        };

        for (name, text, expect) in expectations {
            let outcome = assertion(&text).and_then(|(tuple, context)| {
                let mut request = CheckRequest::new(&tuple.object, &tuple.relation, &tuple.user);
                request.context = context.as_ref();
                let got = match graph.check(&request) {
                    Ok(r) if r.allowed => Expect::True,
                    Ok(_) => Expect::False,
                    Err(GraphError::Condition(ConditionError::MissingParameters { .. })) => {
                        Expect::Caveated
                    }
                    Err(e) => return Err(format!("{text}: error {e}")),
                };
                if got == expect {
                    Ok(())
                } else {
                    Err(format!("{text}: got {got:?}, expected {expect:?}"))
                }
            });
            tally.record(&name, outcome);
        }
    }
    let loads_ok = loads.finish();
    let assertions_ok = tally.finish();
    assert!(loads_ok && assertions_ok, "spicedb: some assertions failed");
}

fn load(data: &Value, now: DateTime<Utc>) -> Result<Graph, String> {
    let schema = data["schema"].as_str().ok_or("no schema")?;
    let model = from_spicedb_schema(schema).map_err(|e| e.to_string())?;
    let mut graph = Graph::with_config(GraphConfig {
        parameters: ParameterPolicy::Reached,
        ..GraphConfig::default()
    });
    graph
        .write_model_with(model, Validation::References)
        .map_err(|e| e.to_string())?;
    let mut tuples = Vec::new();
    for line in data["relationships"].as_str().unwrap_or("").lines() {
        if let Some(t) = relationship(line, now) {
            tuples.push(t?);
        }
    }
    let options = WriteOptions {
        on_duplicate: OnConflict::Ignore,
        on_missing: OnConflict::Error,
        ..WriteOptions::default()
    };
    graph
        .apply_with(&tuples, &[], options)
        .map_err(|e| e.to_string())?;
    Ok(graph)
}
