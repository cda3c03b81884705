//! CEL conditions: compiled once per model, evaluated with the parameter types the model
//! declares.
//!
//! OpenFGA's semantics: the tuple's stored context and the request context are merged, the
//! stored values winning; every declared parameter must be present (even one that CEL's `||`
//! would not need), otherwise the evaluation fails with the missing names; values are
//! converted to the declared types before evaluation. `ipaddress` values are IP address
//! strings with an `in_cidr(string)` method.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use cel::extractors::This;
use cel::objects::Value as CelValue;
use cel::{Context, Env, ExecutionError, Program};
use serde_json::{Map, Value};
use thiserror::Error;

use crate::graph::model::{Condition, ConditionParamTypeRef, TypeName};

/// Evaluating a condition failed.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum ConditionError {
    /// Declared parameters were in neither the tuple's nor the request's context.
    #[error("condition `{condition}` is missing context parameters: {}", parameters.join(", "))]
    MissingParameters {
        /// The condition.
        condition: String,
        /// The missing parameter names.
        parameters: Vec<String>,
    },
    /// A parameter value cannot be read as its declared type.
    #[error("condition `{condition}`: parameter `{parameter}` is not a valid {expected}: {reason}")]
    InvalidParameter {
        /// The condition.
        condition: String,
        /// The parameter.
        parameter: String,
        /// The declared type.
        expected: String,
        /// Why the value does not fit.
        reason: String,
    },
    /// The expression failed at run time or did not produce a boolean.
    #[error("condition `{condition}` failed to evaluate: {message}")]
    Evaluation {
        /// The condition.
        condition: String,
        /// What went wrong.
        message: String,
    },
    /// The expression does not compile.
    #[error("condition `{condition}` does not compile: {message}")]
    Compile {
        /// The condition.
        condition: String,
        /// The compiler's message.
        message: String,
    },
}

/// Which parameters an evaluation needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ParameterPolicy {
    /// OpenFGA: every declared parameter must be present, even one the expression would not
    /// need (`x < 100 || y < 50` with only `x` fails).
    #[default]
    AllDeclared,
    /// SpiceDB: only the parameters the evaluation actually reaches must be present; a
    /// missing one that is reached makes the result conditional (reported as
    /// [`ConditionError::MissingParameters`]).
    Reached,
}

/// A condition ready to evaluate.
pub struct CompiledCondition {
    name: String,
    parameters: Vec<(String, ConditionParamTypeRef)>,
    program: Program,
    env: Arc<Env>,
}

