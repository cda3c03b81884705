//! The relationship graph: `PUT`/`GET /v1/model`, `POST /v1/graph/write`,
//! and the queries `check`, `expand`, `list-objects`, `list-users`.

use aide::OperationInput;
use aide::axum::ApiRouter;
use aide::axum::routing::{post_with, put_with};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::CONTENT_TYPE;
use phantom_sdk::{
    CheckRequest, CheckResponse, ExpandRequest, ExpandResponse, ListObjectsRequest,
    ListObjectsResponse, ListUsersRequest, ListUsersResponse, ModelVersion, ModelWritten, Tuple,
    WriteTuples, Written,
};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::auth::Operator;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::graph::{self, AuthorizationModel, MAX_CONTEXTUAL_TUPLES, TupleKey, UserFilter};
use crate::state::AppState;

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/v1/model",
            put_with(write_model, |op| {
                op.summary("Write a new authorization model version")
                    .description("OpenFGA's modelling language (schema 1.1) as `text/plain`, or its JSON form as `application/json`. The new version becomes the latest; errors name the line and column.")
            })
            .get_with(read_model, |op| op.summary("The latest model version, or the one named by `model_id`")),
        )
        .api_route(
            "/v1/graph/write",
            post_with(write, |op| op.summary("Write and delete tuples atomically; returns the new revision")),
        )
        .api_route(
            "/v1/graph/check",
            post_with(check, |op| op.summary("Does the subject have the relation on the object? With `explain`, why")),
        )
        .api_route(
            "/v1/graph/expand",
            post_with(expand, |op| op.summary("The userset tree of a relation on an object, one level deep")),
        )
        .api_route(
            "/v1/graph/list-objects",
            post_with(list_objects, |op| op.summary("The objects of a type the subject has the relation on")),
        )
        .api_route(
            "/v1/graph/list-users",
            post_with(list_users, |op| op.summary("The subjects, of the types asked for, that have the relation on the object")),
        )
}

/// A model in the body: the DSL as text, or OpenFGA's JSON form.
struct ModelBody(AuthorizationModel);

impl<S: Send + Sync> FromRequest<S> for ModelBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| ApiError::new(e.status(), "invalid_request", e.body_text()))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| ApiError::invalid("invalid_model", "the model is not UTF-8 text"))?;
        let model = if json {
            AuthorizationModel::from_json(text)
        } else {
            AuthorizationModel::from_dsl(text)
        };
        model
            .map(Self)
            .map_err(|e| ApiError::invalid("invalid_model", e.to_string()))
    }
}

