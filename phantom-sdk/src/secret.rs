//! The format of Phantom's bearer secrets: ghost tokens (`phm_…`) and API
//! keys (`phk_…`).
//!
//! A secret is a prefix, 128 random bits in base62 (22 characters) and a
//! CRC-32 of those characters in base62 (6 characters). The prefix lets
//! secret scanners recognise a leaked secret; the checksum rejects a typo
//! or a truncated paste before any lookup is made.
//!
//! A secret's `Debug` never shows it: it cannot leak through a log line.

use std::fmt;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BODY_LEN: usize = 22;
const CHECK_LEN: usize = 6;

/// What kind of secret a string claims to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// A ghost token, given to an agent for one mission.
    GhostToken,
    /// A management API key, held by an operator.
    ApiKey,
}

impl SecretKind {
    /// The prefix that marks this kind of secret.
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::GhostToken => "phm_",
            Self::ApiKey => "phk_",
        }
    }
}

/// Why a string is not a well-formed secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretFormatError {
    /// The prefix is not the one of the expected kind.
    #[error("wrong prefix: expected `{expected}`")]
    Prefix {
        /// The prefix that was expected.
        expected: &'static str,
    },
    /// The length or the characters are wrong.
    #[error("malformed: expected the prefix and 28 base62 characters")]
    Shape,
    /// The checksum does not match: a typo or a truncated copy.
    #[error("checksum mismatch: the secret was mistyped or truncated")]
    Checksum,
}

/// A bearer secret: a ghost token or an API key.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    kind: SecretKind,
    text: String,
}

impl Secret {
    /// Builds a secret of `kind` from 16 random bytes.
    ///
    /// The caller supplies the randomness so that this crate does not decide
    /// where it comes from; the server uses the operating system's source.
    pub fn from_random(kind: SecretKind, random: [u8; 16]) -> Self {
        let body = base62(u128::from_be_bytes(random), BODY_LEN);
        let check = base62(u128::from(crc32fast::hash(body.as_bytes())), CHECK_LEN);
        Self {
            kind,
            text: format!("{}{body}{check}", kind.prefix()),
        }
    }

    /// Checks that `text` is a well-formed secret of `kind`.
    ///
    /// # Errors
    ///
    /// Returns what is wrong with the string; nothing is looked up.
    pub fn parse(kind: SecretKind, text: &str) -> Result<Self, SecretFormatError> {
        let Some(rest) = text.strip_prefix(kind.prefix()) else {
            return Err(SecretFormatError::Prefix {
                expected: kind.prefix(),
            });
        };
        if rest.len() != BODY_LEN + CHECK_LEN || !rest.bytes().all(|b| ALPHABET.contains(&b)) {
            return Err(SecretFormatError::Shape);
        }
        let (body, check) = rest.split_at(BODY_LEN);
        if base62(u128::from(crc32fast::hash(body.as_bytes())), CHECK_LEN) != check {
            return Err(SecretFormatError::Checksum);
        }
        Ok(Self {
            kind,
            text: text.to_owned(),
        })
    }

    /// The kind of secret.
    pub const fn kind(&self) -> SecretKind {
        self.kind
    }

    /// The secret itself, for an `Authorization` header. Never log it.
    pub fn expose(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[redacted]", self.kind.prefix())
    }
}

fn base62(mut value: u128, width: usize) -> String {
    let mut digits = vec![b'0'; width];
    for slot in digits.iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    digits.into_iter().map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_parse_back() {
        let secret = Secret::from_random(SecretKind::GhostToken, [7; 16]);
        assert!(secret.expose().starts_with("phm_"));
        assert_eq!(secret.expose().len(), 4 + 28);
        let parsed = Secret::parse(SecretKind::GhostToken, secret.expose()).unwrap();
        assert_eq!(parsed, secret);
    }

    #[test]
    fn typos_and_truncations_are_rejected_before_lookup() {
        let secret = Secret::from_random(SecretKind::GhostToken, [42; 16]);
        let text = secret.expose();

        let mut typo = text.as_bytes().to_vec();
        typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(typo).unwrap();
        assert_eq!(
            Secret::parse(SecretKind::GhostToken, &typo),
            Err(SecretFormatError::Checksum)
        );
        assert_eq!(
            Secret::parse(SecretKind::GhostToken, &text[..text.len() - 1]),
            Err(SecretFormatError::Shape)
        );
        assert!(matches!(
            Secret::parse(SecretKind::ApiKey, text),
            Err(SecretFormatError::Prefix { .. })
        ));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = Secret::from_random(SecretKind::ApiKey, [1; 16]);
        assert_eq!(format!("{secret:?}"), "phk_[redacted]");
    }
}