impl std::fmt::Debug for CompiledCondition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledCondition")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl CompiledCondition {
    /// Compiles a model condition.
    ///
    /// # Errors
    ///
    /// [`ConditionError::Compile`] when the expression is not valid CEL.
    pub fn compile(condition: &Condition, env: Arc<Env>) -> Result<Self, ConditionError> {
        // The CEL parser and interpreter are recursive: bound the expression's size and nesting
        // before handing it over, so no model can exhaust a thread's stack (2 MiB for tokio's
        // workers and the test harness). The bounds are tested in release builds; in debug
        // builds the cel interpreter takes about 38 KiB of stack per level, so an expression a
        // few dozen levels deep can still overflow a 2 MiB stack there.
        let expression = &condition.expression;
        let operators = expression
            .chars()
            .filter(|c| "!-+*/%.<>=&|?".contains(*c))
            .count();
        if expression.len() > MAX_CEL_BYTES
            || operators > MAX_CEL_OPERATORS
            || nesting(expression) > MAX_CEL_NESTING
        {
            return Err(ConditionError::Compile {
                condition: condition.name.clone(),
                message: format!(
                    "expressions are limited to {MAX_CEL_BYTES} bytes, {MAX_CEL_OPERATORS} operator characters and \
                     {MAX_CEL_NESTING} levels of brackets"
                ),
            });
        }
        let program = env
            .compile(&condition.expression)
            .map_err(|e| ConditionError::Compile {
                condition: condition.name.clone(),
                message: e.to_string(),
            })?;
        Ok(Self {
            name: condition.name.clone(),
            parameters: condition
                .parameters
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            program,
            env,
        })
    }

    /// The condition's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Evaluates with the tuple's stored context and the request context.
    ///
    /// # Errors
    ///
    /// A [`ConditionError`] when a parameter is missing or malformed, or the expression fails.
    pub fn evaluate(
        &self,
        stored: Option<&Map<String, Value>>,
        request: Option<&Map<String, Value>>,
    ) -> Result<bool, ConditionError> {
        self.evaluate_with(stored, request, ParameterPolicy::AllDeclared)
    }

    /// [`CompiledCondition::evaluate`] under a parameter policy.
    ///
    /// # Errors
    ///
    /// As [`CompiledCondition::evaluate`].
    pub fn evaluate_with(
        &self,
        stored: Option<&Map<String, Value>>,
        request: Option<&Map<String, Value>>,
        policy: ParameterPolicy,
    ) -> Result<bool, ConditionError> {
        let lookup = |name: &str| {
            stored
                .and_then(|s| s.get(name))
                .or_else(|| request.and_then(|r| r.get(name)))
        };
        let missing: Vec<String> = self
            .parameters
            .iter()
            .filter(|(p, _)| lookup(p).is_none())
            .map(|(p, _)| p.clone())
            .collect();
        if !missing.is_empty() && policy == ParameterPolicy::AllDeclared {
            return Err(ConditionError::MissingParameters {
                condition: self.name.clone(),
                parameters: missing,
            });
        }

        // A fresh context per evaluation, with the two ipaddress functions registered: about a
        // microsecond. Evaluations are memoised per request and stored condition, which bounds
        // the cost; keeping a prepared context per thread and only swapping the variables
        // would remove it, once the cel crate lets a context's variables be cleared.
        let mut context = Context::with_env(Arc::clone(&self.env));
        register_functions(&mut context);
        for (parameter, type_ref) in &self.parameters {
            let Some(json) = lookup(parameter) else {
                continue;
            };
            let value =
                to_cel(json, type_ref).map_err(|reason| ConditionError::InvalidParameter {
                    condition: self.name.clone(),
                    parameter: parameter.clone(),
                    expected: type_ref.to_string(),
                    reason,
                })?;
            context.add_variable_from_value(parameter.as_str(), value);
        }

        match self.program.execute(&context) {
            Ok(CelValue::Bool(b)) => Ok(b),
            Ok(other) => Err(ConditionError::Evaluation {
                condition: self.name.clone(),
                message: format!("expected a boolean, got {other:?}"),
            }),
            Err(ExecutionError::UndeclaredReference(name))
                if missing.iter().any(|m| **m == *name) =>
            {
                Err(ConditionError::MissingParameters {
                    condition: self.name.clone(),
                    parameters: missing,
                })
            }
            Err(e) => Err(ConditionError::Evaluation {
                condition: self.name.clone(),
                message: e.to_string(),
            }),
        }
    }
}

/// The deepest bracket nesting a condition expression may use.
const MAX_CEL_NESTING: usize = 64;

/// The longest condition expression.
const MAX_CEL_BYTES: usize = 8192;

/// The most operator characters (`!-+*/%.<>=&|?`) in a condition expression.
const MAX_CEL_OPERATORS: usize = 512;

/// The deepest nesting of `(`, `[` and `{` outside string literals.
fn nesting(expression: &str) -> usize {
    let (mut depth, mut max, mut quote) = (0usize, 0usize, None::<char>);
    let mut chars = expression.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[' | '{') => {
                depth += 1;
                max = max.max(depth);
            }
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            (None, _) => {}
        }
    }
    max
}

/// The CEL environment shared by a model's conditions.
pub fn environment() -> Arc<Env> {
    Arc::new(Env::stdlib())
}

/// OpenFGA's `ipaddress` extension: `ipaddress("10.0.0.1")` and `ip.in_cidr("10.0.0.0/8")`.
fn register_functions(context: &mut Context<'_, '_>) {
    // Both names are free in the standard library, so registration cannot conflict; a
    // failure would only mean the function is missing, which evaluation then reports.
    let _ = context.add_function("in_cidr", in_cidr);
    let _ = context.add_function("ipaddress", ipaddress);
}

