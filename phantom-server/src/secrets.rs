//! Making secrets and ids, and keeping secrets only as hashes.
//!
//! Ghost tokens and API keys carry 128 random bits, so a plain SHA-256 is
//! enough to keep them: nobody can search that space from a stolen hash.
//! Hashes are compared in constant time.

use phantom_sdk::{Secret, SecretKind};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The SHA-256 of a secret, as stored.
pub type SecretHash = [u8; 32];

/// Why a secret could not be made.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct RandomError(String);

/// A fresh secret of `kind` from the operating system's random source.
///
/// # Errors
///
/// Fails only if the random source does.
pub fn generate(kind: SecretKind) -> Result<Secret, RandomError> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(|e| RandomError(e.to_string()))?;
    Ok(Secret::from_random(kind, random))
}

/// The stored form of a secret.
pub fn hash(secret: &Secret) -> SecretHash {
    Sha256::digest(secret.expose().as_bytes()).into()
}

/// Whether two hashes are equal, in time independent of where they differ.
pub fn same(a: &SecretHash, b: &SecretHash) -> bool {
    a.ct_eq(b).into()
}

/// A new id: `prefix` and a time-ordered UUID, e.g. `tok_0193…`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// A short fingerprint of a JSON value, for the audit trail and for
/// matching an approved action: the value itself is never stored there.
pub fn fingerprint(value: &serde_json::Value) -> SecretHash {
    let mut canonical = String::new();
    write_canonical(value, &mut canonical);
    Sha256::digest(canonical.as_bytes()).into()
}

/// JSON with object keys sorted at every level, so that equal values give
/// equal bytes whatever order their keys arrived in (serde_json keeps
/// insertion order when a dependency enables `preserve_order`).
fn write_canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(item) = map.get(key) {
                    write_canonical(item, out);
                }
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_identify_secrets_without_keeping_them() {
        let a = generate(SecretKind::GhostToken).unwrap();
        let b = generate(SecretKind::GhostToken).unwrap();
        assert_ne!(a.expose(), b.expose());
        assert!(same(&hash(&a), &hash(&a)));
        assert!(!same(&hash(&a), &hash(&b)));
    }

    #[test]
    fn ids_carry_their_prefix_and_sort_by_time() {
        let first = new_id("msn");
        let second = new_id("msn");
        assert!(first.starts_with("msn_"));
        assert!(first < second);
    }

    #[test]
    fn fingerprints_ignore_key_order() {
        let a: serde_json::Value = serde_json::from_str(r#"{"a":1,"b":[1,2]}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{"b":[1,2],"a":1}"#).unwrap();
        assert_eq!(fingerprint(&a), fingerprint(&b));
    }
}
