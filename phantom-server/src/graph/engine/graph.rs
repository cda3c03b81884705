//! [`Graph`]: model versions and the tuple index, with atomic writes.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rustc_hash::FxHasher;
use std::hash::Hasher;

use super::condition::ParameterPolicy;
use super::intern::{NO_REL, Names, Sym};
use super::overlay::Overlay;
use super::request::{OnConflict, WriteOptions};
use super::schema::CompiledModel;
use super::store::{RawTuple, Store, StoredCondition};
use crate::graph::error::GraphError;
use crate::graph::model::{AuthorizationModel, Validation};
use crate::graph::tuple::{
    SubjectRef, TupleCondition, TupleKey, parse_object, parse_relation, parse_subject,
};

/// OpenFGA's default resolution depth.
pub const DEFAULT_MAX_DEPTH: u32 = 25;

/// Engine limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GraphConfig {
    /// How many relation hops one query may take before failing with
    /// [`GraphError::DepthExceeded`] (OpenFGA: 25).
    pub max_depth: u32,
    /// Which condition parameters must be present ([`ParameterPolicy::AllDeclared`] is
    /// OpenFGA's rule).
    pub parameters: ParameterPolicy,
}

impl Default for GraphConfig {
    fn default() -> Self {
        Self {
            max_depth: DEFAULT_MAX_DEPTH,
            parameters: ParameterPolicy::AllDeclared,
        }
    }
}

/// The relationship graph: model versions and an in-memory tuple index.
///
/// Queries take `&self` and writes `&mut self`; the server wraps the graph in a lock.
/// Storage is not the graph's job: the server persists tuples and models and replays them at
/// start-up through [`Graph::restore_model`] and [`Graph::apply`].
///
/// # Example
///
/// ```
/// use phantom_server::graph::{CheckRequest, Graph, TupleKey};
///
/// let mut graph = Graph::new();
/// graph.write_model_dsl(
///     "model\n  schema 1.1\ntype user\ntype document\n  relations\n    define viewer: [user]\n",
/// )?;
/// graph.apply(&[TupleKey::new("document:1", "viewer", "user:anne")], &[])?;
/// let answer = graph.check(&CheckRequest::new("document:1", "viewer", "user:anne"))?;
/// assert!(answer.allowed);
/// # Ok::<(), phantom_server::graph::GraphError>(())
/// ```
pub struct Graph {
    pub(crate) names: Names,
    pub(crate) store: Store,
    pub(crate) models: Vec<Arc<CompiledModel>>,
    pub(crate) config: GraphConfig,
    /// Whether every stored tuple fits the latest model's type restrictions. Writes are
    /// validated against the latest model, so this only turns false when a new model
    /// forbids tuples written under an older one; queries on the latest model then skip the
    /// per-tuple restriction check.
    pub(crate) latest_fits: bool,
    revision: u64,
    last_model_millis: u64,
    model_sequence: u64,
}

impl Default for Graph {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph")
            .field("tuples", &self.store.len())
            .field("models", &self.models.len())
            .field("revision", &self.revision)
            .finish()
    }
}