fn in_cidr(This(ip): This<Arc<String>>, cidr: Arc<String>) -> Result<bool, ExecutionError> {
    let address: IpAddr = ip.parse().map_err(|_| {
        ExecutionError::function_error("in_cidr", format!("`{ip}` is not an ip address"))
    })?;
    let network = Cidr::parse(&cidr).ok_or_else(|| {
        ExecutionError::function_error("in_cidr", format!("`{cidr}` is not a cidr"))
    })?;
    Ok(network.contains(address))
}

fn ipaddress(text: Arc<String>) -> Result<Arc<String>, ExecutionError> {
    text.parse::<IpAddr>().map(|_| text.clone()).map_err(|_| {
        ExecutionError::function_error("ipaddress", format!("`{text}` is not an ip address"))
    })
}

/// An IP network, `address/prefix`.
struct Cidr {
    network: IpAddr,
    prefix: u32,
}

impl Cidr {
    fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = text.split_once('/')?;
        let network: IpAddr = address.parse().ok()?;
        let prefix: u32 = prefix.parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Self { network, prefix })
    }

    fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - self.prefix).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - self.prefix).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// Converts a JSON value to the CEL value of the declared type.
fn to_cel(json: &Value, type_ref: &ConditionParamTypeRef) -> Result<CelValue, String> {
    let element = || {
        type_ref
            .generic_types
            .first()
            .cloned()
            .unwrap_or(ConditionParamTypeRef::scalar(TypeName::Any))
    };
    match type_ref.type_name {
        TypeName::Any | TypeName::Unspecified => Ok(any_to_cel(json)),
        TypeName::Bool => json
            .as_bool()
            .map(CelValue::Bool)
            .ok_or_else(|| "expected a boolean".to_owned()),
        TypeName::String => json
            .as_str()
            .map(|s| CelValue::String(Arc::new(s.to_owned())))
            .ok_or_else(|| "expected a string".to_owned()),
        TypeName::Int => {
            if let Some(i) = json.as_i64() {
                return Ok(CelValue::Int(i));
            }
            match number(json)? {
                f if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 => {
                    Ok(CelValue::Int(f as i64))
                }
                f => Err(format!("{f} is not a 64-bit integer")),
            }
        }
        TypeName::Uint => {
            if let Some(u) = json.as_u64() {
                return Ok(CelValue::UInt(u));
            }
            match number(json)? {
                f if f.fract() == 0.0 && f >= 0.0 && f < u64::MAX as f64 => {
                    Ok(CelValue::UInt(f as u64))
                }
                f => Err(format!("{f} is not an unsigned 64-bit integer")),
            }
        }
        TypeName::Double => number(json).map(CelValue::Float),
        TypeName::Duration => {
            let text = json
                .as_str()
                .ok_or("expected a duration string such as \"1h30m\"")?;
            parse_duration(text)
                .map(CelValue::Duration)
                .ok_or_else(|| format!("`{text}` is not a duration"))
        }
        TypeName::Timestamp => {
            let text = json
                .as_str()
                .ok_or("expected an RFC 3339 timestamp string")?;
            chrono::DateTime::parse_from_rfc3339(text)
                .map(CelValue::Timestamp)
                .map_err(|e| format!("`{text}`: {e}"))
        }
        TypeName::IpAddress => {
            let text = json.as_str().ok_or("expected an ip address string")?;
            text.parse::<IpAddr>()
                .map_err(|_| format!("`{text}` is not an ip address"))?;
            Ok(CelValue::String(Arc::new(text.to_owned())))
        }
        TypeName::List => {
            let items = json.as_array().ok_or("expected a list")?;
            let element = element();
            let values = items
                .iter()
                .map(|v| to_cel(v, &element))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(CelValue::List(Arc::new(values)))
        }
        TypeName::Map => {
            let entries = json.as_object().ok_or("expected a map")?;
            let element = element();
            let mut map = HashMap::new();
            for (k, v) in entries {
                map.insert(k.clone(), to_cel(v, &element)?);
            }
            Ok(CelValue::from(map))
        }
    }
}

