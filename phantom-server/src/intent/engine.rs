//! The engine: runs the tiers in order and explains the outcome.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::IntentError;
use super::analysis::{Facts, MissionProfile, action_text};
use super::cache::TextCache;
use super::calibration::{self, Calibration, Features};
use super::cedar::{RuleMatch, Rules};
use super::config::{FailMode, IntentConfig};
use super::judge::{Judge, JudgeError, Question};
use super::model::{self, MiniLm};
use super::semantic::{Embedder, EmbeddingCache, Lexical, cosine};
use super::types::{Assessment, Origin, Proposal, Signal, Tier, Verdict};

/// Decides whether proposed tool calls serve their mission.
///
/// Cheap to share: build one at start-up and keep it behind an `Arc`.
///
/// # Example
/// ```
/// use phantom_server::intent::{IntentConfig, IntentEngine, Proposal, Verdict};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let engine = IntentEngine::new(IntentConfig::default())?;
/// let args = serde_json::json!({"path": "/secrets/api_keys.txt"});
/// let proposal = Proposal::new("Summarize meeting notes", "read_file", &args);
///
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// let assessment = runtime.block_on(engine.evaluate(&proposal));
/// assert_eq!(assessment.verdict, Verdict::Block);
/// # Ok(())
/// # }
/// ```
pub struct IntentEngine {
    config: IntentConfig,
    rules: Rules,
    embedder: Arc<dyn Embedder>,
    semantic_note: String,
    missions: Arc<EmbeddingCache>,
    actions: Arc<EmbeddingCache>,
    profiles: TextCache<Arc<MissionProfile>>,
    // Lexical mission vectors for the score tier 1 reports when it decides.
    lexical_missions: EmbeddingCache,
    judge: Option<Judge>,
}

impl std::fmt::Debug for IntentEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntentEngine")
            .field("tiers", &self.describe())
            .finish_non_exhaustive()
    }
}

/// What tier 2 concluded.
struct SemanticOutcome {
    probability: f64,
    cosine: f64,
}

impl IntentEngine {
    /// Builds the engine: compiles the Cedar policies, loads the embedding
    /// model when one is configured and present, and sets up the judge client.
    ///
    /// # Errors
    /// [`IntentError::Policy`] for a policy that does not compile,
    /// [`IntentError::Model`] when `require_model` is set and the model does
    /// not load, [`IntentError::Judge`] when the judge client cannot be built.
    pub fn new(config: IntentConfig) -> Result<Self, IntentError> {
        let rules = Rules::new(config.default_policies, &config.policies)?;

        let (embedder, semantic_note): (Arc<dyn Embedder>, String) = match &config.model_dir {
            Some(dir) if model::is_installed(dir) || config.require_model => {
                match MiniLm::load(dir) {
                    Ok(model) => {
                        let note = format!(
                            "semantic tier: all-MiniLM-L6-v2 (candle, {})",
                            dir.display()
                        );
                        (Arc::new(model), note)
                    }
                    Err(e) if config.require_model => return Err(e),
                    Err(e) => (
                        Arc::new(Lexical),
                        format!("semantic tier: lexical fallback (model failed to load: {e})"),
                    ),
                }
            }
            Some(dir) => (
                Arc::new(Lexical),
                format!(
                    "semantic tier: lexical fallback (no model at {}; run `phantom model fetch`)",
                    dir.display()
                ),
            ),
            None => (
                Arc::new(Lexical),
                "semantic tier: lexical fallback (no model configured)".to_owned(),
            ),
        };

        let judge = config.judge.clone().map(Judge::new).transpose()?;
        let missions = Arc::new(EmbeddingCache::new(config.mission_cache));
        let actions = Arc::new(EmbeddingCache::new(config.action_cache));
        let lexical_missions = EmbeddingCache::new(config.mission_cache);
        let profiles = TextCache::new(config.mission_cache);

        Ok(Self {
            config,
            rules,
            embedder,
            semantic_note,
            actions,
            profiles,
            missions,
            lexical_missions,
            judge,
        })
    }

