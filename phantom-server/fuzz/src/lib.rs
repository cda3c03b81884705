//! The fuzz targets' bodies, shared by the libFuzzer entry points and the stable replayers.

use phantom_server::graph::TupleKey;
use phantom_server::graph::model::spicedb::from_spicedb_schema;
use phantom_server::graph::model::{AuthorizationModel, parse_dsl};

/// Every model front end on arbitrary bytes: DSL (syntax, then validation and the DSL round
/// trip), JSON, SpiceDB schema. None may panic; a valid model must survive the round trip.
pub fn model_parser(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_dsl(text);
    if let Ok(model) = AuthorizationModel::from_dsl(text) {
        let written = model.to_dsl();
        assert!(written.is_ok(), "a valid model could not be written back");
        if let Ok(written) = written {
            assert_eq!(
                parse_dsl(&written).ok(),
                Some(model),
                "round trip changed the model"
            );
        }
    }
    let _ = AuthorizationModel::from_json(text);
    let _ = from_spicedb_schema(text);
}

/// The tuple parser on arbitrary bytes: no panic, and what parses prints back to itself.
pub fn tuple_parser(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(tuple) = text.parse::<TupleKey>() {
        assert_eq!(
            tuple.to_string().parse::<TupleKey>().ok(),
            Some(tuple),
            "print/parse round trip"
        );
    }
}

/// Replays files (or, with no arguments, standard input) through a target.
pub fn replay(target: fn(&[u8])) {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        let mut data = Vec::new();
        if std::io::Read::read_to_end(&mut std::io::stdin(), &mut data).is_ok() {
            target(&data);
        }
        return;
    }
    for path in paths {
        match std::fs::read(&path) {
            Ok(data) => target(&data),
            Err(e) => eprintln!("{path}: {e}"),
        }
    }
}