/// Crockford's base32 alphabet, as used by ULIDs.
const ULID_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl Graph {
    /// An empty graph with default limits and no model.
    pub fn new() -> Self {
        Self::with_config(GraphConfig::default())
    }

    /// An empty graph with the given limits.
    pub fn with_config(config: GraphConfig) -> Self {
        Self {
            names: Names::default(),
            store: Store::new(),
            models: Vec::new(),
            config,
            latest_fits: true,
            revision: 0,
            last_model_millis: 0,
            model_sequence: 0,
        }
    }

    /// The current revision: incremented by every successful write and model change.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Number of stored tuples.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Whether no tuple is stored.
    pub fn is_empty(&self) -> bool {
        self.store.len() == 0
    }

    /// Bytes allocated by the tuple index and its identifiers (capacities, not lengths;
    /// excludes allocator overhead and the compiled models).
    pub fn index_bytes(&self) -> usize {
        self.store.heap_bytes(&self.names) + std::mem::size_of::<Self>()
    }

    /// Releases spare capacity, e.g. after replaying tuples at start-up.
    pub fn shrink_to_fit(&mut self) {
        self.store.shrink();
    }

    // ---- models ----

    /// Validates and stores a new model version, which becomes the latest; returns its id
    /// (a ULID, so ids sort by creation).
    ///
    /// # Errors
    ///
    /// [`GraphError::Model`] when the model breaks a semantic rule,
    /// [`GraphError::ModelCondition`] when a condition's CEL does not compile.
    pub fn write_model(&mut self, model: AuthorizationModel) -> Result<String, GraphError> {
        self.write_model_with(model, Validation::Full)
    }

    /// [`Graph::write_model`] with a chosen validation level ([`Validation::References`] for
    /// models translated from SpiceDB schemas).
    ///
    /// # Errors
    ///
    /// As [`Graph::write_model`].
    pub fn write_model_with(
        &mut self,
        model: AuthorizationModel,
        validation: Validation,
    ) -> Result<String, GraphError> {
        let id = self.next_model_id(&model);
        self.add_model(id.clone(), model, validation)?;
        Ok(id)
    }

    /// [`Graph::write_model`] for a model written in OpenFGA's DSL.
    ///
    /// # Errors
    ///
    /// As [`Graph::write_model`], and [`GraphError::Model`] for syntax errors.
    pub fn write_model_dsl(&mut self, dsl: &str) -> Result<String, GraphError> {
        let model = AuthorizationModel::from_dsl(dsl)?;
        self.write_model(model)
    }

    /// Adds a model version under a known id, as the latest (the server's start-up replay,
    /// oldest first).
    ///
    /// # Errors
    ///
    /// As [`Graph::write_model`], and [`GraphError::InvalidRequest`] when the id is taken.
    pub fn restore_model(
        &mut self,
        id: String,
        model: AuthorizationModel,
    ) -> Result<(), GraphError> {
        self.add_model(id, model, Validation::Full)
    }

    /// [`Graph::restore_model`] for a model first written with
    /// [`Graph::write_model_with`] at another validation level.
    ///
    /// # Errors
    ///
    /// As [`Graph::restore_model`].
    pub fn restore_model_with(
        &mut self,
        id: String,
        model: AuthorizationModel,
        validation: Validation,
    ) -> Result<(), GraphError> {
        self.add_model(id, model, validation)
    }

    fn add_model(
        &mut self,
        id: String,
        mut model: AuthorizationModel,
        validation: Validation,
    ) -> Result<(), GraphError> {
        if self.models.iter().any(|m| m.id == id) {
            return Err(GraphError::InvalidRequest(format!(
                "model id `{id}` already exists"
            )));
        }
        model.validate_at(validation)?;
        model.id = Some(id.clone());
        let compiled = CompiledModel::compile(id, model, &mut self.names)
            .map_err(GraphError::ModelCondition)?;
        self.latest_fits = self.fits(&compiled);
        self.models.push(Arc::new(compiled));
        self.revision += 1;
        Ok(())
    }

    /// Whether every stored tuple fits `model`'s type restrictions.
    fn fits(&self, model: &CompiledModel) -> bool {
        let overlay = Overlay::new(&self.store, &self.names);
        let view = super::overlay::Tuples {
            store: &self.store,
            overlay: &overlay,
            names: &self.names,
        };
        let eval = super::check::Evaluator::new(
            view,
            Some(model),
            None,
            super::check::UserKey::Object(0),
            0,
        );
        self.store.tuples().all(|(object, edge)| {
            model
                .relation(view.type_of(object), edge.rel)
                .is_some_and(|relation| {
                    !relation.restrictions.is_empty() && eval.allowed(Some(relation), edge)
                })
        })
    }

    /// The id of the latest model, if any.
    pub fn latest_model_id(&self) -> Option<&str> {
        self.models.last().map(|m| m.id.as_str())
    }

    /// Model ids, oldest first.
    pub fn model_ids(&self) -> impl Iterator<Item = &str> {
        self.models.iter().map(|m| m.id.as_str())
    }

    /// A model version as written (with its `id` set); the latest when `id` is `None`.
    pub fn model(&self, id: Option<&str>) -> Option<&AuthorizationModel> {
        self.resolve_model(id)
            .ok()
            .flatten()
            .map(|m| m.source.as_ref())
    }

    pub(crate) fn resolve_model(
        &self,
        id: Option<&str>,
    ) -> Result<Option<&CompiledModel>, GraphError> {
        match id {
            None => Ok(self.models.last().map(Arc::as_ref)),
            Some(id) => self
                .models
                .iter()
                .rev()
                .find(|m| m.id == id)
                .map(|m| Some(m.as_ref()))
                .ok_or_else(|| GraphError::ModelNotFound(id.to_owned())),
        }
    }

    fn next_model_id(&mut self, model: &AuthorizationModel) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        // Ids must sort by creation even when two models arrive in the same millisecond or
        // the clock steps back.
        let millis = now.max(self.last_model_millis);
        if millis == self.last_model_millis {
            self.model_sequence += 1;
        } else {
            self.model_sequence = 0;
        }
        self.last_model_millis = millis;

        let mut hasher = FxHasher::default();
        hasher.write(serde_json::to_string(model).unwrap_or_default().as_bytes());
        let entropy = (u128::from(self.model_sequence) << 64) | u128::from(hasher.finish());
        let value: u128 = (u128::from(millis) << 80) | (entropy & ((1u128 << 80) - 1));
        (0..26)
            .rev()
            .map(|i| char::from(ULID_ALPHABET[((value >> (i * 5)) & 31) as usize]))
            .collect()
    }

    // ---- writes ----

    /// Writes and deletes tuples atomically: either every change applies or none does.
    /// Returns the new revision.
    ///
    /// # Errors
    ///
    /// [`GraphError::InvalidTuple`] for a malformed tuple or one the latest model does not
    /// allow, [`GraphError::DuplicateTuple`] for a tuple named twice,
    /// [`GraphError::TupleExists`] / [`GraphError::TupleNotFound`] for a write of an existing
    /// tuple or a delete of a missing one.
    pub fn apply(&mut self, writes: &[TupleKey], deletes: &[TupleKey]) -> Result<u64, GraphError> {
        self.apply_with(writes, deletes, WriteOptions::default())
    }

    /// [`Graph::apply`] with OpenFGA's `on_duplicate` / `on_missing` choices.
    ///
    /// # Errors
    ///
    /// As [`Graph::apply`], minus the conflicts `options` ignores.
    pub fn apply_with(
        &mut self,
        writes: &[TupleKey],
        deletes: &[TupleKey],
        options: WriteOptions,
    ) -> Result<u64, GraphError> {
        // Everything is checked before the index is touched, so a failure
        // leaves it unchanged.
        let plan = self.plan_write(writes, deletes, options)?;
        if plan.keeps_forbidden {
            self.latest_fits = false;
        }

        for (tuple, _) in deletes
            .iter()
            .zip(&plan.skip_deletes)
            .filter(|(_, skip)| !**skip)
        {
            if let Some((object, rel, subject, subj_rel)) = self.lookup_ids(tuple) {
                self.store.remove(object, rel, subj_rel, subject);
            }
        }
        let mut raw = Vec::with_capacity(writes.len());
        for (tuple, _) in writes
            .iter()
            .zip(&plan.skip_writes)
            .filter(|(_, skip)| !**skip)
        {
            raw.push(self.intern_tuple(tuple)?);
        }
        self.store.insert_many(raw);
        self.revision += 1;
        Ok(self.revision)
    }

    /// Checks a write without applying it: [`Graph::apply_with`] with the
    /// same arguments would fail exactly when this does. A server validates
    /// first, makes the write durable, then applies it, so the index never
    /// shows a tuple that is not stored.
    ///
    /// # Errors
    ///
    /// As [`Graph::apply_with`].
    pub fn validate_write(
        &self,
        writes: &[TupleKey],
        deletes: &[TupleKey],
        options: WriteOptions,
    ) -> Result<(), GraphError> {
        self.plan_write(writes, deletes, options).map(drop)
    }

    /// Validates a write and works out which parts of it change nothing.
    fn plan_write(
        &self,
        writes: &[TupleKey],
        deletes: &[TupleKey],
        options: WriteOptions,
    ) -> Result<WritePlan, GraphError> {
        let model = self.models.last().cloned();
        let mut keeps_forbidden = false;

        let mut seen = HashSet::new();
        for tuple in writes.iter().chain(deletes) {
            tuple
                .validate_syntax()
                .map_err(|e| GraphError::from_tuple_error(tuple, &e))?;
            if !seen.insert((
                tuple.object.as_str(),
                tuple.relation.as_str(),
                tuple.user.as_str(),
            )) {
                return Err(GraphError::DuplicateTuple(tuple.to_string()));
            }
        }
        for tuple in writes {
            match model.as_deref() {
                // Replayed tuples are kept as written; queries skip what the latest model
                // forbids, which they can no longer assume never happens.
                Some(model) if options.replay && validate_tuple(model, tuple).is_err() => {
                    keeps_forbidden = true;
                }
                Some(_) if options.replay => {}
                Some(model) => validate_tuple(model, tuple)
                    .map_err(|reason| GraphError::invalid_tuple(tuple, reason))?,
                None if options.replay => {}
                None if tuple.condition.is_some() => {
                    return Err(GraphError::invalid_tuple(
                        tuple,
                        "a condition needs a model that declares it",
                    ));
                }
                None => {}
            }
        }
        let mut skip_writes = vec![false; writes.len()];
        for (i, tuple) in writes.iter().enumerate() {
            if let Some(existing) = self.find(tuple) {
                if options.on_duplicate == OnConflict::Ignore && existing == tuple.condition {
                    skip_writes[i] = true;
                } else {
                    return Err(GraphError::TupleExists(tuple.to_string()));
                }
            }
        }
        let mut skip_deletes = vec![false; deletes.len()];
        for (i, tuple) in deletes.iter().enumerate() {
            if self.find(tuple).is_none() {
                if options.on_missing == OnConflict::Ignore {
                    skip_deletes[i] = true;
                } else {
                    return Err(GraphError::TupleNotFound(tuple.to_string()));
                }
            }
        }
        Ok(WritePlan {
            skip_writes,
            skip_deletes,
            keeps_forbidden,
        })
    }

    /// The stored condition of `tuple` if it exists (`Some(None)`: exists, unconditioned).
    fn find(&self, tuple: &TupleKey) -> Option<Option<TupleCondition>> {
        let (object, rel, subject, subj_rel) = self.lookup_ids(tuple)?;
        let slot = self.store.find(object, rel, subj_rel, subject)?;
        Some(self.store.condition(slot).map(|c| TupleCondition {
            name: self.names.name(c.name).to_owned(),
            context: c.context.as_ref().map(|m| (**m).clone()),
        }))
    }

    fn lookup_ids(&self, tuple: &TupleKey) -> Option<(u32, Sym, u32, Sym)> {
        let object = self.store.objects.get(&tuple.object)?;
        let rel = self.names.get(&tuple.relation)?;
        let (subject_name, subj_rel) = match tuple.user.split_once('#') {
            Some((s, r)) => (s, self.names.get(r)?),
            None => (tuple.user.as_str(), NO_REL),
        };
        let subject = self.store.objects.get(subject_name)?;
        Some((object, rel, subject, subj_rel))
    }

    fn intern_tuple(&mut self, tuple: &TupleKey) -> Result<RawTuple, GraphError> {
        let full = |_| GraphError::invalid_tuple(tuple, "the index is full");
        let object =
            parse_object(&tuple.object).map_err(|e| GraphError::from_tuple_error(tuple, &e))?;
        let subject =
            parse_subject(&tuple.user).map_err(|e| GraphError::from_tuple_error(tuple, &e))?;
        let object_type = self.names.intern(object.type_name);
        let object_id = self
            .store
            .intern_object(&tuple.object, object_type, false)
            .ok_or(())
            .map_err(full)?;
        let rel = self.names.intern(&tuple.relation);
        let subject_type = self.names.intern(subject.type_name());
        let (subject_id, subj_rel) = match subject {
            SubjectRef::Object(_) => (
                self.store
                    .intern_object(&tuple.user, subject_type, false)
                    .ok_or(())
                    .map_err(full)?,
                NO_REL,
            ),
            SubjectRef::Wildcard { .. } => (
                self.store
                    .intern_object(&tuple.user, subject_type, true)
                    .ok_or(())
                    .map_err(full)?,
                NO_REL,
            ),
            SubjectRef::Userset {
                object: o,
                relation,
            } => {
                let name = format!("{}:{}", o.type_name, o.id);
                let id = self
                    .store
                    .intern_object(&name, subject_type, false)
                    .ok_or(())
                    .map_err(full)?;
                (id, self.names.intern(relation))
            }
        };
        let condition = tuple.condition.as_ref().map(|c| StoredCondition {
            name: self.names.intern(&c.name),
            context: c.context.clone().filter(|m| !m.is_empty()).map(Arc::new),
        });
        Ok(RawTuple {
            object: object_id,
            rel,
            subject: subject_id,
            subj_rel,
            condition,
        })
    }

    /// Every stored tuple, in no particular order.
    pub fn tuples(&self) -> Vec<TupleKey> {
        let overlay = Overlay::new(&self.store, &self.names);
        let view = super::overlay::Tuples {
            store: &self.store,
            overlay: &overlay,
            names: &self.names,
        };
        self.store
            .tuples()
            .map(|(object, edge)| view.tuple_key(object, edge))
            .collect()
    }
}