impl OperationInput for ModelBody {
    // Two forms of one body: the description says so, since no single schema can.
    fn operation_input(
        ctx: &mut aide::generate::GenContext,
        operation: &mut aide::openapi::Operation,
    ) {
        use aide::openapi::{MediaType, RequestBody, SchemaObject};

        let media = |json_schema| MediaType {
            schema: Some(SchemaObject {
                json_schema,
                example: None,
                external_docs: None,
            }),
            ..MediaType::default()
        };
        let mut body = RequestBody {
            description: Some(
                "The model in OpenFGA's modelling language (`text/plain`) or in its JSON form \
                 (`application/json`, OpenFGA's `AuthorizationModel` with `schema_version` and \
                 `type_definitions`)."
                    .to_owned(),
            ),
            required: true,
            ..RequestBody::default()
        };
        body.content.insert(
            "text/plain".to_owned(),
            media(ctx.schema.subschema_for::<String>()),
        );
        body.content.insert(
            "application/json".to_owned(),
            media(schemars::json_schema!({
                "type": "object",
                "required": ["schema_version", "type_definitions"],
            })),
        );
        aide::operation::set_body(ctx, operation, body);
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ModelQuery {
    /// A model version's id; the latest when absent.
    model_id: Option<String>,
}

async fn write_model(
    _: Operator,
    State(state): State<AppState>,
    ModelBody(model): ModelBody,
) -> ApiResult<Json<ModelWritten>> {
    let now_ms = state.clock().now_ms();
    let (model_id, revision) = state
        .graph()
        .write_model(state.store(), now_ms, model)
        .await?;
    Ok(Json(ModelWritten { model_id, revision }))
}

async fn read_model(
    _: Operator,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ModelQuery>,
) -> ApiResult<Json<ModelVersion>> {
    let (model_id, model) = state.graph().model(query.model_id.as_deref())?;
    // A model written in JSON may use what the DSL cannot say; it is still
    // a model, served in its JSON form.
    let dsl = model.to_dsl().ok();
    let model = serde_json::to_value(&model).map_err(ApiError::internal)?;
    Ok(Json(ModelVersion {
        model_id,
        model,
        dsl,
    }))
}

async fn write(
    _: Operator,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<WriteTuples>,
) -> ApiResult<Json<Written>> {
    let now_ms = state.clock().now_ms();
    let revision = state.graph().write(state.store(), now_ms, request).await?;
    Ok(Json(Written { revision }))
}

/// The engine's form of a request's contextual tuples, within the limit.
fn contextual(tuples: &[Tuple]) -> Result<Vec<TupleKey>, ApiError> {
    if tuples.len() > MAX_CONTEXTUAL_TUPLES {
        return Err(ApiError::invalid(
            "too_many_tuples",
            format!("at most {MAX_CONTEXTUAL_TUPLES} contextual tuples per request"),
        ));
    }
    Ok(tuples.iter().map(graph::tuple_key).collect())
}

async fn check(
    _: Operator,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<CheckRequest>,
) -> ApiResult<Json<CheckResponse>> {
    let contextual = contextual(&request.contextual_tuples)?;
    let (object, user) = (request.object.to_string(), request.subject.to_string());

    let mut query =
        graph::CheckRequest::new(&object, &request.relation, &user).contextual_tuples(&contextual);
    query.context = request.context.as_ref();
    query.model_id = request.model_id.as_deref();
    query.explain = request.explain;

    let (index, revision) = state.graph().read(request.at_least)?;
    let answer = index.check(&query)?;
    drop(index);
    let why = answer
        .why
        .map(|why| serde_json::to_value(why).map_err(ApiError::internal))
        .transpose()?;
    Ok(Json(CheckResponse {
        allowed: answer.allowed,
        revision,
        why,
    }))
}

async fn expand(
    _: Operator,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ExpandRequest>,
) -> ApiResult<Json<ExpandResponse>> {
    let contextual = contextual(&request.contextual_tuples)?;
    let object = request.object.to_string();
    let query = graph::ExpandRequest {
        object: &object,
        relation: &request.relation,
        contextual_tuples: &contextual,
        model_id: request.model_id.as_deref(),
    };

    let (index, revision) = state.graph().read(request.at_least)?;
    let tree = index.expand(&query)?;
    drop(index);
    let tree = serde_json::to_value(tree).map_err(ApiError::internal)?;
    Ok(Json(ExpandResponse { tree, revision }))
}

async fn list_objects(
    _: Operator,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ListObjectsRequest>,
) -> ApiResult<Json<ListObjectsResponse>> {
    let contextual = contextual(&request.contextual_tuples)?;
    let user = request.subject.to_string();
    let mut query = graph::ListObjectsRequest::new(&request.object_type, &request.relation, &user);
    query.contextual_tuples = &contextual;
    query.context = request.context.as_ref();
    query.model_id = request.model_id.as_deref();

    let (index, revision) = state.graph().read(request.at_least)?;
    let objects = index.list_objects(&query)?;
    Ok(Json(ListObjectsResponse { objects, revision }))
}

async fn list_users(
    _: Operator,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ListUsersRequest>,
) -> ApiResult<Json<ListUsersResponse>> {
    if request.user_filters.is_empty() || request.user_filters.len() > 16 {
        return Err(ApiError::invalid(
            "validation_error",
            "give 1 to 16 `user_filters` (`user`, `group#member`)",
        ));
    }
    let contextual = contextual(&request.contextual_tuples)?;
    let filters: Vec<UserFilter> = request
        .user_filters
        .iter()
        .map(|f| UserFilter::parse(f))
        .collect();
    let object = request.object.to_string();
    let mut query = graph::ListUsersRequest::new(&object, &request.relation, &filters);
    query.contextual_tuples = &contextual;
    query.context = request.context.as_ref();
    query.model_id = request.model_id.as_deref();

    let (index, revision) = state.graph().read(request.at_least)?;
    let users = index.list_users(&query)?;
    Ok(Json(ListUsersResponse { users, revision }))
}
