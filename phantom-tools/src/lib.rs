//! Tools for agents whose every call goes through Phantom.
//!
//! - [`Tool`]: a typed tool; the JSON schema of its arguments comes from
//!   `schemars`, and it declares the scope it needs and what it does (reads,
//!   destroys, sends outside, spends), which Phantom uses to decide.
//! - [`ToolSet`]: tools by name as one tower `Service<ToolCall>`. Wrap it in
//!   [`phantom_sdk::PhantomLayer`] and nothing runs without a decision.
//! - [`Agent`]: a chat tool-calling loop on async-openai that routes every
//!   call through the guarded service and hands denials back to the model.
//! - [`ready`]: file tools confined to a directory, offline research tools.
//!
//! # Example
//!
//! ```no_run
//! use phantom_sdk::{PhantomClient, PhantomLayer};
//! use phantom_tools::{Agent, LlmConfig, ToolSet, ready::files::FileRoot};
//! use tower::ServiceBuilder;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let (read, write, delete) = FileRoot::new("./workspace").tools();
//! let tools = ToolSet::new().with(read).with(write).with(delete);
//!
//! let agent_client = PhantomClient::agent("http://127.0.0.1:7700", "phm_…")?;
//! let guarded = ServiceBuilder::new().layer(PhantomLayer::new(agent_client)).service(tools.clone());
//!
//! if let Some(llm) = LlmConfig::from_env() {
//!     let transcript = Agent::new(&llm, tools, guarded).run("Summarize my meeting notes").await?;
//!     println!("{}", transcript.answer);
//! }
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod agent;
pub mod ready;
mod set;
mod tool;

pub use agent::{Agent, AgentError, LlmConfig, Step, StepOutcome, Transcript};
pub use set::ToolSet;
pub use tool::{CallDetails, Declaration, Tool, ToolError};
