//! Tier 2: how close the call is in meaning to the mission.
//!
//! An [`Embedder`] turns the mission and the action into vectors; their
//! cosine, together with the policy evidence, goes through the calibrated
//! logistic model in [`super::calibration`] to give a probability of
//! alignment. MiniLM ([`super::model::MiniLm`]) is the real embedder; the
//! [`Lexical`] one runs when no weights are installed.

use super::IntentError;
use super::cache::TextCache;
use super::lexicon::{concept, is_stop_word, stem, words};

/// Turns text into a unit vector.
pub trait Embedder: Send + Sync {
    /// The embedding of `text`, L2-normalised.
    ///
    /// # Errors
    /// [`IntentError::Model`] when the model fails to run.
    fn embed(&self, text: &str) -> Result<Vec<f32>, IntentError>;

    /// The embedding of an action's text, which is embedded on every call:
    /// an embedder whose cost grows with length may cut it shorter than a
    /// mission, which is embedded once.
    ///
    /// # Errors
    /// [`IntentError::Model`] when the model fails to run.
    fn embed_action(&self, text: &str) -> Result<Vec<f32>, IntentError> {
        self.embed(text)
    }

    /// A short name for logs and signals.
    fn name(&self) -> &str;

    /// Which calibration applies to this embedder's cosines.
    fn calibration(&self) -> super::calibration::Calibration;
}

/// Cosine similarity of two unit vectors (their dot product).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum()
}

/// A bag-of-concepts embedding: content words, stemmed, hashed into a fixed
/// number of dimensions, with each word's concept group added so "reserve"
/// meets "booking" and "hotel" meets "room".
///
/// It knows no meaning beyond the hand-written groups in
/// [`super::lexicon::CONCEPTS`]: paraphrases outside them score zero. That is
/// why the engine says so at start-up and why the policy evidence carries
/// more weight in its calibration.
#[derive(Debug, Default)]
pub struct Lexical;

impl Lexical {
    const DIMENSIONS: usize = 2048;
}

impl Embedder for Lexical {
    fn embed(&self, text: &str) -> Result<Vec<f32>, IntentError> {
        let mut vector = vec![0f32; Self::DIMENSIONS];
        for word in words(text) {
            if is_stop_word(&word) || word.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            let stemmed = stem(&word);
            add_hashed(&mut vector, &stemmed, 0.6);
            if let Some(group) = concept(&word) {
                add_hashed(&mut vector, group, 1.0);
            }
        }
        normalise(&mut vector);
        Ok(vector)
    }

    fn name(&self) -> &str {
        "lexical"
    }

    fn calibration(&self) -> super::calibration::Calibration {
        super::calibration::LEXICAL
    }
}

fn add_hashed(vector: &mut [f32], feature: &str, weight: f32) {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in feature.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let index = usize::try_from(hash % vector.len() as u64).unwrap_or(0);
    // Words are counted once per text: repetition is not relevance.
    if vector[index] == 0.0 {
        vector[index] = weight;
    }
}

/// Scales a vector to unit length (leaves a zero vector alone).
pub fn normalise(vector: &mut [f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Embeddings by text: missions (embedded once each) and actions.
pub type EmbeddingCache = TextCache<Vec<f32>>;

impl EmbeddingCache {
    /// The cached embedding of a mission, or a fresh one.
    ///
    /// # Errors
    /// Whatever the embedder returns.
    pub fn get_or_embed(
        &self,
        embedder: &dyn Embedder,
        text: &str,
    ) -> Result<Vec<f32>, IntentError> {
        self.get_or_try_insert(text, |t| embedder.embed(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_meets_synonyms() {
        let lex = Lexical;
        let mission = lex.embed("Please reserve a room in Paris for me").unwrap();
        let booking = lex.embed("book hotel. hotel: Grand, city: Paris").unwrap();
        let banking = lex
            .embed("read file. path: /home/banking/statements.pdf")
            .unwrap();
        assert!(cosine(&mission, &booking) > cosine(&mission, &banking));
        assert!(cosine(&mission, &banking) < 0.1);
    }

    #[test]
    fn embedding_cache_is_bounded() {
        let cache = EmbeddingCache::new(1);
        let lex = Lexical;
        cache.get_or_embed(&lex, "a mission").unwrap();
        cache.get_or_embed(&lex, "another mission").unwrap();
        assert_eq!(cache.len(), 1);
        assert!(cache.contains("another mission"));
    }
}
