//! Turning evidence into a probability.
//!
//! Raw cosine similarity is not a probability: MiniLM puts an aligned read of
//! a travel note at 0.22 and a money transfer at 0.13. The engine therefore
//! feeds the cosine together with a few general features of the call into a
//! logistic model whose constants were fitted on labelled cases and are kept
//! here, one set per embedder.
//!
//! Reproducing the constants: `phantom eval calibrate --cases
//! phantom-server/src/intent/data/calibration.jsonl [--model-dir DIR]` prints
//! them, and the `fitted_constants_reproduce` tests check that a refit on the
//! same file lands on the constants below. The calibration file is written
//! for this purpose across several domains (mail, files, money, code,
//! calendars, chat, shopping, home, travel). Its tool and argument names are
//! its own: none is a tool name of the AgentDojo travel suite, which stays
//! held out for evaluation (a test checks it), nor of AgentDojo's banking,
//! slack and workspace suites.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::IntentError;
use super::analysis::{Facts, action_text};
use super::eval::{Case, EvalOptions, read_cases};
use super::model::MiniLm;
use super::semantic::{Embedder, Lexical, cosine};
use super::types::Origin;

/// Number of features.
pub const FEATURES: usize = 7;

/// Feature names, in order.
pub const FEATURE_NAMES: [&str; FEATURES] = [
    "cosine",
    "object_coverage",
    "state_changing",
    "unrequested",
    "ungrounded",
    "grounded",
    "sensitive",
];

/// The features of one call.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Features(pub [f64; FEATURES]);

impl Features {
    /// The features of a proposal, given its facts and the cosine between
    /// mission and action.
    pub fn new(facts: &Facts, cosine: f64) -> Self {
        let changes = facts.tool.operation.changes_state();
        let slots = facts.slots.len();
        let ungrounded = facts
            .slots
            .iter()
            .filter(|s| matches!(s.origin, Origin::Unknown | Origin::ThirdPartyText))
            .count();
        let grounded = facts
            .slots
            .iter()
            .any(|s| matches!(s.origin, Origin::Mission | Origin::UserData));
        let sensitive =
            facts.sensitive.iter().any(|(_, _, needed)| !needed) || !facts.egress.is_empty();

        Self([
            cosine,
            facts.tool.object_coverage(&facts.mission),
            f64::from(u8::from(changes)),
            f64::from(u8::from(changes && !facts.requested)),
            if slots == 0 {
                0.0
            } else {
                ungrounded as f64 / slots as f64
            },
            f64::from(u8::from(grounded)),
            f64::from(u8::from(sensitive)),
        ])
    }
}

/// A fitted logistic model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Intercept.
    pub bias: f64,
    /// One weight per feature.
    pub weights: [f64; FEATURES],
}

impl Calibration {
    /// Probability that a call with these features serves the mission.
    pub fn probability(&self, features: &Features) -> f64 {
        let z = self.bias
            + self
                .weights
                .iter()
                .zip(features.0.iter())
                .map(|(w, x)| w * x)
                .sum::<f64>();
        1.0 / (1.0 + (-z).exp())
    }

    /// The constants as Rust source, for pasting back into this file.
    pub fn to_rust(&self, name: &str) -> String {
        let weights: Vec<String> = self.weights.iter().map(|w| format!("{w:.3}")).collect();
        format!(
            "pub const {name}: Calibration = Calibration {{\n    bias: {:.3},\n    weights: [{}],\n}};",
            self.bias,
            weights.join(", ")
        )
    }
}

/// Fits a logistic model by full-batch gradient descent with L2 on the
/// weights (not the bias). Deterministic: zero start, fixed step count.
pub fn fit(samples: &[(Features, bool)], l2: f64, steps: usize) -> Calibration {
    let mut model = Calibration {
        bias: 0.0,
        weights: [0.0; FEATURES],
    };
    if samples.is_empty() {
        return model;
    }
    let n = samples.len() as f64;
    let rate = 0.5;

    for _ in 0..steps {
        let mut grad_bias = 0.0;
        let mut grad = [0.0; FEATURES];
        for (features, aligned) in samples {
            let error = model.probability(features) - f64::from(u8::from(*aligned));
            grad_bias += error;
            for (g, x) in grad.iter_mut().zip(features.0.iter()) {
                *g += error * x;
            }
        }
        model.bias -= rate * grad_bias / n;
        for (w, g) in model.weights.iter_mut().zip(grad.iter()) {
            *w -= rate * (g / n + l2 * *w);
        }
    }
    model
}

/// The features and labels of labelled cases, computed with `embedder`.
///
/// # Errors
/// Whatever the embedder returns.
pub fn samples(
    cases: &[Case],
    embedder: &dyn Embedder,
) -> Result<Vec<(Features, bool)>, IntentError> {
    let mut out = Vec::with_capacity(cases.len());
    for case in cases {
        let proposal = case.proposal();
        let facts = Facts::gather(&proposal);
        let mission = embedder.embed(&case.mission)?;
        let action = embedder.embed_action(&action_text(&proposal))?;
        out.push((
            Features::new(&facts, cosine(&mission, &action)),
            case.aligned,
        ));
    }
    Ok(out)
}

/// Refits the constants on a case file: lexical without `model_dir`,
/// MiniLM with it. Returns the constants as Rust source.
///
/// # Errors
/// [`IntentError::Eval`] for an unreadable file, [`IntentError::Model`] when
/// the model does not load.
pub fn fit_file(path: &Path, model_dir: Option<&Path>) -> Result<String, IntentError> {
    fit_file_with(path, model_dir, FIT_L2, FIT_STEPS)
}

