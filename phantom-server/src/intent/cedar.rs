//! Tier-1 rules written in Cedar.
//!
//! The engine turns the [`Facts`] of a proposal into a Cedar request (the
//! context fields are listed in `policies/default.cedar`) and evaluates the
//! default policies plus any the operator configured. Forbid policies carry
//! `@verdict("block")` or `@verdict("require_approval")`; permit policies
//! carrying `@verdict("allow")` let a call through in tier 1.

use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityId, EntityTypeName, EntityUid, PolicySet,
    Request, RestrictedExpression,
};

use super::IntentError;
use super::analysis::{Facts, arg_entries, leaf_texts};
use super::types::{Origin, Proposal, SlotRole, Verdict};

/// The default policy text shipped with the engine.
pub const DEFAULT_POLICIES: &str = include_str!("policies/default.cedar");

/// One rule that matched.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleMatch {
    /// The rule's `@id` (or Cedar's generated id when it has none).
    pub id: String,
    /// The verdict it asks for.
    pub verdict: Verdict,
    /// Its `@reason`, for people.
    pub reason: String,
}

/// The compiled rules.
pub struct Rules {
    policies: PolicySet,
    authorizer: Authorizer,
    count: usize,
    // Parsed once: Cedar's name parser costs more than a whole evaluation.
    agent: EntityUid,
    call: EntityUid,
    tool_type: EntityTypeName,
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules")
            .field("policies", &self.count)
            .finish()
    }
}

impl Rules {
    /// Compiles the default policies (when asked) and the extra texts.
    ///
    /// # Errors
    /// [`IntentError::Policy`] when a text does not parse or a policy carries
    /// an unknown `@verdict`.
    pub fn new(default_policies: bool, extra: &[String]) -> Result<Self, IntentError> {
        let mut sources: Vec<&str> = Vec::new();
        if default_policies {
            sources.push(DEFAULT_POLICIES);
        }
        sources.extend(extra.iter().map(String::as_str));

        // Each text is parsed alone first so an error points into the text
        // the operator wrote; then all are parsed together, which gives every
        // policy a unique generated id.
        for (i, source) in sources.iter().enumerate() {
            PolicySet::from_str(source)
                .map_err(|e| IntentError::Policy(format!("policy text {i}: {e}")))?;
        }
        let policies = PolicySet::from_str(&sources.join("\n"))
            .map_err(|e| IntentError::Policy(e.to_string()))?;

        let mut count = 0;
        for policy in policies.policies() {
            count += 1;
            if let Some(verdict) = policy.annotation("verdict") {
                parse_verdict(verdict).ok_or_else(|| {
                    IntentError::Policy(format!(
                        "policy {} has @verdict(\"{verdict}\"); expected block, require_approval or allow",
                        policy.id()
                    ))
                })?;
            }
        }

        Ok(Self {
            policies,
            authorizer: Authorizer::new(),
            count,
            agent: uid("Phantom::Agent", "agent")?,
            call: uid("Phantom::Action", "call")?,
            tool_type: type_name("Phantom::Tool")?,
        })
    }

