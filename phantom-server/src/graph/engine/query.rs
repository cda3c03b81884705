//! The read queries: Check, ListObjects, ListUsers, Expand.
//!
//! ListObjects walks backwards from the user to collect candidate objects, ListUsers walks
//! forwards from the object to collect candidate users; both then confirm every candidate
//! with Check, so intersections, exclusions and conditions are decided in one place.
//!
//! Neither has a result limit or a deadline: a query whose reachable set is huge runs to
//! completion. OpenFGA caps ListObjects at 1000 results and a deadline; adding `max_results`
//! and an `Instant` deadline to the requests and testing them in the candidate loops would do
//! the same here.

use std::collections::{BTreeSet, VecDeque};

use rustc_hash::FxHashSet;

use super::check::{Evaluator, UserKey};
use super::expand::{
    Computed, DifferenceNode, ExpandNode, Leaf, NodeKind, Nodes, TupleToUsersetLeaf, Users,
    UsersetTree,
};
use super::graph::{Graph, validate_tuple};
use super::intern::{NO_REL, ObjId, Sym};
use super::overlay::{Overlay, Tuples};
use super::request::{
    CheckRequest, CheckResponse, ExpandRequest, ListObjectsRequest, ListUsersRequest,
};
use super::schema::{CompiledModel, Dependent, Rewrite};
use super::store::StoredCondition;
use crate::graph::error::GraphError;
use crate::graph::tuple::{SubjectRef, TupleKey, parse_object, parse_relation, parse_subject};

/// How a request names a type or relation the model lacks: Check reports every such
/// problem as a validation error, ListObjects and ListUsers as type / relation not found.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strictness {
    Validation,
    NotFound,
}

impl Graph {
    /// Whether the user has the relation on the object.
    ///
    /// # Errors
    ///
    /// [`GraphError::InvalidRequest`] for a malformed request or one naming types or relations
    /// the model lacks, [`GraphError::InvalidTuple`] for a bad contextual tuple,
    /// [`GraphError::Condition`] when a condition that decides the answer lacks parameters,
    /// [`GraphError::DepthExceeded`] past the depth limit.
    pub fn check(&self, request: &CheckRequest<'_>) -> Result<CheckResponse, GraphError> {
        let model = self.resolve_model(request.model_id)?;
        let mut overlay = Overlay::new(&self.store, &self.names);
        let (obj, rel) = self.resolve_object_relation(
            &mut overlay,
            model,
            request.object,
            request.relation,
            Strictness::Validation,
        )?;
        let user = self.resolve_user(&mut overlay, model, request.user)?;
        self.add_contextual(&mut overlay, model, request.contextual_tuples)?;

        let tuples = Tuples {
            store: &self.store,
            overlay: &overlay,
            names: &self.names,
        };
        let mut eval = self.evaluator(tuples, model, request.context, user);
        eval.explain = request.explain;
        let step = eval.check(obj, rel);
        let allowed = step.value.map_err(|e| *e)?;
        Ok(CheckResponse {
            allowed,
            revision: self.revision(),
            why: step.why.map(|w| *w),
        })
    }

    /// The objects of a type on which the user has the relation, sorted.
    ///
    /// # Errors
    ///
    /// [`GraphError::TypeNotFound`] / [`GraphError::RelationNotFound`] for a type or relation
    /// the model lacks, [`GraphError::InvalidRequest`] for a malformed user, and the errors of
    /// [`Graph::check`] for the candidates.
    pub fn list_objects(
        &self,
        request: &ListObjectsRequest<'_>,
    ) -> Result<Vec<String>, GraphError> {
        let model = self.resolve_model(request.model_id)?;
        let mut overlay = Overlay::new(&self.store, &self.names);
        let (type_sym, rel) =
            self.resolve_type_relation(&mut overlay, model, request.object_type, request.relation)?;
        let user = self.resolve_user(&mut overlay, model, request.user)?;
        self.add_contextual(&mut overlay, model, request.contextual_tuples)?;
        let tuples = Tuples {
            store: &self.store,
            overlay: &overlay,
            names: &self.names,
        };

        let candidates = reverse_candidates(tuples, model, user, type_sym, rel);
        let mut eval = self.evaluator(tuples, model, request.context, user);
        let mut out = BTreeSet::new();
        for obj in candidates {
            if eval.check(obj, rel).value.map_err(|e| *e)? {
                out.insert(tuples.object_name(obj).to_owned());
            }
        }
        Ok(out.into_iter().collect())
    }

