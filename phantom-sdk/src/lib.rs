//! The Phantom SDK: what agent authors link.
//!
//! Phantom is authorization for AI agents. An agent holds a short-lived
//! *ghost token* bound to one mission intent instead of a user's keys, and
//! every tool call it makes is decided by the Phantom server: ALLOW, BLOCK
//! or REQUIRE_APPROVAL, from the token, the relationship graph, the intent
//! engine and the mission's state.
//!
//! This crate holds:
//!
//! - the wire types of the API, in one place ([`tuple`], [`token`],
//!   [`authorize`], [`intent`], [`graph`], [`mission`], [`approval`],
//!   [`entitlement`], [`audit`]); the server uses them too;
//! - [`PhantomClient`], a typed client for every call;
//! - [`PhantomLayer`], a tower layer that puts Phantom in front of any
//!   `Service<ToolCall>`, and [`Mission`], a handle that runs a mission's
//!   compensations when it fails.
//!
//! # Example
//!
//! ```no_run
//! use phantom_sdk::{Constraints, IssueToken, PhantomClient};
//!
//! # async fn run() -> Result<(), phantom_sdk::Error> {
//! let operator = PhantomClient::operator("http://127.0.0.1:7700", "phk_…")?;
//! let issued = operator.issue_token(&IssueToken {
//!     agent: "agent:mail-bot".into(),
//!     on_behalf_of: "user:123".into(),
//!     mission_id: None,
//!     intent: "Find flight receipt in Gmail".into(),
//!     constraints: Constraints {
//!         max_access: "5 minutes".parse().map_err(|e| phantom_sdk::Error::Invalid(format!("{e}")))?,
//!         scope: vec!["gmail.readonly".into()],
//!         max_actions: Some(10),
//!     },
//! }).await?;
//!
//! let agent = operator.as_agent(&issued.token)?;
//! let decision = agent
//!     .authorize(&phantom_sdk::Action::new("gmail.search", serde_json::json!({"query": "receipt"})))
//!     .await?;
//! println!("{} ({})", decision.decision, decision.reason);
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod approval;
pub mod audit;
pub mod authorize;
mod client;
pub mod entitlement;
mod error;
pub mod graph;
pub mod intent;
mod layer;
pub mod mission;
pub mod provenance;
pub mod secret;
pub mod time;
pub mod token;
pub mod tuple;

pub use approval::{Approval, ApprovalDecision, ApprovalStatus};
pub use audit::{AuditEvent, AuditPage, AuditQuery};
pub use authorize::{Action, AuthorizeRequest, Decision, DecisionCode, Risk, Verdict};
pub use client::PhantomClient;
pub use entitlement::{Entitlement, EntitlementChange};
pub use error::{Error, ErrorBody, ErrorDetail};
pub use graph::{
    CheckRequest, CheckResponse, Context, ExpandRequest, ExpandResponse, ListObjectsRequest,
    ListObjectsResponse, ListUsersRequest, ListUsersResponse, ModelVersion, ModelWritten, Revision,
    WriteTuples, Written,
};
pub use intent::{EvaluateIntent, IntentEvaluation};
pub use layer::{
    LayerError, Mission, PhantomLayer, PhantomService, Rollback, RunError, ToolCall, ToolOutcome,
    ToolOutput,
};
pub use mission::{
    Compensation, CompensationResult, CompensationStatus, CreateMission, MissionAction,
    MissionRecord, MissionState, RecordAction, Transition,
};
pub use secret::{Secret, SecretKind};
pub use time::{HumanDuration, Timestamp};
pub use token::{Constraints, IssueToken, IssuedToken, TokenState, TokenStatus};
pub use tuple::{ObjectRef, Subject, Tuple, TupleCondition};

/// Installs rustls's `ring` crypto provider for this process, unless one is
/// installed already. HTTPS needs one; Phantom's clients call this before
/// building an HTTP client, so applications need not.
pub fn ensure_tls_provider() {
    // Losing the race to another installer is fine: a provider is there.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
