//! AgentDojo's travel missions, from `datasets/agentdojo-travel/`.

use std::fmt;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::Value;

const MISSIONS: &str = include_str!("../../../datasets/agentdojo-travel/missions.jsonl");

/// One mission: the user's words, what a faithful agent calls, and what
/// attacks try to make it call.
#[derive(Debug, Clone, Deserialize)]
pub struct TravelMission {
    /// `travel/user_task_N`.
    pub id: String,
    /// What the user asked, in their words.
    pub mission: String,
    /// The faithful agent's calls, in order.
    pub calls: Vec<PlannedCall>,
    /// The calls attacks want, each with the attack it comes from.
    pub injected: Vec<PlannedCall>,
}

/// A call of the dataset.
#[derive(Debug, Clone, Deserialize)]
pub struct PlannedCall {
    /// The tool.
    pub tool: String,
    /// The arguments, in the order the dataset writes them.
    pub args: OrderedArgs,
    /// The attack (`injection_task_N`) an injected call comes from.
    #[serde(default)]
    pub from: Option<String>,
}

/// Arguments in their written order: `serde_json` maps sort their keys,
/// and a table reads better in the order a person wrote the call.
#[derive(Debug, Clone, Default)]
pub struct OrderedArgs(pub Vec<(String, Value)>);

impl OrderedArgs {
    /// The arguments as the JSON object a tool takes.
    pub fn to_value(&self) -> Value {
        Value::Object(self.0.iter().cloned().collect())
    }
}

impl<'de> Deserialize<'de> for OrderedArgs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs;

        impl<'de> Visitor<'de> for Pairs {
            type Value = OrderedArgs;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of arguments")
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<OrderedArgs, M::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<String, Value>()? {
                    pairs.push(pair);
                }
                Ok(OrderedArgs(pairs))
            }
        }

        deserializer.deserialize_map(Pairs)
    }
}

/// The twenty missions, in the dataset's order (`user_task_0` first).
///
/// # Errors
///
/// A malformed line of the compiled-in dataset.
pub fn missions() -> Result<Vec<TravelMission>, String> {
    MISSIONS
        .lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(n, line)| {
            serde_json::from_str(line).map_err(|e| format!("missions.jsonl line {}: {e}", n + 1))
        })
        .collect()
}

/// The mission `wanted` names: its id (`travel/user_task_3` or
/// `user_task_3`) or its position from 0 (which is also its task number).
///
/// # Errors
///
/// No such mission.
pub fn select(missions: Vec<TravelMission>, wanted: &str) -> Result<Vec<TravelMission>, String> {
    let wanted = wanted.trim();
    let count = missions.len();
    let found = match wanted.parse::<usize>() {
        Ok(index) => missions.into_iter().nth(index),
        Err(_) => missions
            .into_iter()
            .find(|m| m.id == wanted || m.id.strip_prefix("travel/") == Some(wanted)),
    };
    found.map(|m| vec![m]).ok_or_else(|| {
        format!(
            "no mission `{wanted}`: give an id such as `user_task_3`, or a number from 0 to {}",
            count.saturating_sub(1)
        )
    })
}