    /// The users of the filtered types that have the relation on the object, sorted:
    /// `type:id`, `type:*` (every user of the type) and `type:id#relation` usersets.
    ///
    /// # Errors
    ///
    /// [`GraphError::TypeNotFound`] / [`GraphError::RelationNotFound`] for names the model
    /// lacks, [`GraphError::Condition`] when any reached condition lacks parameters (every
    /// branch is evaluated), and the errors of [`Graph::check`].
    pub fn list_users(&self, request: &ListUsersRequest<'_>) -> Result<Vec<String>, GraphError> {
        let model = self.resolve_model(request.model_id)?;
        let mut overlay = Overlay::new(&self.store, &self.names);
        let (obj, rel) = self.resolve_object_relation(
            &mut overlay,
            model,
            request.object,
            request.relation,
            Strictness::NotFound,
        )?;
        let mut filters: Vec<(Sym, Sym)> = Vec::new();
        for filter in request.user_filters {
            let type_sym = match model {
                Some(m) => self
                    .names
                    .get(&filter.type_name)
                    .filter(|s| m.has_type(*s))
                    .ok_or_else(|| GraphError::TypeNotFound(filter.type_name.clone()))?,
                None => overlay.sym(&self.names, &filter.type_name),
            };
            let rel_sym = match (&filter.relation, model) {
                (None, _) => NO_REL,
                (Some(r), Some(m)) => self
                    .names
                    .get(r)
                    .filter(|s| m.relation(type_sym, *s).is_some())
                    .ok_or_else(|| GraphError::RelationNotFound {
                        type_name: filter.type_name.clone(),
                        relation: r.clone(),
                    })?,
                (Some(r), None) => overlay.sym(&self.names, r),
            };
            filters.push((type_sym, rel_sym));
        }
        self.add_contextual(&mut overlay, model, request.contextual_tuples)?;
        let tuples = Tuples {
            store: &self.store,
            overlay: &overlay,
            names: &self.names,
        };

        let scan = self.evaluator(tuples, model, request.context, UserKey::Object(obj));
        let candidates = forward_candidates(scan, obj, rel, &filters)?;
        let mut out = BTreeSet::new();
        for user in candidates {
            let mut eval = self.evaluator(tuples, model, request.context, user);
            if eval.check(obj, rel).value.map_err(|e| *e)? {
                out.insert(match user {
                    UserKey::Object(u) | UserKey::Wildcard(u) => tuples.object_name(u).to_owned(),
                    UserKey::Userset(u, r) => {
                        format!("{}#{}", tuples.object_name(u), tuples.sym_name(r))
                    }
                });
            }
        }
        Ok(out.into_iter().collect())
    }

    /// The userset tree of the relation on the object, one level deep, as OpenFGA's Expand.
    /// Conditions are not evaluated: conditioned tuples are listed.
    ///
    /// # Errors
    ///
    /// [`GraphError::TypeNotFound`] / [`GraphError::RelationNotFound`] for names the model
    /// lacks, [`GraphError::InvalidTuple`] for a bad contextual tuple.
    pub fn expand(&self, request: &ExpandRequest<'_>) -> Result<UsersetTree, GraphError> {
        let model = self.resolve_model(request.model_id)?;
        let mut overlay = Overlay::new(&self.store, &self.names);
        let (obj, rel) = self.resolve_object_relation(
            &mut overlay,
            model,
            request.object,
            request.relation,
            Strictness::NotFound,
        )?;
        self.add_contextual(&mut overlay, model, request.contextual_tuples)?;
        let tuples = Tuples {
            store: &self.store,
            overlay: &overlay,
            names: &self.names,
        };
        let eval = Evaluator::new(
            tuples,
            model,
            None,
            UserKey::Object(obj),
            self.config.max_depth,
        );

        let name = format!("{}#{}", request.object, request.relation);
        let root = match model.and_then(|m| m.relation(tuples.type_of(obj), rel)) {
            Some(relation) => expand_rewrite(&eval, obj, rel, &relation.rewrite, &name),
            None => ExpandNode {
                name: name.clone(),
                kind: NodeKind::Leaf(direct_leaf(&eval, obj, rel)),
            },
        };
        Ok(UsersetTree { root })
    }

