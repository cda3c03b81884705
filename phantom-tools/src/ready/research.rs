//! Research tools, offline: fetching documents from a built-in library into
//! the workspace, and a paid case-law service that charges an account.
//!
//! Both undo themselves: a downloaded file is deleted, a charge refunded.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use phantom_sdk::{Compensation, ToolOutput};
use schemars::JsonSchema;
use serde::Deserialize;

use super::files::FileRoot;
use crate::tool::{CallDetails, Declaration, Tool, ToolError};

/// The documents `download_document` can fetch, by URL.
fn library() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        (
            "https://patents.example/US-10000001",
            "US 10,000,001 — Method for adaptive compression of sensor streams. Claims 1-20. Claim 1: a method comprising sampling, windowing and entropy coding of sensor data with a model updated per window.",
        ),
        (
            "https://courts.example/acme-v-zenith/complaint",
            "Acme Corp. v. Zenith Ltd. — Complaint for patent infringement of US 10,000,001. Alleges Zenith's StreamPack product practises claims 1, 4 and 9.",
        ),
        (
            "https://courts.example/acme-v-zenith/claim-construction",
            "Claim construction order: 'window' construed as a contiguous, fixed-length sequence of samples; 'model updated per window' requires an update at every window boundary.",
        ),
        (
            "https://journals.example/prior-art-compression-2011",
            "Prior art survey (2011): per-block adaptive entropy coding of telemetry, with model refresh every block, described in three systems predating the priority date.",
        ),
    ])
}

/// Arguments of `download_document`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownloadArgs {
    /// The document's URL.
    pub url: String,
}

/// `download_document`: saves a document under `/downloads/` in the
/// workspace; undone by deleting the file.
#[derive(Debug, Clone)]
pub struct DownloadDocument(pub FileRoot);

impl Tool for DownloadDocument {
    type Args = DownloadArgs;

    fn name(&self) -> &str {
        "download_document"
    }

    fn description(&self) -> &str {
        "Download a legal or technical document by URL into the workspace's downloads folder."
    }

    fn declaration(&self) -> Declaration {
        Declaration::write("research.download")
    }

    async fn call(&self, args: DownloadArgs) -> Result<ToolOutput, ToolError> {
        let text = library()
            .get(args.url.as_str())
            .copied()
            .ok_or_else(|| ToolError::Failed(format!("{}: 404 not found", args.url)))?;
        let name: String = args
            .url
            .rsplit('/')
            .next()
            .unwrap_or("document")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = format!("/downloads/{name}.txt");
        let real = self.0.resolve(&path)?;
        if let Some(parent) = real.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ToolError::Failed(e.to_string()))?;
        }
        std::fs::write(&real, text).map_err(|e| ToolError::Failed(e.to_string()))?;

        Ok(ToolOutput::new(serde_json::json!({"url": args.url, "saved_to": path, "bytes": text.len(), "text": text}))
            .undone_by(Compensation {
                name: "delete_file".to_owned(),
                args: serde_json::json!({"path": path}),
            }))
    }
}

/// A charge made by the paid service.
#[derive(Debug, Clone, PartialEq)]
pub struct Charge {
    /// Its id.
    pub id: String,
    /// Dollars.
    pub amount_usd: f64,
    /// Whether it was refunded.
    pub refunded: bool,
}

/// The account the paid service charges; shared so the example can show
/// the refunds.
#[derive(Debug, Clone, Default)]
pub struct Account(Arc<Mutex<Vec<Charge>>>);

impl Account {
    /// The charges so far.
    pub fn charges(&self) -> Vec<Charge> {
        self.0.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// Arguments of `query_case_law`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseLawArgs {
    /// What to search for.
    pub query: String,
    /// The service tier: `standard` ($40) or `expert` ($150, with analyst notes).
    pub tier: String,
}

/// `query_case_law`: a paid search; undone by a refund.
#[derive(Debug, Clone)]
pub struct QueryCaseLaw(pub Account);

impl QueryCaseLaw {
    fn price(tier: &str) -> Result<f64, ToolError> {
        match tier {
            "standard" => Ok(40.0),
            "expert" => Ok(150.0),
            other => Err(ToolError::Failed(format!(
                "unknown tier `{other}` (standard or expert)"
            ))),
        }
    }
}

impl Tool for QueryCaseLaw {
    type Args = CaseLawArgs;

    fn name(&self) -> &str {
        "query_case_law"
    }

    fn description(&self) -> &str {
        "Search a paid case-law database; the standard tier costs $40, the expert tier $150."
    }

    fn declaration(&self) -> Declaration {
        Declaration::write("research.paid")
    }

    fn details(&self, args: &CaseLawArgs) -> CallDetails {
        CallDetails {
            spend_usd: Self::price(&args.tier).ok(),
            ..CallDetails::default()
        }
    }

    async fn call(&self, args: CaseLawArgs) -> Result<ToolOutput, ToolError> {
        let amount = Self::price(&args.tier)?;
        let id = {
            let mut charges = self
                .0
                .0
                .lock()
                .map_err(|_| ToolError::Failed("account unavailable".to_owned()))?;
            let id = format!("ch_{}", charges.len() + 1);
            charges.push(Charge {
                id: id.clone(),
                amount_usd: amount,
                refunded: false,
            });
            id
        };
        Ok(ToolOutput::new(serde_json::json!({
            "query": args.query,
            "charge_id": id,
            "charged_usd": amount,
            "results": [
                "Zenith v. Orbis (Fed. Cir. 2019): per-block refresh held to anticipate 'updated per window' claims.",
                "Acme v. Lumen (D. Del. 2021): 'window' limited to fixed-length sequences.",
            ],
        }))
        .undone_by(Compensation {
            name: "refund_charge".to_owned(),
            args: serde_json::json!({"charge_id": id}),
        }))
    }
}

/// Arguments of `refund_charge`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundArgs {
    /// The charge to refund.
    pub charge_id: String,
}

/// `refund_charge`: the compensation of `query_case_law`.
#[derive(Debug, Clone)]
pub struct RefundCharge(pub Account);

impl Tool for RefundCharge {
    type Args = RefundArgs;

    fn name(&self) -> &str {
        "refund_charge"
    }

    fn description(&self) -> &str {
        "Refund a charge of the case-law service."
    }

    fn declaration(&self) -> Declaration {
        Declaration::write("research.paid")
    }

    async fn call(&self, args: RefundArgs) -> Result<ToolOutput, ToolError> {
        let mut charges = self
            .0
            .0
            .lock()
            .map_err(|_| ToolError::Failed("account unavailable".to_owned()))?;
        let charge = charges
            .iter_mut()
            .find(|c| c.id == args.charge_id)
            .ok_or_else(|| ToolError::Failed(format!("no charge `{}`", args.charge_id)))?;
        charge.refunded = true;
        Ok(ToolOutput::new(
            serde_json::json!({"refunded": charge.id, "amount_usd": charge.amount_usd}),
        ))
    }
}
