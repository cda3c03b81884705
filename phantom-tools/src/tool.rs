//! The [`Tool`] trait: a typed tool whose arguments' JSON schema comes from
//! `schemars`, and what it declares about itself for Phantom.

use std::future::Future;

use phantom_sdk::provenance::Source;
use phantom_sdk::{Risk, ToolOutput};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

/// Why a tool call failed (a denial by Phantom is not a failure).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// No tool of that name in the set.
    #[error("unknown tool `{0}`")]
    UnknownTool(String),
    /// The arguments do not match the tool's schema.
    #[error("invalid arguments for `{tool}`: {problem}")]
    InvalidArgs {
        /// The tool.
        tool: String,
        /// What is wrong, as the deserializer says it.
        problem: String,
    },
    /// The tool ran and failed.
    #[error("{0}")]
    Failed(String),
}

/// What a tool declares about every call of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Declaration {
    /// The scope a call needs, e.g. `gmail.readonly`; by default the tool's
    /// name.
    pub scope: Option<String>,
    /// Calls only read.
    pub read_only: bool,
    /// Calls delete or overwrite something.
    pub destructive: bool,
    /// Calls send or share data outside.
    pub egress: bool,
    /// Whose content the output carries. Phantom traces where a later
    /// call's arguments come from: a value first seen in third-party content
    /// (a review, a web page, someone else's email) must not steer a payment
    /// or an email on its own. Inferred from the tool's name when absent,
    /// conservatively.
    pub output: Option<Source>,
}

impl Declaration {
    /// A read-only tool needing `scope`.
    pub fn read(scope: &str) -> Self {
        Self {
            scope: Some(scope.to_owned()),
            read_only: true,
            ..Self::default()
        }
    }

    /// A tool that changes state, needing `scope`.
    pub fn write(scope: &str) -> Self {
        Self {
            scope: Some(scope.to_owned()),
            ..Self::default()
        }
    }

    /// The same, marked destructive.
    pub fn destructive(mut self) -> Self {
        self.destructive = true;
        self
    }

    /// The same, marked as sending data outside.
    pub fn egress(mut self) -> Self {
        self.egress = true;
        self
    }

    /// The same, with output that is the user's own data.
    pub fn user_data(mut self) -> Self {
        self.output = Some(Source::User);
        self
    }
}

/// What one particular call touches, beyond the declaration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallDetails {
    /// The object the call touches (`type:id`), checked in the graph.
    pub resource: Option<String>,
    /// The relation the user needs on it.
    pub relation: Option<String>,
    /// Money the call spends, in US dollars.
    pub spend_usd: Option<f64>,
    /// Whether this call sends data outside, when that depends on the
    /// arguments (an invitation mailed to participants); the declaration's
    /// flag otherwise.
    pub egress: Option<bool>,
}

/// A tool an agent can call.
///
/// # Example
///
/// ```
/// use phantom_sdk::ToolOutput;
/// use phantom_tools::{Declaration, Tool, ToolError};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct WeatherArgs {
///     /// The city.
///     city: String,
/// }
///
/// struct Weather;
///
/// impl Tool for Weather {
///     type Args = WeatherArgs;
///     fn name(&self) -> &str { "get_weather" }
///     fn description(&self) -> &str { "Today's weather in a city." }
///     fn declaration(&self) -> Declaration { Declaration::read("weather.read") }
///     async fn call(&self, args: WeatherArgs) -> Result<ToolOutput, ToolError> {
///         Ok(ToolOutput::new(serde_json::json!({"city": args.city, "sky": "clear"})))
///     }
/// }
/// ```
pub trait Tool: Send + Sync + 'static {
    /// The arguments; their JSON schema is what the model sees.
    type Args: DeserializeOwned + JsonSchema + Send + 'static;

    /// The name the model calls the tool by.
    fn name(&self) -> &str;

    /// What the tool does, for the model and for Phantom's intent engine.
    fn description(&self) -> &str;

    /// What every call of the tool needs and does.
    fn declaration(&self) -> Declaration;

    /// What this call touches; nothing beyond the declaration by default.
    fn details(&self, _args: &Self::Args) -> CallDetails {
        CallDetails::default()
    }

    /// Runs the call.
    fn call(&self, args: Self::Args) -> impl Future<Output = Result<ToolOutput, ToolError>> + Send;
}

/// The declaration and details of a call as Phantom's wire type.
pub(crate) fn risk(declaration: &Declaration, details: &CallDetails) -> Risk {
    Risk {
        spend_usd: details.spend_usd,
        destructive: Some(declaration.destructive),
        read_only: Some(declaration.read_only),
        egress: Some(details.egress.unwrap_or(declaration.egress)),
    }
}