    fn evaluator<'a>(
        &self,
        tuples: Tuples<'a>,
        model: Option<&'a CompiledModel>,
        context: Option<&'a serde_json::Map<String, serde_json::Value>>,
        user: UserKey,
    ) -> Evaluator<'a> {
        let mut eval = Evaluator::new(tuples, model, context, user, self.config.max_depth);
        eval.parameters = self.config.parameters;
        eval.trusted = self.latest_fits
            && model.is_some_and(|m| {
                self.models
                    .last()
                    .is_some_and(|latest| std::ptr::eq(latest.as_ref(), m))
            });
        eval
    }

    // ---- request resolution ----

    fn resolve_object_relation(
        &self,
        overlay: &mut Overlay,
        model: Option<&CompiledModel>,
        object: &str,
        relation: &str,
        strictness: Strictness,
    ) -> Result<(ObjId, Sym), GraphError> {
        let invalid = |e: &dyn std::fmt::Display| GraphError::InvalidRequest(e.to_string());
        let parsed = parse_object(object).map_err(|e| invalid(&e))?;
        parse_relation(relation).map_err(|e| invalid(&e))?;
        let (type_sym, rel) = match model {
            Some(m) => {
                let type_sym = self.names.get(parsed.type_name).filter(|s| m.has_type(*s));
                let Some(type_sym) = type_sym else {
                    let e = GraphError::TypeNotFound(parsed.type_name.to_owned());
                    return Err(if strictness == Strictness::Validation {
                        invalid(&e)
                    } else {
                        e
                    });
                };
                let rel = self
                    .names
                    .get(relation)
                    .filter(|r| m.relation(type_sym, *r).is_some());
                let Some(rel) = rel else {
                    let e = GraphError::RelationNotFound {
                        type_name: parsed.type_name.to_owned(),
                        relation: relation.to_owned(),
                    };
                    return Err(if strictness == Strictness::Validation {
                        invalid(&e)
                    } else {
                        e
                    });
                };
                (type_sym, rel)
            }
            None => (
                overlay.sym(&self.names, parsed.type_name),
                overlay.sym(&self.names, relation),
            ),
        };
        Ok((overlay.object(&self.store, object, type_sym, false), rel))
    }

    fn resolve_type_relation(
        &self,
        overlay: &mut Overlay,
        model: Option<&CompiledModel>,
        type_name: &str,
        relation: &str,
    ) -> Result<(Sym, Sym), GraphError> {
        match model {
            Some(m) => {
                let type_sym = self
                    .names
                    .get(type_name)
                    .filter(|s| m.has_type(*s))
                    .ok_or_else(|| GraphError::TypeNotFound(type_name.to_owned()))?;
                let rel = self
                    .names
                    .get(relation)
                    .filter(|r| m.relation(type_sym, *r).is_some())
                    .ok_or_else(|| GraphError::RelationNotFound {
                        type_name: type_name.to_owned(),
                        relation: relation.to_owned(),
                    })?;
                Ok((type_sym, rel))
            }
            None => Ok((
                overlay.sym(&self.names, type_name),
                overlay.sym(&self.names, relation),
            )),
        }
    }

    fn resolve_user(
        &self,
        overlay: &mut Overlay,
        model: Option<&CompiledModel>,
        user: &str,
    ) -> Result<UserKey, GraphError> {
        let invalid = |m: String| GraphError::InvalidRequest(m);
        let subject = parse_subject(user).map_err(|e| invalid(e.to_string()))?;
        let type_name = subject.type_name();
        let type_sym = match model {
            Some(m) => self
                .names
                .get(type_name)
                .filter(|s| m.has_type(*s))
                .ok_or_else(|| {
                    invalid(format!(
                        "user type `{type_name}` is not defined in the model"
                    ))
                })?,
            None => overlay.sym(&self.names, type_name),
        };
        Ok(match subject {
            SubjectRef::Object(_) => {
                UserKey::Object(overlay.object(&self.store, user, type_sym, false))
            }
            SubjectRef::Wildcard { .. } => {
                UserKey::Wildcard(overlay.object(&self.store, user, type_sym, true))
            }
            SubjectRef::Userset { object, relation } => {
                let rel = match model {
                    Some(m) => self
                        .names
                        .get(relation)
                        .filter(|r| m.relation(type_sym, *r).is_some())
                        .ok_or_else(|| {
                            invalid(format!(
                                "relation `{relation}` is not defined on type `{type_name}`"
                            ))
                        })?,
                    None => overlay.sym(&self.names, relation),
                };
                let name = format!("{}:{}", object.type_name, object.id);
                UserKey::Userset(overlay.object(&self.store, &name, type_sym, false), rel)
            }
        })
    }

    fn add_contextual(
        &self,
        overlay: &mut Overlay,
        model: Option<&CompiledModel>,
        tuples: &[TupleKey],
    ) -> Result<(), GraphError> {
        for tuple in tuples {
            tuple
                .validate_syntax()
                .map_err(|e| GraphError::from_tuple_error(tuple, &e))?;
            if let Some(model) = model {
                validate_tuple(model, tuple)
                    .map_err(|reason| GraphError::invalid_tuple(tuple, reason))?;
            } else if tuple.condition.is_some() {
                return Err(GraphError::invalid_tuple(
                    tuple,
                    "a condition needs a model that declares it",
                ));
            }
            let (Ok(object), Ok(subject)) =
                (parse_object(&tuple.object), parse_subject(&tuple.user))
            else {
                continue;
            };
            let object_type = overlay.sym(&self.names, object.type_name);
            let object_id = overlay.object(&self.store, &tuple.object, object_type, false);
            let rel = overlay.sym(&self.names, &tuple.relation);
            let subject_type = overlay.sym(&self.names, subject.type_name());
            let (subject_id, subj_rel) = match subject {
                SubjectRef::Object(_) => (
                    overlay.object(&self.store, &tuple.user, subject_type, false),
                    NO_REL,
                ),
                SubjectRef::Wildcard { .. } => (
                    overlay.object(&self.store, &tuple.user, subject_type, true),
                    NO_REL,
                ),
                SubjectRef::Userset {
                    object: o,
                    relation,
                } => {
                    let name = format!("{}:{}", o.type_name, o.id);
                    (
                        overlay.object(&self.store, &name, subject_type, false),
                        overlay.sym(&self.names, relation),
                    )
                }
            };
            let condition = tuple.condition.as_ref().map(|c| StoredCondition {
                name: overlay.sym(&self.names, &c.name),
                context: c
                    .context
                    .clone()
                    .filter(|m| !m.is_empty())
                    .map(std::sync::Arc::new),
            });
            overlay.insert(object_id, rel, subject_id, subj_rel, condition);
        }
        Ok(())
    }
}

