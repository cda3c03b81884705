//! The one place listing assertions this engine does not meet, each with its reason.
//! Nothing here is special-cased in the engine: these assertions simply fail and are counted
//! as "skipped (not supported)" instead of "failed".

const MODULES: &str = "modular models (fga.mod, `module`, `extend type`) are not supported: \
     Phantom stores one model per store written as a single file; supporting them needs a \
     module loader and the schema 1.2 merge rules";

const SELF: &str = "`use self` / `self`: SpiceDB itself skips this file in its generic suite";

const STORE_SCHEMA: &str = "the OpenFGA CLI's store-file schema (`store.fga.yaml` with neither \
     model nor model_file, or with unknown fields): Phantom reads no store files, it takes models \
     and tuples through its API";

/// (suite, assertion name prefix, reason).
pub const NOT_SUPPORTED: &[(&str, &str, &str)] = &[
    ("language/transformer-module", "", MODULES),
    ("language/fga-mod", "", MODULES),
    ("language/stores", "02-missing-model", STORE_SCHEMA),
    ("language/stores", "03-additional-properties", STORE_SCHEMA),
    (
        "language/json-validation",
        "file can only include one module",
        MODULES,
    ),
    ("spicedb (files loaded)", "self.yaml.skip", SELF),
    ("spicedb", "self.yaml.skip", SELF),
];

/// The reason an assertion is listed, if it is.
pub fn reason(suite: &str, name: &str) -> Option<&'static str> {
    NOT_SUPPORTED
        .iter()
        .find(|(s, prefix, _)| *s == suite && name.starts_with(prefix))
        .map(|(_, _, reason)| *reason)
}
