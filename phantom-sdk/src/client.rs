//! A typed HTTP client for every call of Phantom's API.
//!
//! A client carries one credential. Operators use an API key, which opens
//! the management calls; agents use their ghost token, which opens
//! `authorize` and the calls about their own mission (recording actions,
//! reporting compensations, waiting for an approval). An agent never needs
//! the API key.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::approval::{Approval, ApprovalDecision, ApprovalStatus};
use crate::audit::{AuditPage, AuditQuery};
use crate::authorize::{Action, AuthorizeRequest, Decision};
use crate::entitlement::{Entitlement, EntitlementChange};
use crate::error::{Error, ErrorBody};
use crate::graph::{
    CheckRequest, CheckResponse, ExpandRequest, ExpandResponse, ListObjectsRequest,
    ListObjectsResponse, ListUsersRequest, ListUsersResponse, ModelVersion, ModelWritten,
    WriteTuples, Written,
};
use crate::intent::{EvaluateIntent, IntentEvaluation};
use crate::mission::{CompensationResult, CreateMission, MissionRecord, RecordAction, Transition};
use crate::secret::{Secret, SecretKind};
use crate::token::{IssueToken, IssuedToken, TokenStatus};

/// A connection to a Phantom server with one credential.
#[derive(Debug, Clone)]
pub struct PhantomClient {
    http: reqwest::Client,
    base: String,
    credential: Option<Secret>,
}

impl PhantomClient {
    /// A client for an operator, authenticated with a management API key
    /// (`phk_…`).
    ///
    /// # Errors
    ///
    /// Returns [`Error::Invalid`] if the key is not a well-formed API key.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), phantom_sdk::Error> {
    /// let phantom = phantom_sdk::PhantomClient::operator("http://127.0.0.1:7700", &std::env::var("PHANTOM_API_KEY").unwrap_or_default())?;
    /// let health = phantom.health().await?;
    /// # Ok(()) }
    /// ```
    pub fn operator(base_url: &str, api_key: &str) -> Result<Self, Error> {
        let key = Secret::parse(SecretKind::ApiKey, api_key.trim())
            .map_err(|e| Error::Invalid(format!("API key: {e}")))?;
        Self::with_credential(base_url, Some(key))
    }

    /// A client for an agent, authenticated with its ghost token (`phm_…`).
    ///
    /// # Errors
    ///
    /// Returns [`Error::Invalid`] if the token is not well formed (a typo
    /// is caught here, before any request).
    pub fn agent(base_url: &str, ghost_token: &str) -> Result<Self, Error> {
        let token = Secret::parse(SecretKind::GhostToken, ghost_token.trim())
            .map_err(|e| Error::Invalid(format!("ghost token: {e}")))?;
        Self::with_credential(base_url, Some(token))
    }

    /// A client without a credential: only `/healthz` and
    /// `/openapi.json` answer it.
    ///
    /// # Errors
    ///
    /// Fails only if no HTTP client can be built on this system.
    pub fn anonymous(base_url: &str) -> Result<Self, Error> {
        Self::with_credential(base_url, None)
    }

    fn with_credential(base_url: &str, credential: Option<Secret>) -> Result<Self, Error> {
        crate::ensure_tls_provider();
        let http = reqwest::Client::builder().build()?;
        Ok(Self {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            credential,
        })
    }

