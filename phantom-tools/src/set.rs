//! [`ToolSet`]: typed tools behind one tower service.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_openai::types::chat::{ChatCompletionTool, ChatCompletionTools, FunctionObject};
use futures::FutureExt;
use futures::future::BoxFuture;
use phantom_sdk::provenance::Source;
use phantom_sdk::{Action, ToolCall, ToolOutput};
use tower::Service;

use crate::tool::{self, Tool, ToolError};

/// A tool with its types erased, so tools of different argument types
/// share one map.
trait ErasedTool: Send + Sync {
    fn definition(&self) -> FunctionObject;
    fn action(&self, args: serde_json::Value) -> Result<Action, ToolError>;
    fn source(&self) -> Option<Source>;
    fn call(&self, args: serde_json::Value) -> BoxFuture<'static, Result<ToolOutput, ToolError>>;
}

struct Erased<T>(Arc<T>);

impl<T: Tool> Erased<T> {
    fn parse(&self, args: serde_json::Value) -> Result<T::Args, ToolError> {
        // Models often send `{}` as `null` for tools without parameters.
        let args = if args.is_null() {
            serde_json::json!({})
        } else {
            args
        };
        serde_json::from_value(args).map_err(|e| ToolError::InvalidArgs {
            tool: self.0.name().to_owned(),
            problem: e.to_string(),
        })
    }
}

impl<T: Tool> ErasedTool for Erased<T> {
    fn definition(&self) -> FunctionObject {
        let schema = schemars::schema_for!(T::Args);
        FunctionObject {
            name: self.0.name().to_owned(),
            description: Some(self.0.description().to_owned()),
            parameters: Some(schema.to_value()),
            strict: None,
        }
    }

    fn action(&self, args: serde_json::Value) -> Result<Action, ToolError> {
        let parsed = self.parse(args.clone())?;
        let declaration = self.0.declaration();
        let details = self.0.details(&parsed);
        Ok(Action {
            tool: self.0.name().to_owned(),
            scope: declaration.scope.clone(),
            resource: details.resource.clone(),
            relation: details.relation.clone(),
            risk: Some(tool::risk(&declaration, &details)),
            description: Some(self.0.description().to_owned()),
            args: if args.is_null() {
                serde_json::json!({})
            } else {
                args
            },
        })
    }

    fn source(&self) -> Option<Source> {
        self.0.declaration().output
    }

    fn call(&self, args: serde_json::Value) -> BoxFuture<'static, Result<ToolOutput, ToolError>> {
        let tool = Arc::clone(&self.0);
        match self.parse(args) {
            Ok(parsed) => async move { tool.call(parsed).await }.boxed(),
            Err(e) => futures::future::ready(Err(e)).boxed(),
        }
    }
}

/// Tools by name, as a `Service<ToolCall>`: wrap it in
/// [`PhantomLayer`](phantom_sdk::PhantomLayer) and every call goes through
/// Phantom.
#[derive(Clone, Default)]
pub struct ToolSet {
    tools: Arc<BTreeMap<String, Arc<dyn ErasedTool>>>,
}

impl std::fmt::Debug for ToolSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.tools.keys()).finish()
    }
}

impl ToolSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The set with `tool` added (replacing one of the same name).
    pub fn with(mut self, tool: impl Tool) -> Self {
        let name = tool.name().to_owned();
        Arc::make_mut(&mut self.tools).insert(name, Arc::new(Erased(Arc::new(tool))));
        self
    }

    /// The tools' names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tools.keys().map(String::as_str)
    }

    /// The tool definitions to send to a chat model.
    pub fn definitions(&self) -> Vec<ChatCompletionTools> {
        self.tools
            .values()
            .map(|tool| {
                ChatCompletionTools::Function(ChatCompletionTool {
                    function: tool.definition(),
                })
            })
            .collect()
    }

    /// Turns a model's call (a name and JSON arguments) into a [`ToolCall`]
    /// carrying what the tool declares, for Phantom to decide on.
    ///
    /// # Errors
    ///
    /// An unknown tool, or arguments that do not match its schema.
    pub fn prepare(
        &self,
        name: &str,
        args: serde_json::Value,
        call_id: Option<String>,
    ) -> Result<ToolCall, ToolError> {
        let tool = self
            .tools
            .get(name)
            .ok_or_else(|| ToolError::UnknownTool(name.to_owned()))?;
        Ok(ToolCall {
            call_id,
            action: tool.action(args)?,
            source: tool.source(),
        })
    }
}

impl Service<ToolCall> for ToolSet {
    type Response = ToolOutput;
    type Error = ToolError;
    type Future = BoxFuture<'static, Result<ToolOutput, ToolError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: ToolCall) -> Self::Future {
        match self.tools.get(&call.action.tool) {
            Some(tool) => tool.call(call.action.args),
            None => futures::future::ready(Err(ToolError::UnknownTool(call.action.tool))).boxed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use phantom_sdk::ToolOutput;
    use schemars::JsonSchema;
    use serde::Deserialize;
    use tower::ServiceExt;

    use super::*;
    use crate::tool::{CallDetails, Declaration};

    #[derive(Deserialize, JsonSchema)]
    struct PayArgs {
        /// Dollars.
        amount: f64,
    }

    struct Pay;

    impl Tool for Pay {
        type Args = PayArgs;
        fn name(&self) -> &str {
            "pay"
        }
        fn description(&self) -> &str {
            "Pays an invoice."
        }
        fn declaration(&self) -> Declaration {
            Declaration::write("billing.pay")
        }
        fn details(&self, args: &PayArgs) -> CallDetails {
            CallDetails {
                spend_usd: Some(args.amount),
                ..CallDetails::default()
            }
        }
        async fn call(&self, args: PayArgs) -> Result<ToolOutput, ToolError> {
            Ok(ToolOutput::new(serde_json::json!({"paid": args.amount})))
        }
    }

    #[tokio::test]
    async fn prepared_calls_carry_the_declaration_and_run() {
        let set = ToolSet::new().with(Pay);
        let call = set
            .prepare("pay", serde_json::json!({"amount": 250.0}), None)
            .unwrap();
        assert_eq!(call.action.scope.as_deref(), Some("billing.pay"));
        assert_eq!(
            call.action.risk.as_ref().and_then(|r| r.spend_usd),
            Some(250.0)
        );

        let output = set.oneshot(call).await.unwrap();
        assert_eq!(output.content, serde_json::json!({"paid": 250.0}));
    }

    #[test]
    fn bad_arguments_and_unknown_tools_are_errors() {
        let set = ToolSet::new().with(Pay);
        assert!(matches!(
            set.prepare("pay", serde_json::json!({"amount": "lots"}), None),
            Err(ToolError::InvalidArgs { .. })
        ));
        assert!(matches!(
            set.prepare("steal", serde_json::json!({}), None),
            Err(ToolError::UnknownTool(_))
        ));
    }

    #[test]
    fn definitions_carry_the_schema() {
        let definitions = ToolSet::new().with(Pay).definitions();
        let ChatCompletionTools::Function(tool) = &definitions[0] else {
            panic!("a function tool");
        };
        let parameters = tool.function.parameters.as_ref().unwrap();
        assert_eq!(parameters["properties"]["amount"]["type"], "number");
    }
}