    /// Number of policies loaded.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no policy is loaded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Evaluates the rules against a proposal's facts.
    ///
    /// # Errors
    /// [`IntentError::Policy`] when the request cannot be built; a policy that
    /// fails to evaluate (say, reads an argument that is absent without `has`)
    /// is skipped by Cedar and does not fail the call.
    pub fn evaluate(
        &self,
        proposal: &Proposal<'_>,
        facts: &Facts,
        approval_spend_usd: f64,
    ) -> Result<Vec<RuleMatch>, IntentError> {
        let request = Request::new(
            self.agent.clone(),
            self.call.clone(),
            EntityUid::from_type_name_and_id(self.tool_type.clone(), EntityId::new(proposal.tool)),
            context(proposal, facts, approval_spend_usd)?,
            None,
        )
        .map_err(|e| IntentError::Policy(format!("request: {e}")))?;

        let response = self
            .authorizer
            .is_authorized(&request, &self.policies, &Entities::empty());
        let mut matches = Vec::new();
        for id in response.diagnostics().reason() {
            let annotation = |key: &str| self.policies.annotation(id, key).map(str::to_owned);
            let Some(verdict) = annotation("verdict").and_then(|v| parse_verdict(&v)) else {
                // A permit without @verdict only says "not forbidden": no decision.
                continue;
            };
            let allowed_side = response.decision() == Decision::Allow;
            if allowed_side != (verdict == Verdict::Allow) {
                continue;
            }
            matches.push(RuleMatch {
                id: annotation("id").unwrap_or_else(|| id.to_string()),
                verdict,
                reason: annotation("reason").unwrap_or_else(|| format!("policy {id} matched")),
            });
        }
        matches.sort_by(|a, b| {
            b.verdict
                .severity()
                .cmp(&a.verdict.severity())
                .then(a.id.cmp(&b.id))
        });
        Ok(matches)
    }
}

fn parse_verdict(text: &str) -> Option<Verdict> {
    match text.to_ascii_lowercase().as_str() {
        "block" | "deny" => Some(Verdict::Block),
        "require_approval" | "approval" | "hold" => Some(Verdict::RequireApproval),
        "allow" => Some(Verdict::Allow),
        _ => None,
    }
}

fn type_name(name: &str) -> Result<EntityTypeName, IntentError> {
    EntityTypeName::from_str(name)
        .map_err(|e| IntentError::Policy(format!("entity type {name}: {e}")))
}

fn uid(type_name_text: &str, id: &str) -> Result<EntityUid, IntentError> {
    Ok(EntityUid::from_type_name_and_id(
        type_name(type_name_text)?,
        EntityId::new(id),
    ))
}

fn roles(facts: &Facts, pick: impl Fn(Origin) -> bool) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = facts
        .slots
        .iter()
        .filter(|s| pick(s.origin))
        .map(|s| role_name(s.role))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn role_name(role: SlotRole) -> &'static str {
    match role {
        SlotRole::Recipient => "recipient",
        SlotRole::Account => "account",
        SlotRole::Url => "url",
        SlotRole::Amount => "amount",
        SlotRole::Target => "target",
        SlotRole::Label => "label",
        SlotRole::Content => "content",
        SlotRole::Time => "time",
        SlotRole::Other => "other",
    }
}