    /// The same server, another credential: an operator hands an agent the
    /// token it issued.
    ///
    /// # Errors
    ///
    /// Returns [`Error::Invalid`] if the token is not well formed.
    pub fn as_agent(&self, ghost_token: &str) -> Result<Self, Error> {
        let mut agent = Self::agent(&self.base, ghost_token)?;
        agent.http = self.http.clone();
        Ok(agent)
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.base));
        match &self.credential {
            Some(secret) => request.bearer_auth(secret.expose()),
            None => request,
        }
    }

    async fn send<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, Error> {
        let response = request.send().await?;
        Ok(Self::read(response).await?.json().await?)
    }

    async fn read(response: Response) -> Result<Response, Error> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let text = response.text().await.unwrap_or_default();
        let (code, message) = match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => (body.error.code, body.error.message),
            Err(_) => ("unexpected_response".to_owned(), text),
        };
        Err(Error::Api {
            status: status.as_u16(),
            code,
            message,
        })
    }

    async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, Error> {
        Self::send(self.request(Method::POST, path).json(body)).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        Self::send(self.request(Method::GET, path)).await
    }

    /// `GET /healthz`.
    ///
    /// # Errors
    ///
    /// Fails if the server cannot be reached or is unhealthy.
    pub async fn health(&self) -> Result<serde_json::Value, Error> {
        self.get("/healthz").await
    }

    /// `POST /v1/tokens`: issues a ghost token. Operator only.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and on rejected input (bad duration,
    /// unknown mission, ...).
    pub async fn issue_token(&self, request: &IssueToken) -> Result<IssuedToken, Error> {
        self.post("/v1/tokens", request).await
    }

    /// `GET /v1/tokens/{id}`. Operator only.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and for an unknown id.
    pub async fn token_status(&self, token_id: &str) -> Result<TokenStatus, Error> {
        self.get(&format!("/v1/tokens/{}", segment(token_id)?))
            .await
    }

    /// `DELETE /v1/tokens/{id}`: revokes now; every action of the token
    /// waiting for approval fails at once. Operator only.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and for an unknown id.
    pub async fn revoke_token(&self, token_id: &str) -> Result<TokenStatus, Error> {
        Self::send(self.request(
            Method::DELETE,
            &format!("/v1/tokens/{}", segment(token_id)?),
        ))
        .await
    }

    /// `POST /v1/authorize` with this client's ghost token. A denial is an
    /// `Ok` [`Decision`]; errors are for transport and malformed input.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and on a malformed request.
    pub async fn authorize(&self, action: &Action) -> Result<Decision, Error> {
        self.authorize_request(&AuthorizeRequest {
            action: action.clone(),
            approval_id: None,
        })
        .await
    }

    /// `POST /v1/authorize` with an explicit request (to present an
    /// approval).
    ///
    /// # Errors
    ///
    /// As [`authorize`](Self::authorize).
    pub async fn authorize_request(&self, request: &AuthorizeRequest) -> Result<Decision, Error> {
        self.post("/v1/authorize", request).await
    }

    /// `POST /v1/intent/evaluate`. Operator only.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and on a malformed request.
    pub async fn evaluate_intent(
        &self,
        request: &EvaluateIntent,
    ) -> Result<IntentEvaluation, Error> {
        self.post("/v1/intent/evaluate", request).await
    }

    /// `POST /v1/graph/write`. Operator only.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and if any tuple is rejected (then none is
    /// written).
    pub async fn write_tuples(&self, request: &WriteTuples) -> Result<Written, Error> {
        self.post("/v1/graph/write", request).await
    }

    /// `PUT /v1/model`: a new authorization model version in OpenFGA's
    /// modelling language; it becomes the latest. Operator only.
    ///
    /// # Errors
    ///
    /// Fails on transport errors, and with the line and column of the
    /// problem for an invalid model.
    pub async fn write_model(&self, dsl: &str) -> Result<ModelWritten, Error> {
        let request = self
            .request(Method::PUT, "/v1/model")
            .header(reqwest::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(dsl.to_owned());
        Self::send(request).await
    }

    /// `GET /v1/model`: the latest model version, or the one named.
    /// Operator only.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and for an unknown id.
    pub async fn model(&self, model_id: Option<&str>) -> Result<ModelVersion, Error> {
        let mut request = self.request(Method::GET, "/v1/model");
        if let Some(id) = model_id {
            request = request.query(&[("model_id", id)]);
        }
        Self::send(request).await
    }

    /// `POST /v1/graph/expand`. Operator only.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and for names the model lacks.
    pub async fn expand(&self, request: &ExpandRequest) -> Result<ExpandResponse, Error> {
        self.post("/v1/graph/expand", request).await
    }

    /// `POST /v1/graph/list-objects`. Operator only.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and for names the model lacks.
    pub async fn list_objects(
        &self,
        request: &ListObjectsRequest,
    ) -> Result<ListObjectsResponse, Error> {
        self.post("/v1/graph/list-objects", request).await
    }

    /// `POST /v1/graph/list-users`. Operator only.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and for names the model lacks.
    pub async fn list_users(&self, request: &ListUsersRequest) -> Result<ListUsersResponse, Error> {
        self.post("/v1/graph/list-users", request).await
    }

    /// `POST /v1/graph/check`. Operator only.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and on a malformed request.
    pub async fn check(&self, request: &CheckRequest) -> Result<CheckResponse, Error> {
        self.post("/v1/graph/check", request).await
    }

    /// `POST /v1/missions`. Operator only.
    ///
    /// # Errors
    ///
    /// Fails on transport errors, on a bad timeout, and when the user lacks
    /// a required entitlement.
    pub async fn create_mission(&self, request: &CreateMission) -> Result<MissionRecord, Error> {
        self.post("/v1/missions", request).await
    }

    /// `GET /v1/missions/{id}`. Operator, or an agent whose token serves
    /// the mission.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and for an unknown or foreign mission.
    pub async fn mission(&self, mission_id: &str) -> Result<MissionRecord, Error> {
        self.get(&format!("/v1/missions/{}", segment(mission_id)?))
            .await
    }

    /// `POST /v1/missions/{id}/actions`: records an executed action and its
    /// compensation. Operator, or the mission's agent.
    ///
    /// # Errors
    ///
    /// Fails on transport errors, for an unknown action id, or when the
    /// mission is over.
    pub async fn record_action(
        &self,
        mission_id: &str,
        action: &RecordAction,
    ) -> Result<MissionRecord, Error> {
        self.post(
            &format!("/v1/missions/{}/actions", segment(mission_id)?),
            action,
        )
        .await
    }

    /// Moves a mission through its lifecycle: `transition` is one of
    /// `complete`, `fail`, `terminate`, `pause`, `resume`. `fail` and
    /// `terminate` make the compensations due. The mission's agent may
    /// `complete` and `fail`; the rest is for operators.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and for a transition the mission's state
    /// does not allow.
    pub async fn transition(
        &self,
        mission_id: &str,
        transition: &str,
        reason: Option<&str>,
    ) -> Result<MissionRecord, Error> {
        let body = Transition {
            reason: reason.map(str::to_owned),
        };
        self.post(
            &format!(
                "/v1/missions/{}/{}",
                segment(mission_id)?,
                segment(transition)?
            ),
            &body,
        )
        .await
    }

    /// `POST /v1/missions/{id}/compensations/{seq}`: reports what running a
    /// due compensation gave. Operator, or the mission's agent (even after
    /// its token was revoked: cleanup must still be recorded).
    ///
    /// # Errors
    ///
    /// Fails on transport errors and if the compensation is not due.
    pub async fn report_compensation(
        &self,
        mission_id: &str,
        seq: u32,
        result: &CompensationResult,
    ) -> Result<MissionRecord, Error> {
        self.post(
            &format!("/v1/missions/{}/compensations/{seq}", segment(mission_id)?),
            result,
        )
        .await
    }

    /// `GET /v1/approvals?status=…`. Operator only.
    ///
    /// # Errors
    ///
    /// Fails on transport errors.
    pub async fn approvals(&self, status: Option<ApprovalStatus>) -> Result<Vec<Approval>, Error> {
        let mut request = self.request(Method::GET, "/v1/approvals");
        if let Some(status) = status {
            let status = serde_json::to_value(status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            request = request.query(&[("status", status)]);
        }
        Self::send(request).await
    }

    /// `GET /v1/approvals/{id}?wait=…`: the approval, waiting up to `wait`
    /// for it to be settled (long poll). Operator, or the agent whose token
    /// asked.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and for an unknown approval.
    pub async fn approval(
        &self,
        approval_id: &str,
        wait: Option<Duration>,
    ) -> Result<Approval, Error> {
        let mut request = self.request(
            Method::GET,
            &format!("/v1/approvals/{}", segment(approval_id)?),
        );
        if let Some(wait) = wait {
            request = request
                .query(&[("wait", format!("{}ms", wait.as_millis()))])
                .timeout(wait + Duration::from_secs(10));
        }
        Self::send(request).await
    }

    /// `POST /v1/approvals/{id}/decision`. Operator only.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and if the approval is already settled.
    pub async fn decide(
        &self,
        approval_id: &str,
        decision: &ApprovalDecision,
    ) -> Result<Approval, Error> {
        self.post(
            &format!("/v1/approvals/{}/decision", segment(approval_id)?),
            decision,
        )
        .await
    }

    /// `POST /v1/entitlements`. Operator only.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and on malformed input.
    pub async fn grant_entitlement(
        &self,
        entitlement: &Entitlement,
    ) -> Result<EntitlementChange, Error> {
        self.post("/v1/entitlements", entitlement).await
    }

    /// `DELETE /v1/entitlements`: removes it and pauses every mission that
    /// requires it. Operator only.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and on malformed input.
    pub async fn remove_entitlement(
        &self,
        entitlement: &Entitlement,
    ) -> Result<EntitlementChange, Error> {
        Self::send(
            self.request(Method::DELETE, "/v1/entitlements")
                .json(entitlement),
        )
        .await
    }

    /// `GET /v1/audit`. Operator only.
    ///
    /// # Errors
    ///
    /// Fails on transport errors.
    pub async fn audit(&self, query: &AuditQuery) -> Result<AuditPage, Error> {
        Self::send(self.request(Method::GET, "/v1/audit").query(query)).await
    }

    /// Sends a raw request, for calls this client does not wrap yet.
    ///
    /// # Errors
    ///
    /// Fails on transport errors and on an error answer.
    pub async fn raw<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, Error> {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        Self::send(request).await
    }
}

/// Ids go into URL paths. Phantom's ids are ASCII letters, digits, `-`
/// and `_`; anything else cannot be an id, so it is refused here rather
/// than escaped into a request that could only fail.
fn segment(id: &str) -> Result<&str, Error> {
    let valid = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(id)
    } else {
        Err(Error::Invalid(format!(
            "`{}` is not a Phantom id",
            id.escape_default()
        )))
    }
}
