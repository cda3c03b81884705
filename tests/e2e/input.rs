//! Bad input gets a clear 4xx JSON error and changes nothing; management
//! calls need a key.

use phantom_sdk::AuditQuery;

use crate::harness::Server;

/// Posts `body` raw to `path` with the operator's key.
async fn post_raw(
    server: &Server,
    path: &str,
    body: impl Into<reqwest::Body>,
    content_type: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", server.url()))
        .bearer_auth(server.key())
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

async fn audit_len(server: &Server) -> usize {
    server
        .operator
        .audit(&AuditQuery {
            limit: Some(1000),
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .events
        .len()
}

fn message(body: &serde_json::Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn malformed_input_is_refused_with_the_reason_and_nothing_is_written() {
    let server = Server::start().await;
    let json = Some("application/json");
    let before = audit_len(&server).await;

    let (status, body) = post_raw(&server, "/v1/tokens", "{\"agent\": ", json).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("malformed_json")),
        "{body}"
    );

    let unknown = r#"{"agent":"a","on_behalf_of":"u","intent":"x","constraints":{"max_access":"5m"},"admin":true}"#;
    let (status, body) = post_raw(&server, "/v1/tokens", unknown, json).await;
    assert_eq!(status, 400);
    assert!(message(&body).contains("admin"), "{body}");

    let bad_duration = r#"{"agent":"a","on_behalf_of":"u","intent":"x","constraints":{"max_access":"5 fortnights"}}"#;
    let (status, body) = post_raw(&server, "/v1/tokens", bad_duration, json).await;
    assert_eq!(status, 400);
    assert!(message(&body).contains("5 fortnights"), "{body}");

    let bad_scope = r#"{"agent":"a","on_behalf_of":"u","intent":"x","constraints":{"max_access":"5m","scope":["gmail read"]}}"#;
    let (status, body) = post_raw(&server, "/v1/tokens", bad_scope, json).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_scope")),
        "{body}"
    );

    let revision = server.operator.health().await.unwrap()["graph_revision"].clone();
    let bad_tuple = r#"{"writes":["doc:1#owner@user:1","doc:2#owner@user"]}"#;
    let (status, body) = post_raw(&server, "/v1/graph/write", bad_tuple, json).await;
    assert_eq!(status, 400);
    assert!(message(&body).contains("doc:2#owner@user"), "{body}");
    assert_eq!(
        server.operator.health().await.unwrap()["graph_revision"],
        revision,
        "no half write"
    );

    let (status, _) = post_raw(&server, "/v1/tokens", "{}", Some("text/plain")).await;
    assert_eq!(status, 415);

    let huge = format!(
        r#"{{"agent":"a","on_behalf_of":"u","intent":"{}","constraints":{{"max_access":"5m"}}}}"#,
        "x".repeat(300 * 1024)
    );
    let (status, body) = post_raw(&server, "/v1/tokens", huge, json).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("payload_too_large")),
        "{body}"
    );

    let (status, body) = post_raw(
        &server,
        "/v1/missions",
        r#"{"user":"u","intent":"x","timeout":"forever"}"#,
        json,
    )
    .await;
    assert_eq!(status, 400);
    assert!(message(&body).contains("forever"), "{body}");

    // A mistyped path is a JSON error naming it, not an empty 404.
    let (status, body) = post_raw(&server, "/v1/authorise", "{}", json).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("unknown_route")),
        "{body}"
    );
    assert!(message(&body).contains("/v1/authorise"), "{body}");

    assert_eq!(
        audit_len(&server).await,
        before,
        "refused requests leave no trace but errors"
    );
}

#[tokio::test]
async fn management_calls_need_an_api_key_and_reject_ghost_tokens() {
    let server = Server::start().await;
    let http = reqwest::Client::new();

    for path in ["/healthz", "/openapi.json"] {
        assert_eq!(
            http.get(format!("{}{path}", server.url()))
                .send()
                .await
                .unwrap()
                .status(),
            200,
            "{path}"
        );
    }
    for path in ["/v1/audit", "/metrics", "/v1/approvals"] {
        let response = http
            .get(format!("{}{path}", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated");
    }

    let wrong = phantom_server::secrets::generate(phantom_sdk::SecretKind::ApiKey).unwrap();
    let response = http
        .get(format!("{}/v1/audit", server.url()))
        .bearer_auth(wrong.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    let token = server
        .token(
            "Find flight receipt in Gmail",
            &["gmail.readonly"],
            Some(10),
            "5m",
            None,
        )
        .await;
    let response = http
        .get(format!("{}/v1/audit", server.url()))
        .bearer_auth(&token.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn the_api_description_is_generated_and_metrics_count_decisions() {
    let server = Server::start().await;
    let api: serde_json::Value = reqwest::get(format!("{}/openapi.json", server.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/v1/authorize",
        "/v1/tokens",
        "/v1/graph/write",
        "/v1/missions/{id}",
        "/v1/approvals/{id}/decision",
        "/v1/audit",
    ] {
        assert!(
            api["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(api["components"]["schemas"].get("Decision").is_some());
    // Both credentials are described; /healthz needs neither.
    for scheme in ["operator", "ghost_token"] {
        assert_eq!(
            api["components"]["securitySchemes"][scheme]["scheme"], "bearer",
            "{scheme}"
        );
    }
    assert_eq!(api["security"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        api["paths"]["/healthz"]["get"]["security"],
        serde_json::json!([{}])
    );
    // The model is taken in either of its two forms.
    let model_body = &api["paths"]["/v1/model"]["put"]["requestBody"]["content"];
    assert!(
        model_body.get("text/plain").is_some() && model_body.get("application/json").is_some(),
        "{model_body}"
    );

    let token = server
        .token(
            "Find flight receipt in Gmail",
            &["gmail.readonly"],
            Some(10),
            "5m",
            None,
        )
        .await;
    let mut search =
        phantom_sdk::Action::new("gmail.search", serde_json::json!({"query": "receipt"}));
    search.scope = Some("gmail.readonly".to_owned());
    server.agent(&token).authorize(&search).await.unwrap();

    let metrics = reqwest::Client::new()
        .get(format!("{}/metrics", server.url()))
        .bearer_auth(server.key())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("phantom_decisions_total"), "{metrics}");
}