/// The Cedar context of a proposal; the fields are documented in
/// `policies/default.cedar`.
pub fn context(
    proposal: &Proposal<'_>,
    facts: &Facts,
    approval_spend_usd: f64,
) -> Result<Context, IntentError> {
    let string = |s: &str| RestrictedExpression::new_string(s.to_owned());
    let strings = |items: Vec<&str>| RestrictedExpression::new_set(items.into_iter().map(string));
    let boolean = RestrictedExpression::new_bool;

    let sensitive: Vec<&str> = facts
        .sensitive
        .iter()
        .filter(|(_, _, needed)| !needed)
        .map(|(c, _, _)| c.as_str())
        .collect();
    let sensitive_needed: Vec<&str> = facts
        .sensitive
        .iter()
        .filter(|(_, _, needed)| *needed)
        .map(|(c, _, _)| c.as_str())
        .collect();
    let egress: Vec<&str> = facts.egress.iter().map(|(c, _)| c.as_str()).collect();

    // The names come from one JSON object, so they are unique: the record
    // cannot fail on a repeated key.
    let args = RestrictedExpression::new_record(arg_entries(proposal.args).into_iter().map(
        |(name, value)| {
            (
                name,
                RestrictedExpression::new_string(leaf_texts(value).join(", ")),
            )
        },
    ))
    .map_err(|e| IntentError::Policy(format!("context args: {e}")))?;

    let spend = facts.spend_usd.unwrap_or(0.0).max(0.0);
    // Cents as a Long: Cedar's decimal extension is compiled out to keep the build lean.
    let spend_cents = (spend * 100.0).round().min(9.0e15) as i64;

    let pairs: Vec<(&str, RestrictedExpression)> = vec![
        ("tool", string(proposal.tool)),
        ("operation", string(facts.tool.operation.as_str())),
        (
            "state_changing",
            boolean(facts.tool.operation.changes_state()),
        ),
        ("operation_inferred", boolean(facts.tool.inferred)),
        ("requested", boolean(facts.requested)),
        (
            "kind",
            string(facts.tool.kind.map(|k| k.name()).unwrap_or("")),
        ),
        ("bulk", boolean(facts.tool.bulk)),
        (
            "key_arguments",
            RestrictedExpression::new_long(i64::try_from(facts.slots.len()).unwrap_or(i64::MAX)),
        ),
        ("mission", string(&facts.mission.normalised)),
        ("sensitive", strings(sensitive)),
        ("sensitive_needed", strings(sensitive_needed)),
        ("egress", strings(egress)),
        (
            "grounded",
            strings(roles(facts, |o| {
                matches!(o, Origin::Mission | Origin::UserData)
            })),
        ),
        (
            "ungrounded",
            strings(roles(facts, |o| {
                matches!(o, Origin::Unknown | Origin::ThirdPartyText)
            })),
        ),
        (
            "third_party_text",
            strings(roles(facts, |o| o == Origin::ThirdPartyText)),
        ),
        (
            "third_party_record",
            strings(roles(facts, |o| o == Origin::ThirdPartyRecord)),
        ),
        ("date_mismatch", boolean(!facts.date_mismatches.is_empty())),
        ("spend_cents", RestrictedExpression::new_long(spend_cents)),
        ("spend_over_threshold", boolean(spend > approval_spend_usd)),
        ("scope_denied", boolean(facts.scope_denied)),
        ("args", args),
    ];
    Context::from_pairs(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)))
        .map_err(|e| IntentError::Policy(format!("context: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_policies_parse() {
        let rules = Rules::new(true, &[]);
        assert!(rules.as_ref().is_ok_and(|r| r.len() >= 10), "{rules:?}");
    }

    #[test]
    fn bad_policy_text_is_an_error() {
        let err = Rules::new(false, &["forbid (principal, action".to_owned()]);
        assert!(matches!(err, Err(IntentError::Policy(_))));
        let err = Rules::new(
            false,
            &["@verdict(\"maybe\") forbid (principal, action, resource);".to_owned()],
        );
        assert!(matches!(err, Err(IntentError::Policy(_))));
    }

    #[test]
    fn operator_rules_over_tools_and_arguments() {
        let extra = r#"
            @id("no-external-urls") @verdict("block") @reason("external URL")
            forbid (principal, action, resource)
            when { context.args has url && context.args.url like "*example.org*" };
            @id("weather-ok") @verdict("allow")
            permit (principal, action, resource == Phantom::Tool::"get_weather");
        "#;
        let Ok(rules) = Rules::new(false, &[extra.to_owned()]) else {
            unreachable!("policies parse")
        };

        let args = json!({"url": "https://example.org/x"});
        let p = Proposal::new("fetch a page", "fetch_page", &args);
        let facts = Facts::gather(&p);
        let hits = rules.evaluate(&p, &facts, 100.0).unwrap_or_default();
        assert_eq!(
            hits.first().map(|h| h.id.as_str()),
            Some("no-external-urls")
        );

        let args = json!({"city": "Oslo"});
        let p = Proposal::new("weather in Oslo", "get_weather", &args);
        let facts = Facts::gather(&p);
        let hits = rules.evaluate(&p, &facts, 100.0).unwrap_or_default();
        assert_eq!(hits.first().map(|h| h.verdict), Some(Verdict::Allow));
    }
}