    /// One line for the start-up log: which tiers are active.
    pub fn describe(&self) -> String {
        let policy = format!(
            "policy tier: {} Cedar policies ({}{} configured)",
            self.rules.len(),
            if self.config.default_policies {
                "defaults + "
            } else {
                ""
            },
            self.config.policies.len()
        );
        let judge = match &self.judge {
            Some(judge) => {
                let c = judge.config();
                format!(
                    "judge: {} at {} (budget {} ms, on failure {:?}, cache {})",
                    c.model,
                    c.base_url,
                    c.budget.as_millis(),
                    c.on_failure,
                    c.cache_capacity
                )
            }
            None => "judge: off".to_owned(),
        };
        format!("{policy}; {}; {judge}", self.semantic_note)
    }

    /// Embeds a mission ahead of its first call and keeps it in the mission
    /// cache, so that call pays only for embedding the action.
    ///
    /// Blocking CPU work (tens to a couple of hundred milliseconds for a long
    /// mission with MiniLM): call it from `spawn_blocking` when a mission is
    /// created or a token is issued. A failure only means the first call
    /// embeds the mission itself.
    pub fn prime(&self, mission: &str) {
        if let Err(e) = self.missions.get_or_embed(self.embedder.as_ref(), mission) {
            tracing::debug!(target: "phantom::decision", error = %e, "mission embedding failed; the first call will retry");
        }
    }

    /// The name of the embedder in use (`all-MiniLM-L6-v2` or `lexical`).
    pub fn embedder_name(&self) -> &str {
        self.embedder.name()
    }

    /// Assesses one proposed call. Never fails: a tier that cannot run falls
    /// back to the evidence gathered so far and says so in the signals.
    pub async fn evaluate(&self, proposal: &Proposal<'_>) -> Assessment {
        let started = Instant::now();

        // Tier 1: facts, then the rules over them.
        let profile = self
            .profiles
            .get_or_insert(proposal.mission, |m| Arc::new(MissionProfile::new(m)));
        let facts = Facts::gather_with(proposal, profile);
        let mut signals = facts.signals();
        let matches = match self
            .rules
            .evaluate(proposal, &facts, self.config.approval_spend_usd)
        {
            Ok(matches) => matches,
            Err(e) => {
                signals.push(Signal::Fallback {
                    tier: Tier::Policy,
                    reason: e.to_string(),
                });
                Vec::new()
            }
        };
        for m in &matches {
            signals.push(Signal::Rule {
                id: m.id.clone(),
                verdict: m.verdict,
            });
        }
        if let Some(spend) = facts.spend_usd {
            signals.push(Signal::Spend {
                usd: spend,
                over_threshold: spend > self.config.approval_spend_usd,
            });
        }

        if let Some(decisive) = matches.first() {
            // A cheap score for the record: lexical cosine through its calibration.
            let lexical = self.cheap_cosine(proposal);
            let probability = clamp_to_verdict(
                calibration::LEXICAL.probability(&Features::new(&facts, lexical)),
                decisive.verdict,
            );
            let reason = policy_reason(decisive, &facts, proposal.tool);
            return self.finish(
                proposal,
                started,
                probability,
                decisive.verdict,
                Tier::Policy,
                reason,
                signals,
            );
        }

        // Tier 2: meaning, calibrated together with the policy evidence.
        let semantic = self.semantic(proposal, &facts, &mut signals).await;
        signals.push(Signal::Similarity {
            cosine: semantic.cosine,
            embedder: self.embedder.name().to_owned(),
        });
        signals.push(Signal::Score {
            probability: semantic.probability,
        });

        let changes = facts.tool.operation.changes_state();
        let t = self.config.thresholds;
        let p = semantic.probability;
        let sure = if p >= t.allow {
            Some(Verdict::Allow)
        } else if (changes && p < t.block) || p < t.block_read {
            Some(Verdict::Block)
        } else {
            None
        };
        if let Some(verdict) = sure {
            let reason = semantic_reason(verdict, p, &facts, proposal.tool);
            return self.finish(
                proposal,
                started,
                p,
                verdict,
                Tier::Semantic,
                reason,
                signals,
            );
        }

        // Tier 3, when configured; otherwise the grey zone resolves by risk.
        let Some(judge) = &self.judge else {
            let (verdict, reason) = if changes {
                (
                    Verdict::RequireApproval,
                    format!(
                        "{} changes state and its fit with the mission is uncertain (alignment {p:.2}); a person should confirm",
                        proposal.tool
                    ),
                )
            } else {
                (
                    Verdict::Allow,
                    format!(
                        "{} only reads and fits the mission moderately (alignment {p:.2})",
                        proposal.tool
                    ),
                )
            };
            return self.finish(
                proposal,
                started,
                p,
                verdict,
                Tier::Semantic,
                reason,
                signals,
            );
        };

        let budget = judge.config().budget;
        let remaining = budget.saturating_sub(started.elapsed());
        let findings = findings(&facts, &signals);
        let answer = if remaining < Duration::from_millis(5) {
            Err(JudgeError::Timeout(0))
        } else {
            judge
                .ask(&Question::new(proposal, findings), remaining)
                .await
        };

        match answer {
            Ok((answer, cached)) => {
                signals.push(Signal::Judge {
                    aligned: answer.aligned,
                    confidence: answer.confidence,
                    cached,
                });
                let judged = if answer.aligned {
                    0.5 + 0.5 * answer.confidence
                } else {
                    0.5 - 0.5 * answer.confidence
                };
                let probability = (0.3 * p + 0.7 * judged).clamp(0.0, 1.0);
                let verdict = if answer.aligned && answer.confidence >= 0.5 {
                    Verdict::Allow
                } else if !answer.aligned && answer.confidence >= 0.5 {
                    Verdict::Block
                } else if changes {
                    Verdict::RequireApproval
                } else {
                    Verdict::Allow
                };
                let reason = format!("LLM judge: {}", sanitise_reason(&answer.reason));
                self.finish(
                    proposal,
                    started,
                    probability,
                    verdict,
                    Tier::Judge,
                    reason,
                    signals,
                )
            }
            Err(e) => {
                signals.push(Signal::Fallback {
                    tier: Tier::Judge,
                    reason: e.to_string(),
                });
                let lean = if p >= 0.5 {
                    Verdict::Allow
                } else {
                    Verdict::RequireApproval
                };
                let verdict = if changes {
                    match judge.config().on_failure {
                        FailMode::Closed => Verdict::Block,
                        FailMode::Hold => Verdict::RequireApproval,
                        FailMode::Open => lean,
                    }
                } else {
                    lean
                };
                let reason = format!(
                    "the LLM judge gave no usable answer ({e}); decided on the earlier evidence (alignment {p:.2}){}",
                    if changes && verdict == Verdict::Block {
                        ", failing closed for a state-changing call"
                    } else {
                        ""
                    }
                );
                self.finish(
                    proposal,
                    started,
                    p,
                    verdict,
                    Tier::Semantic,
                    reason,
                    signals,
                )
            }
        }
    }