/// Checks a tuple against a model's types, relations and type restrictions.
pub(crate) fn validate_tuple(model: &CompiledModel, tuple: &TupleKey) -> Result<(), String> {
    let source = model.source.as_ref();
    let object = parse_object(&tuple.object).map_err(|e| e.to_string())?;
    parse_relation(&tuple.relation).map_err(|e| e.to_string())?;
    let subject = parse_subject(&tuple.user).map_err(|e| e.to_string())?;

    let definition = source
        .type_definition(object.type_name)
        .ok_or_else(|| format!("type `{}` is not defined in the model", object.type_name))?;
    if !definition.relations.contains(&tuple.relation) {
        return Err(format!(
            "relation `{}` is not defined on type `{}`",
            tuple.relation, object.type_name
        ));
    }
    let restrictions = definition.directly_related_user_types(&tuple.relation);
    if restrictions.is_empty() {
        return Err(format!(
            "relation `{}#{}` is not directly assignable (it has no type restrictions)",
            object.type_name, tuple.relation
        ));
    }
    let subject_type = subject.type_name();
    let subject_definition = source
        .type_definition(subject_type)
        .ok_or_else(|| format!("type `{subject_type}` is not defined in the model"))?;
    if let SubjectRef::Userset { relation, .. } = subject
        && !subject_definition.relations.contains(relation)
    {
        return Err(format!(
            "relation `{relation}` is not defined on type `{subject_type}`"
        ));
    }

    let shape_matches = |r: &&crate::graph::model::RelationReference| {
        r.type_name == subject_type
            && match subject {
                SubjectRef::Object(_) => r.relation.is_none() && !r.is_wildcard(),
                SubjectRef::Wildcard { .. } => r.is_wildcard(),
                SubjectRef::Userset { relation, .. } => r.relation.as_deref() == Some(relation),
            }
    };
    let condition = tuple.condition.as_ref().map_or("", |c| c.name.as_str());
    let mut shapes = restrictions.iter().filter(shape_matches).peekable();
    if shapes.peek().is_none() {
        let allowed: Vec<String> = restrictions.iter().map(ToString::to_string).collect();
        return Err(format!(
            "`{}` is not an allowed type for `{}#{}` (allowed: {})",
            display_subject(subject),
            object.type_name,
            tuple.relation,
            allowed.join(", ")
        ));
    }
    if !shapes.any(|r| r.condition == condition) {
        return Err(if condition.is_empty() {
            format!(
                "`{}#{}` requires a condition for this subject type",
                object.type_name, tuple.relation
            )
        } else {
            format!(
                "condition `{condition}` is not allowed for this subject type on `{}#{}`",
                object.type_name, tuple.relation
            )
        });
    }
    if let Some(c) = &tuple.condition {
        let declared = source
            .conditions
            .get(&c.name)
            .ok_or_else(|| format!("condition `{}` is not defined", c.name))?;
        if let Some(context) = &c.context
            && let Some(unknown) = context
                .keys()
                .find(|k| !declared.parameters.contains_key(*k))
        {
            return Err(format!(
                "condition `{}` has no parameter `{unknown}`",
                c.name
            ));
        }
    }
    Ok(())
}

fn display_subject(subject: SubjectRef<'_>) -> String {
    match subject {
        SubjectRef::Object(o) => o.type_name.to_owned(),
        SubjectRef::Wildcard { type_name } => format!("{type_name}:*"),
        SubjectRef::Userset { object, relation } => format!("{}#{relation}", object.type_name),
    }
}

/// What a validated write will do.
struct WritePlan {
    /// Writes of tuples that already exist (ignored).
    skip_writes: Vec<bool>,
    /// Deletes of tuples that do not exist (ignored).
    skip_deletes: Vec<bool>,
    /// A replayed tuple the latest model forbids is kept.
    keeps_forbidden: bool,
}