/// A finite double from a JSON number or numeric string.
fn number(json: &Value) -> Result<f64, String> {
    let value = match json {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match value {
        Some(f) if f.is_finite() => Ok(f),
        Some(f) => Err(format!("{f} is out of range")),
        None => Err("expected a number".to_owned()),
    }
}

fn any_to_cel(json: &Value) -> CelValue {
    match json {
        Value::Null => CelValue::Null,
        Value::Bool(b) => CelValue::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => CelValue::Int(i),
            (None, Some(u)) => CelValue::UInt(u),
            _ => CelValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => CelValue::String(Arc::new(s.clone())),
        Value::Array(items) => CelValue::List(Arc::new(items.iter().map(any_to_cel).collect())),
        Value::Object(entries) => {
            let map: HashMap<String, CelValue> = entries
                .iter()
                .map(|(k, v)| (k.clone(), any_to_cel(v)))
                .collect();
            CelValue::from(map)
        }
    }
}

/// Parses a Go-style duration: `300ms`, `1.5h`, `2h45m`, `-1m`.
fn parse_duration(text: &str) -> Option<chrono::Duration> {
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(chrono::Duration::zero());
    }
    if rest.is_empty() {
        return None;
    }
    let mut total_nanos: f64 = 0.0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest.get(..number_len)?.parse().ok()?;
        rest = rest.get(number_len..)?;
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match rest.get(..unit_len)? {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = rest.get(unit_len..)?;
        total_nanos += value * scale;
    }
    if !total_nanos.is_finite() || total_nanos.abs() > i64::MAX as f64 {
        return None;
    }
    let nanos = total_nanos as i64;
    Some(chrono::Duration::nanoseconds(if negative {
        -nanos
    } else {
        nanos
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn condition(expression: &str, params: &[(&str, TypeName)]) -> CompiledCondition {
        let c = Condition {
            name: "c".into(),
            expression: expression.into(),
            parameters: params
                .iter()
                .map(|(n, t)| ((*n).to_owned(), ConditionParamTypeRef::scalar(*t)))
                .collect(),
            metadata: None,
        };
        CompiledCondition::compile(&c, environment()).unwrap()
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn evaluates_typed_parameters() {
        let c = condition(
            "x < 100 || y < 50",
            &[("x", TypeName::Int), ("y", TypeName::Int)],
        );
        assert_eq!(
            c.evaluate(None, Some(&map(json!({"x": 10, "y": 99})))),
            Ok(true)
        );
        assert!(matches!(
            c.evaluate(None, Some(&map(json!({"x": 10})))),
            Err(ConditionError::MissingParameters { .. })
        ));
        // The stored context wins over the request.
        assert_eq!(
            c.evaluate(
                Some(&map(json!({"x": 500, "y": 500}))),
                Some(&map(json!({"x": 1, "y": 1})))
            ),
            Ok(false)
        );
    }

    #[test]
    fn supports_timestamps_doubles_and_ip_addresses() {
        let t = condition(
            r#"ts < timestamp("2023-10-11T10:00:00.000Z")"#,
            &[("ts", TypeName::Timestamp)],
        );
        assert_eq!(
            t.evaluate(None, Some(&map(json!({"ts": "2023-10-11T09:00:00Z"})))),
            Ok(true)
        );
        let d = condition("x > 0.0", &[("x", TypeName::Double)]);
        assert_eq!(d.evaluate(None, Some(&map(json!({"x": 1.5})))), Ok(true));
        assert!(
            d.evaluate(None, Some(&map(json!({"x": "1.8e309"}))))
                .is_err()
        );
        let ip = condition(
            r#"user_ip.in_cidr("192.168.0.0/24")"#,
            &[("user_ip", TypeName::IpAddress)],
        );
        assert_eq!(
            ip.evaluate(None, Some(&map(json!({"user_ip": "192.168.0.7"})))),
            Ok(true)
        );
        assert_eq!(
            ip.evaluate(None, Some(&map(json!({"user_ip": "10.0.0.1"})))),
            Ok(false)
        );
        let re = condition(
            r#"s.matches("^[0-9]+$") && s.startsWith("1")"#,
            &[("s", TypeName::String)],
        );
        assert_eq!(re.evaluate(None, Some(&map(json!({"s": "123"})))), Ok(true));
        assert_eq!(
            re.evaluate(None, Some(&map(json!({"s": "12a"})))),
            Ok(false)
        );
        let dur = condition(r#"d > duration("1m")"#, &[("d", TypeName::Duration)]);
        assert_eq!(dur.evaluate(None, Some(&map(json!({"d": "1h"})))), Ok(true));
    }
}
