//! The `phantom` server: authorization for AI agents.
//!
//! One process serves the whole API on its embedded defaults: SQLite for
//! state, the built-in intent engine, in-process timers for missions and
//! approvals. See the README for what each part does and the API contract
//! it implements.
//!
//! Embedding the server (the examples do this):
//!
//! ```no_run
//! # async fn run() -> Result<(), phantom_server::ServerError> {
//! let config = phantom_server::Config {
//!     listen: "127.0.0.1:0".parse().map_err(|e| phantom_server::ServerError::Serve(std::io::Error::other(e)))?,
//!     data_dir: std::env::temp_dir().join("phantom-example"),
//!     ..phantom_server::Config::default()
//! };
//! let mut server = phantom_server::start(config, false).await?;
//! println!("serving on {}", server.url());
//! server.stop().await?;
//! # Ok(()) }
//! ```

pub mod approvals;
pub mod audit;
pub mod auth;
pub mod authorize;
pub mod bench;
pub mod cli;
pub mod clock;
pub mod config;
pub mod entitlements;
pub mod error;
pub mod extract;
pub mod graph;
pub mod intent;
pub mod missions;
pub mod provenance;
mod routes;
pub mod secrets;
pub mod server;
pub mod state;
pub mod store;
pub mod tokens;

pub use config::{ClockMode, Config, Overrides};
pub use server::{RunningServer, ServerError, start};