/// [`fit_file`] with explicit regularisation and step count, plus the
/// training log-loss and accuracy at 0.5 in the returned text.
///
/// # Errors
/// As [`fit_file`].
pub fn fit_file_with(
    path: &Path,
    model_dir: Option<&Path>,
    l2: f64,
    steps: usize,
) -> Result<String, IntentError> {
    let file = std::fs::File::open(path)
        .map_err(|e| IntentError::Eval(format!("{}: {e}", path.display())))?;
    let cases = read_cases(std::io::BufReader::new(file), &EvalOptions::default())?;
    let (embedder, name): (Box<dyn Embedder>, &str) = match model_dir {
        Some(dir) => (Box::new(MiniLm::load(dir)?), "MINILM"),
        None => (Box::new(Lexical), "LEXICAL"),
    };
    let samples = samples(&cases, embedder.as_ref())?;
    let model = fit(&samples, l2, steps);

    let n = samples.len().max(1) as f64;
    let mut loss = 0.0;
    let mut correct = 0;
    for (features, aligned) in &samples {
        let p = model.probability(features).clamp(1e-9, 1.0 - 1e-9);
        loss -= if *aligned { p.ln() } else { (1.0 - p).ln() };
        if (p >= 0.5) == *aligned {
            correct += 1;
        }
    }
    Ok(format!(
        "// fitted on {} cases of {} (l2 {l2}, {steps} steps): log-loss {:.3}, accuracy {:.1}%\n{}",
        samples.len(),
        path.display(),
        loss / n,
        100.0 * f64::from(correct) / n,
        model.to_rust(name)
    ))
}

/// L2 strength and step count used for the shipped constants.
pub const FIT_L2: f64 = 0.003;
/// Gradient steps used for the shipped constants.
pub const FIT_STEPS: usize = 4000;

/// Constants for the lexical embedder, fitted on `intent/data/calibration.jsonl`
/// (107 cases; training log-loss 0.302, accuracy 87.9%).
pub const LEXICAL: Calibration = Calibration {
    bias: 0.411,
    weights: [3.707, 0.099, -1.056, -1.035, -1.929, -0.150, -3.027],
};

/// Constants for all-MiniLM-L6-v2, fitted on `intent/data/calibration.jsonl`
/// (107 cases; training log-loss 0.303, accuracy 87.9%).
pub const MINILM: Calibration = Calibration {
    bias: 0.043,
    weights: [3.617, 0.625, -1.176, -0.966, -1.788, -0.110, -3.052],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_separates_a_simple_set() {
        let good = Features([0.6, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let bad = Features([0.05, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0]);
        let samples = vec![(good, true), (bad, false), (good, true), (bad, false)];
        let model = fit(&samples, FIT_L2, 500);
        assert!(model.probability(&good) > 0.8);
        assert!(model.probability(&bad) < 0.2);
    }

    fn close(a: &Calibration, b: &Calibration) -> bool {
        (a.bias - b.bias).abs() < 0.01
            && a.weights
                .iter()
                .zip(b.weights.iter())
                .all(|(x, y)| (x - y).abs() < 0.01)
    }

    fn refit(model_dir: Option<&Path>) -> Calibration {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/intent/data/calibration.jsonl");
        let file = std::fs::File::open(&path).unwrap();
        let cases = read_cases(std::io::BufReader::new(file), &EvalOptions::default()).unwrap();
        let embedder: Box<dyn Embedder> = match model_dir {
            Some(dir) => Box::new(MiniLm::load(dir).unwrap()),
            None => Box::new(Lexical),
        };
        fit(
            &samples(&cases, embedder.as_ref()).unwrap(),
            FIT_L2,
            FIT_STEPS,
        )
    }

    #[test]
    fn fitted_constants_reproduce_lexical() {
        let model = refit(None);
        assert!(
            close(&model, &LEXICAL),
            "refit gives\n{}",
            model.to_rust("LEXICAL")
        );
    }

    #[test]
    fn fitted_constants_reproduce_minilm() {
        let dir = crate::intent::model::tests::model_dir();
        let model = refit(Some(&dir));
        assert!(
            close(&model, &MINILM),
            "refit gives\n{}",
            model.to_rust("MINILM")
        );
    }

    #[test]
    fn calibration_shares_no_tool_name_with_the_held_out_suite() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let catalogue: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(root.join("../datasets/agentdojo-travel/tools.json")).unwrap(),
        )
        .unwrap();
        let held_out: Vec<&str> = catalogue["tools"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert!(held_out.len() > 10, "the catalogue lists the suite's tools");

        let file = std::fs::File::open(root.join("src/intent/data/calibration.jsonl")).unwrap();
        let cases = read_cases(std::io::BufReader::new(file), &EvalOptions::default()).unwrap();
        let shared: Vec<&str> = cases
            .iter()
            .map(|c| c.tool.as_str())
            .filter(|t| held_out.contains(t))
            .collect();
        assert!(
            shared.is_empty(),
            "calibration cases use held-out tool names: {shared:?}"
        );
    }

    #[test]
    fn rust_source_round_trips_the_shape() {
        let text = LEXICAL.to_rust("LEXICAL");
        assert!(text.starts_with("pub const LEXICAL: Calibration"));
        assert_eq!(text.matches(',').count(), FEATURES - 1 + 2);
    }
}