    fn cheap_cosine(&self, proposal: &Proposal<'_>) -> f64 {
        let lexical = Lexical;
        match (
            self.lexical_missions
                .get_or_embed(&lexical, proposal.mission),
            lexical.embed(&action_text(proposal)),
        ) {
            (Ok(a), Ok(b)) => cosine(&a, &b),
            _ => 0.0,
        }
    }

    async fn semantic(
        &self,
        proposal: &Proposal<'_>,
        facts: &Facts,
        signals: &mut Vec<Signal>,
    ) -> SemanticOutcome {
        let mission = proposal.mission.to_owned();
        let action = action_text(proposal);
        let embedder = Arc::clone(&self.embedder);
        let missions = Arc::clone(&self.missions);
        let actions = Arc::clone(&self.actions);
        let compute = move || -> Result<f64, IntentError> {
            let m = missions.get_or_embed(embedder.as_ref(), &mission)?;
            let a = actions.get_or_try_insert(&action, |text| embedder.embed_action(text))?;
            Ok(cosine(&m, &a))
        };

        // The model takes 10-30 ms of CPU: off the async workers when a tokio
        // runtime is there to take it, inline otherwise.
        let result = match tokio::runtime::Handle::try_current() {
            Ok(handle) => match handle.spawn_blocking(compute).await {
                Ok(result) => result,
                Err(e) => Err(IntentError::Model(format!("embedding task: {e}"))),
            },
            Err(_) => compute(),
        };

        let (cosine, calibration): (f64, Calibration) = match result {
            Ok(c) => (c, self.embedder.calibration()),
            Err(e) => {
                signals.push(Signal::Fallback {
                    tier: Tier::Semantic,
                    reason: format!("{e}; lexical scoring used"),
                });
                (self.cheap_cosine(proposal), calibration::LEXICAL)
            }
        };
        let probability = calibration.probability(&Features::new(facts, cosine));
        SemanticOutcome {
            probability,
            cosine,
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one private constructor of the answer"
    )]
    fn finish(
        &self,
        proposal: &Proposal<'_>,
        started: Instant,
        probability: f64,
        verdict: Verdict,
        tier: Tier,
        reason: String,
        signals: Vec<Signal>,
    ) -> Assessment {
        let latency = started.elapsed();
        let alignment_score = (probability.clamp(0.0, 1.0) * 1000.0).round() / 1000.0;
        let rule = signals.iter().find_map(|s| match s {
            Signal::Rule { id, .. } => Some(id.as_str()),
            _ => None,
        });
        // The tool name and the outcome only: no argument value, no mission text.
        tracing::info!(
            target: "phantom::decision",
            tool = proposal.tool,
            verdict = verdict.as_str(),
            tier = tier.as_str(),
            alignment_score,
            rule,
            latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            "intent decision"
        );
        tracing::debug!(target: "phantom::decision", tool = proposal.tool, %reason, "intent decision reason");

        Assessment {
            alignment_score,
            verdict,
            tier,
            reason,
            latency,
            signals,
        }
    }
}