/// Objects of `type_sym` that may have `rel` for the user: every object reachable backwards
/// from the user through tuples, computed relations and tuple-to-usersets. A superset; each
/// candidate is then checked.
fn reverse_candidates(
    tuples: Tuples<'_>,
    model: Option<&CompiledModel>,
    user: UserKey,
    type_sym: Sym,
    rel: Sym,
) -> Vec<ObjId> {
    let mut seen: FxHashSet<(ObjId, Sym)> = FxHashSet::default();
    let mut queue: VecDeque<(ObjId, Sym)> = VecDeque::new();
    let mut out = Vec::new();

    // Objects whose tuples name the subject key directly.
    let push_holders = |subject: ObjId, subj_rel: Sym, queue: &mut VecDeque<(ObjId, Sym)>| {
        for node in tuples.nodes(subject) {
            for edge in node.inc_rel(subj_rel) {
                queue.push_back((edge.object, edge.rel));
            }
        }
    };
    match user {
        UserKey::Object(u) => {
            push_holders(u, NO_REL, &mut queue);
            if let Some(w) = tuples.wildcard(tuples.type_of(u)) {
                push_holders(w, NO_REL, &mut queue);
            }
        }
        UserKey::Wildcard(w) => push_holders(w, NO_REL, &mut queue),
        UserKey::Userset(o, r) => queue.push_back((o, r)),
    }

    while let Some((obj, r)) = queue.pop_front() {
        if !seen.insert((obj, r)) {
            continue;
        }
        let obj_type = tuples.type_of(obj);
        if obj_type == type_sym && r == rel {
            out.push(obj);
        }
        // Tuples whose subject is the userset obj#r.
        push_holders(obj, r, &mut queue);
        let Some(model) = model else { continue };
        for dependent in model.dependents(obj_type, r) {
            match *dependent {
                Dependent::Computed { relation } => queue.push_back((obj, relation)),
                Dependent::TupleToUserset {
                    object_type,
                    tupleset,
                    relation,
                } => {
                    for node in tuples.nodes(obj) {
                        for edge in &node.inc {
                            if edge.rel == tupleset && tuples.type_of(edge.object) == object_type {
                                queue.push_back((edge.object, relation));
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// Users matching the filters that may have `rel` on `obj`: every subject reachable forwards.
/// Conditions on traversed tuples are evaluated strictly, so a missing parameter anywhere is
/// an error (OpenFGA's ListUsers evaluates every branch).
fn forward_candidates(
    mut eval: Evaluator<'_>,
    obj: ObjId,
    rel: Sym,
    filters: &[(Sym, Sym)],
) -> Result<Vec<UserKey>, GraphError> {
    let (tuples, model) = (eval.tuples, eval.model);
    let mut seen: FxHashSet<(ObjId, Sym)> = FxHashSet::default();
    let mut queue: VecDeque<(ObjId, Sym)> = VecDeque::from([(obj, rel)]);
    let mut out: Vec<UserKey> = Vec::new();
    let mut added: FxHashSet<UserKey> = FxHashSet::default();
    let mut add = |user: UserKey, out: &mut Vec<UserKey>| {
        if added.insert(user) {
            out.push(user);
        }
    };

    while let Some((o, r)) = queue.pop_front() {
        if !seen.insert((o, r)) {
            continue;
        }
        let o_type = tuples.type_of(o);
        if filters.contains(&(o_type, r)) {
            add(UserKey::Userset(o, r), &mut out);
        }
        let relation = match model {
            Some(m) => match m.relation(o_type, r) {
                Some(relation) => Some(relation),
                None => continue,
            },
            None => None,
        };
        let mut rewrites: Vec<&Rewrite> = relation
            .map(|r| vec![&r.rewrite])
            .unwrap_or_else(|| vec![&Rewrite::This]);
        while let Some(rewrite) = rewrites.pop() {
            match rewrite {
                Rewrite::This => {
                    for node in tuples.nodes(o) {
                        for edge in node.out_rel(r) {
                            if !eval.allowed(relation, edge) || !eval.edge_condition(edge.cond)? {
                                continue;
                            }
                            let subject_type = tuples.type_of(edge.subject);
                            if edge.subj_rel == NO_REL {
                                if filters.contains(&(subject_type, NO_REL)) {
                                    let key = if tuples.is_wildcard(edge.subject) {
                                        UserKey::Wildcard(edge.subject)
                                    } else {
                                        UserKey::Object(edge.subject)
                                    };
                                    add(key, &mut out);
                                }
                            } else {
                                queue.push_back((edge.subject, edge.subj_rel));
                            }
                        }
                    }
                }
                Rewrite::Computed(c) => queue.push_back((o, *c)),
                // An every-parent arrow reaches the same subjects; the check that
                // follows keeps those every parent grants.
                Rewrite::TupleToUserset {
                    tupleset, computed, ..
                } => {
                    for edge in eval.parent_links(o, *tupleset) {
                        if eval.edge_condition(edge.cond)? {
                            queue.push_back((edge.subject, *computed));
                        }
                    }
                }
                Rewrite::Union(c) | Rewrite::Intersection(c) => rewrites.extend(c.iter()),
                Rewrite::Difference(d) => rewrites.extend([&d.0, &d.1]),
            }
        }
    }
    Ok(out)
}

fn direct_leaf(eval: &Evaluator<'_>, obj: ObjId, rel: Sym) -> Leaf {
    let relation = eval
        .model
        .and_then(|m| m.relation(eval.tuples.type_of(obj), rel));
    let mut users = BTreeSet::new();
    for node in eval.tuples.nodes(obj) {
        for edge in node.out_rel(rel) {
            if eval.allowed(relation, edge) {
                users.insert(eval.tuple_key(obj, edge).user);
            }
        }
    }
    Leaf {
        users: Some(Users {
            users: users.into_iter().collect(),
        }),
        ..Leaf::default()
    }
}

/// `parent#computed` for every parent the tupleset links `obj` to, sorted.
fn parent_usersets(
    eval: &Evaluator<'_>,
    obj: ObjId,
    tupleset: Sym,
    computed: Sym,
) -> BTreeSet<String> {
    let t = &eval.tuples;
    eval.parent_links(obj, tupleset)
        .map(|edge| format!("{}#{}", t.object_name(edge.subject), t.sym_name(computed)))
        .collect()
}

fn expand_rewrite(
    eval: &Evaluator<'_>,
    obj: ObjId,
    rel: Sym,
    rewrite: &Rewrite,
    name: &str,
) -> ExpandNode {
    let t = &eval.tuples;
    let kind = match rewrite {
        Rewrite::This => NodeKind::Leaf(direct_leaf(eval, obj, rel)),
        Rewrite::Computed(c) => NodeKind::Leaf(Leaf {
            computed: Some(Computed {
                userset: format!("{}#{}", t.object_name(obj), t.sym_name(*c)),
            }),
            ..Leaf::default()
        }),
        Rewrite::TupleToUserset {
            tupleset,
            computed,
            all: false,
        } => {
            let parents = parent_usersets(eval, obj, *tupleset, *computed);
            NodeKind::Leaf(Leaf {
                tuple_to_userset: Some(TupleToUsersetLeaf {
                    tupleset: format!("{}#{}", t.object_name(obj), t.sym_name(*tupleset)),
                    computed: parents
                        .into_iter()
                        .map(|userset| Computed { userset })
                        .collect(),
                }),
                ..Leaf::default()
            })
        }
        // Every parent must grant it: an intersection of one computed userset per parent.
        Rewrite::TupleToUserset {
            tupleset,
            computed,
            all: true,
        } => {
            let parents = parent_usersets(eval, obj, *tupleset, *computed);
            NodeKind::Intersection(Nodes {
                nodes: parents
                    .into_iter()
                    .map(|userset| ExpandNode {
                        name: name.to_owned(),
                        kind: NodeKind::Leaf(Leaf {
                            computed: Some(Computed { userset }),
                            ..Leaf::default()
                        }),
                    })
                    .collect(),
            })
        }
        Rewrite::Union(c) => NodeKind::Union(Nodes {
            nodes: c
                .iter()
                .map(|r| expand_rewrite(eval, obj, rel, r, name))
                .collect(),
        }),
        Rewrite::Intersection(c) => NodeKind::Intersection(Nodes {
            nodes: c
                .iter()
                .map(|r| expand_rewrite(eval, obj, rel, r, name))
                .collect(),
        }),
        Rewrite::Difference(d) => NodeKind::Difference(DifferenceNode {
            base: Box::new(expand_rewrite(eval, obj, rel, &d.0, name)),
            subtract: Box::new(expand_rewrite(eval, obj, rel, &d.1, name)),
        }),
    };
    ExpandNode {
        name: name.to_owned(),
        kind,
    }
}