/// Keeps a score consistent with the verdict a rule forced.
fn clamp_to_verdict(p: f64, verdict: Verdict) -> f64 {
    match verdict {
        Verdict::Block => p.min(0.2),
        Verdict::RequireApproval => p.clamp(0.2, 0.5),
        Verdict::Allow => p.max(0.6),
    }
}

fn policy_reason(rule: &RuleMatch, facts: &Facts, tool: &str) -> String {
    let mut reason = capitalise(&rule.reason);
    let classes: Vec<&str> = facts
        .sensitive
        .iter()
        .filter(|(_, _, needed)| !needed)
        .map(|(c, _, _)| c.as_str())
        .chain(facts.egress.iter().map(|(c, _)| c.as_str()))
        .collect();
    let arguments: Vec<&str> = facts
        .slots
        .iter()
        .filter(|s| !matches!(s.origin, Origin::Mission | Origin::UserData))
        .map(|s| s.argument.as_str())
        .collect();
    let detail = match rule.id.as_str() {
        "sensitive-egress" | "sensitive-unneeded" | "personal-unneeded" if !classes.is_empty() => {
            format!(" ({} data, via {tool})", classes.join(", "))
        }
        "unrequested-change" | "unrequested-entry" | "unrequested-write" => match facts.tool.kind {
            Some(kind) => format!(" ({} via {tool})", kind.describe()),
            None => format!(" ({tool})"),
        },
        _ if !arguments.is_empty() => format!(" (argument {} of {tool})", arguments.join(", ")),
        _ => format!(" ({tool})"),
    };
    reason.push_str(&detail);
    reason
}

fn semantic_reason(verdict: Verdict, p: f64, facts: &Facts, tool: &str) -> String {
    match verdict {
        Verdict::Allow => format!("{tool} fits the mission (alignment {p:.2})"),
        _ => {
            let why = if facts.tool.operation.changes_state() && !facts.requested {
                "the mission does not ask for this change"
            } else {
                "the call has little to do with the mission"
            };
            format!("Low alignment with the mission ({p:.2}): {why} ({tool})")
        }
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The judge's reason, shortened and stripped of control characters.
fn sanitise_reason(reason: &str) -> String {
    let clean: String = reason
        .chars()
        .filter(|c| !c.is_control())
        .take(240)
        .collect();
    clean.trim().to_owned()
}

/// What the cheaper tiers found, in words, for the judge.
fn findings(facts: &Facts, signals: &[Signal]) -> Vec<String> {
    let mut out = Vec::new();
    out.push(format!("operation: {:?}", facts.tool.operation).to_lowercase());
    if let Some(kind) = facts.tool.kind {
        out.push(format!(
            "the mission {} ask for {}",
            if facts.requested { "does" } else { "does not" },
            kind.describe()
        ));
    }
    for slot in &facts.slots {
        out.push(
            format!(
                "argument {} ({:?}) comes from: {:?}",
                slot.argument, slot.role, slot.origin
            )
            .to_lowercase(),
        );
    }
    for signal in signals {
        if let Signal::Similarity { cosine, .. } = signal {
            out.push(format!("semantic similarity {cosine:.2}"));
        }
    }
    out
}
