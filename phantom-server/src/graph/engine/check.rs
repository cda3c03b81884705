//! Check: does a user have a relation on an object?
//!
//! A depth-first walk of the rewrites with OpenFGA's three-valued combination: an error
//! (a condition missing a parameter, the depth limit) behaves as "unknown", so a union that
//! finds a true branch is true, an intersection with a false branch is false, and otherwise
//! the error is the answer. A relation reached again on the current path is a cycle and
//! answers false. Results that do not depend on such a cut are memoised for the request.
//!
//! As in OpenFGA, a cycle also marks the false answer it produced, and an exclusion whose
//! subtracted side met a cycle is false. With exclusions inside cycles the answer can depend
//! on the order of evaluation (OpenFGA's concurrent resolver has the same property); for
//! models without exclusion the answer is the least fixpoint, which the property tests check
//! against a reference.

use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use super::condition::{ConditionError, ParameterPolicy};
use super::intern::{NO_REL, ObjId, Sym};
use super::overlay::Tuples;
use super::schema::{CompiledModel, Relation, Rewrite};
use super::store::{NO_COND, OutEdge, WILDCARD_BIT};
use super::why::Why;
use crate::graph::error::GraphError;
use crate::graph::tuple::TupleKey;

/// The user a query is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UserKey {
    /// `type:id`.
    Object(ObjId),
    /// `type:*`, by the id of the wildcard object.
    Wildcard(ObjId),
    /// `type:id#relation`.
    Userset(ObjId, Sym),
}

/// The result of evaluating one node.
pub struct Step {
    /// The answer; errors are boxed to keep steps small (they are rare and steps are moved
    /// up every level).
    pub value: Result<bool, Box<GraphError>>,
    /// The lowest stack index of a cycle cut this result depends on (`usize::MAX`: none).
    pub low: usize,
    /// Whether a false result came from a cycle somewhere below. OpenFGA propagates this
    /// flag, and an exclusion whose subtracted side hit a cycle is false, not true.
    pub cycle: bool,
    pub why: Option<Box<Why>>,
}

impl Step {
    fn yes(why: Option<Why>) -> Self {
        Self {
            value: Ok(true),
            low: usize::MAX,
            cycle: false,
            why: why.map(Box::new),
        }
    }

    fn no() -> Self {
        Self {
            value: Ok(false),
            low: usize::MAX,
            cycle: false,
            why: None,
        }
    }

    fn err(e: GraphError) -> Self {
        Self {
            value: Err(Box::new(e)),
            low: usize::MAX,
            cycle: false,
            why: None,
        }
    }

    fn is_true(&self) -> bool {
        matches!(self.value, Ok(true))
    }
}

/// Union accumulator: true wins; otherwise the first error; otherwise false.
struct Any {
    err: Option<Box<GraphError>>,
    low: usize,
    cycle: bool,
}

impl Any {
    fn new() -> Self {
        Self {
            err: None,
            low: usize::MAX,
            cycle: false,
        }
    }

    fn error(&mut self, e: Box<GraphError>) {
        self.err.get_or_insert(e);
    }

    /// Adds a branch; returns it when it is true (the union is decided).
    fn add(&mut self, step: Step) -> Option<Step> {
        self.low = self.low.min(step.low);
        self.cycle |= step.cycle;
        match step.value {
            Ok(true) => Some(Step {
                low: self.low,
                ..step
            }),
            Ok(false) => None,
            Err(e) => {
                self.error(e);
                None
            }
        }
    }

    fn finish(self) -> Step {
        Step {
            value: self.err.map_or(Ok(false), Err),
            low: self.low,
            cycle: self.cycle,
            why: None,
        }
    }
}

/// Intersection accumulator: false wins; otherwise the first error; otherwise true, with
/// one proof per branch.
struct All {
    err: Option<Box<GraphError>>,
    low: usize,
    whys: Vec<Why>,
}

impl All {
    fn new() -> Self {
        Self {
            err: None,
            low: usize::MAX,
            whys: Vec::new(),
        }
    }

    /// Adds a branch; `Some` is the answer when the branch is false, since no later branch
    /// can change it. `proof` turns a true branch's proof into the one kept.
    fn add(&mut self, step: Step, proof: impl FnOnce(Box<Why>) -> Why) -> Option<Step> {
        self.low = self.low.min(step.low);
        match step.value {
            Ok(true) => {
                self.whys.extend(step.why.map(proof));
                None
            }
            Ok(false) => Some(Step {
                value: Ok(false),
                low: self.low,
                cycle: step.cycle,
                why: None,
            }),
            Err(e) => {
                self.err.get_or_insert(e);
                None
            }
        }
    }

    fn finish(self, explain: bool) -> Step {
        match self.err {
            Some(e) => Step {
                value: Err(e),
                low: self.low,
                cycle: false,
                why: None,
            },
            None => Step {
                value: Ok(true),
                low: self.low,
                cycle: false,
                why: explain.then(|| {
                    Box::new(Why::All {
                        branches: self.whys,
                    })
                }),
            },
        }
    }
}

/// Whether `relation` (the current model's) lets this tuple be read: tuples written under an
/// older model that the current one no longer allows are ignored. `trusted` says every tuple
/// is known to fit.
#[inline]
fn edge_allowed(
    tuples: Tuples<'_>,
    trusted: bool,
    relation: Option<&Relation>,
    edge: &OutEdge,
) -> bool {
    let Some(relation) = relation else {
        return true;
    };
    if trusted {
        return true;
    }
    let kind = tuples.kind(edge.subject);
    let cond = if edge.cond == NO_COND {
        NO_REL
    } else {
        tuples.condition(edge.cond).map_or(NO_REL, |c| c.name)
    };
    relation.allows(
        kind & !WILDCARD_BIT,
        edge.subj_rel,
        kind & WILDCARD_BIT != 0,
        cond,
    )
}

thread_local! {
    /// A memo table kept per thread between requests, so that a check allocates nothing once
    /// the table has grown to the size checks need.
    static SCRATCH: std::cell::Cell<Scratch> = std::cell::Cell::new(Scratch::default());
}

/// How many computed relations the quick pre-check follows (it also stops cycles).
const QUICK_DEPTH: u32 = 6;

/// Memo tables larger than this are dropped rather than kept for the next request.
const SCRATCH_KEEP: usize = 4096;

/// The evaluator's working memory.
#[derive(Default)]
struct Scratch {
    memo: Memo,
    stack: Vec<u64>,
}

/// Results per `(object, relation)` for one user: a short list scanned linearly (most checks
/// settle a few dozen relations, where a scan beats hashing), spilling into a hash map.
#[derive(Default)]
struct Memo {
    few: Vec<(u64, bool, bool)>,
    many: FxHashMap<u64, (bool, bool)>,
}

/// Entries kept in [`Memo::few`] before spilling into the map.
const MEMO_SCAN: usize = 32;

impl Memo {
    #[inline]
    fn get(&self, key: u64) -> Option<(bool, bool)> {
        if let Some(&(_, v, c)) = self.few.iter().find(|e| e.0 == key) {
            return Some((v, c));
        }
        if self.many.is_empty() {
            None
        } else {
            self.many.get(&key).copied()
        }
    }

    #[inline]
    fn insert(&mut self, key: u64, value: (bool, bool)) {
        if self.few.len() < MEMO_SCAN {
            self.few.push((key, value.0, value.1));
        } else {
            self.many.insert(key, value);
        }
    }

    fn capacity(&self) -> usize {
        self.few.capacity() + self.many.capacity()
    }

    fn clear(&mut self) {
        self.few.clear();
        self.many.clear();
    }
}

impl Drop for Evaluator<'_> {
    fn drop(&mut self) {
        let mut memo = std::mem::take(&mut self.memo);
        let mut stack = std::mem::take(&mut self.stack);
        if memo.capacity() <= SCRATCH_KEEP {
            memo.clear();
            stack.clear();
            SCRATCH.with(|s| s.set(Scratch { memo, stack }));
        }
    }
}

/// Evaluates checks for one user within one request.
pub struct Evaluator<'a> {
    pub tuples: Tuples<'a>,
    pub model: Option<&'a CompiledModel>,
    pub context: Option<&'a Map<String, Value>>,
    pub user: UserKey,
    /// The subject keys a direct tuple must have to name the user: the user itself and, for
    /// an object, its type's wildcard. Fixed per evaluator, so computed once.
    exact: [Option<(ObjId, Sym)>; 2],
    pub max_depth: u32,
    pub explain: bool,
    pub parameters: ParameterPolicy,
    /// Every tuple this evaluator can read is known to fit the model's type restrictions
    /// (the model is the latest and no stored tuple predates it in a way it forbids), so
    /// [`Evaluator::allowed`] need not look.
    pub trusted: bool,
    memo: Memo,
    stack: Vec<u64>,
    cond_memo: FxHashMap<u32, Result<bool, ConditionError>>,
}

impl<'a> Evaluator<'a> {
    pub fn new(
        tuples: Tuples<'a>,
        model: Option<&'a CompiledModel>,
        context: Option<&'a Map<String, Value>>,
        user: UserKey,
        max_depth: u32,
    ) -> Self {
        let exact = match user {
            UserKey::Object(u) => [
                Some((u, NO_REL)),
                tuples.wildcard(tuples.type_of(u)).map(|w| (w, NO_REL)),
            ],
            UserKey::Wildcard(w) => [Some((w, NO_REL)), None],
            UserKey::Userset(o, r) => [Some((o, r)), None],
        };
        let scratch = SCRATCH.with(std::cell::Cell::take);
        Self {
            tuples,
            model,
            context,
            user,
            exact,
            max_depth,
            explain: false,
            parameters: ParameterPolicy::AllDeclared,
            trusted: false,
            memo: scratch.memo,
            stack: scratch.stack,
            cond_memo: FxHashMap::default(),
        }
    }

    /// Whether the user has `rel` on `obj`.
    pub fn check(&mut self, obj: ObjId, rel: Sym) -> Step {
        self.check_relation(obj, rel, 0)
    }

    /// Evaluates a stored condition for this request, memoised per condition slot.
    pub fn edge_condition(&mut self, cond: u32) -> Result<bool, GraphError> {
        if cond == NO_COND {
            return Ok(true);
        }
        if let Some(r) = self.cond_memo.get(&cond) {
            return r.clone().map_err(GraphError::Condition);
        }
        let (Some(model), Some(stored)) = (self.model, self.tuples.condition(cond)) else {
            return Ok(false);
        };
        // A condition the current model no longer declares cannot grant anything; the type
        // restrictions filter such tuples out before we get here.
        let Some(compiled) = model.condition(stored.name) else {
            return Ok(false);
        };
        let result =
            compiled.evaluate_with(stored.context.as_deref(), self.context, self.parameters);
        self.cond_memo.insert(cond, result.clone());
        result.map_err(GraphError::Condition)
    }

    /// Whether the current model lets `relation` read this tuple (tuples written under an
    /// older model that the current one no longer allows are ignored).
    #[inline]
    pub fn allowed(&self, relation: Option<&Relation>, edge: &OutEdge) -> bool {
        edge_allowed(self.tuples, self.trusted, relation, edge)
    }

    /// The links a tuple-to-userset follows from `obj` through `tupleset`: its parents.
    /// Wildcards are never parents, and tuples the current model forbids are ignored.
    /// Usersets stay: OpenFGA's type restrictions keep them out of a tupleset, and in a model
    /// translated from SpiceDB their object is the parent (SpiceDB arrows ignore the subject
    /// relation). The iterator borrows the graph, not the evaluator, so each parent can be
    /// evaluated as it comes.
    pub fn parent_links(
        &self,
        obj: ObjId,
        tupleset: Sym,
    ) -> impl Iterator<Item = &'a OutEdge> + use<'a> {
        let (tuples, trusted) = (self.tuples, self.trusted);
        let relation = self
            .model
            .and_then(|m| m.relation(tuples.type_of(obj), tupleset));
        tuples
            .nodes(obj)
            .flat_map(move |node| node.out_rel(tupleset))
            .filter(move |edge| {
                !tuples.is_wildcard(edge.subject) && edge_allowed(tuples, trusted, relation, edge)
            })
    }

    fn check_relation(&mut self, obj: ObjId, rel: Sym, depth: u32) -> Step {
        if self.user == UserKey::Userset(obj, rel) {
            return Step::yes(self.explain.then(|| Why::SameUserset {
                userset: self.userset_name(obj, rel),
            }));
        }
        // A relation that is only direct tuples of plain subjects (`define owner: [user]`)
        // cannot lead anywhere else: no cycle, nothing worth remembering. Answer it directly.
        if let Some(model) = self.model
            && let Some(relation) = model.relation(self.tuples.type_of(obj), rel)
            && relation.is_leaf()
        {
            if depth >= self.max_depth {
                return Step::err(GraphError::DepthExceeded(self.max_depth));
            }
            return self.direct(obj, rel, Some(relation), depth);
        }

        let key = (u64::from(obj) << 32) | u64::from(rel);
        if !self.explain
            && let Some((v, cycle)) = self.memo.get(key)
        {
            return Step {
                value: Ok(v),
                low: usize::MAX,
                cycle,
                why: None,
            };
        }
        if let Some(i) = self.stack.iter().position(|k| *k == key) {
            return Step {
                value: Ok(false),
                low: i,
                cycle: true,
                why: None,
            };
        }
        if depth >= self.max_depth {
            return Step::err(GraphError::DepthExceeded(self.max_depth));
        }
        let relation = match self.model {
            Some(model) => match model.relation(self.tuples.type_of(obj), rel) {
                Some(r) => Some(r),
                None => return Step::no(),
            },
            None => None,
        };

        // Before walking the graph from the queried relation, look for a tuple that grants it
        // outright through unions and computed relations: a few lookups that settle most
        // allowed checks. (Deeper down the walk does these lookups itself.)
        if !self.explain
            && depth == 0
            && let Some(r) = relation
            && !matches!(r.rewrite, Rewrite::This)
            && self.quick(obj, r, &r.rewrite, QUICK_DEPTH)
        {
            return Step::yes(None);
        }

        self.stack.push(key);
        let index = self.stack.len() - 1;
        let mut step = match relation {
            Some(r) => self.rewrite(obj, r, &r.rewrite, depth),
            None => self.direct(obj, rel, None, depth),
        };
        self.stack.pop();

        if step.low >= index {
            step.low = usize::MAX;
            // The root is never asked again within one check; skipping it keeps a plain
            // check free of map allocations.
            if let (Ok(v), false, true) = (&step.value, self.explain, index > 0) {
                self.memo.insert(key, (*v, step.cycle));
            }
        }
        step
    }

    fn rewrite(
        &mut self,
        obj: ObjId,
        relation: &'a Relation,
        rewrite: &'a Rewrite,
        depth: u32,
    ) -> Step {
        match rewrite {
            Rewrite::This => self.direct(obj, relation.name, Some(relation), depth),
            Rewrite::Computed(computed) => {
                let step = self.check_relation(obj, *computed, depth + 1);
                self.wrap(step, |this, then| Why::Computed {
                    object: this.tuples.object_name(obj).to_owned(),
                    relation: this.tuples.sym_name(*computed).to_owned(),
                    then,
                })
            }
            Rewrite::TupleToUserset {
                tupleset,
                computed,
                all: true,
            } => self.every_parent(obj, *tupleset, *computed, depth),
            Rewrite::TupleToUserset {
                tupleset,
                computed,
                all: false,
            } => {
                let mut any = Any::new();
                for edge in self.parent_links(obj, *tupleset) {
                    let condition = self.edge_condition(edge.cond);
                    let Some(step) = self.guarded(condition, |this| {
                        this.check_relation(edge.subject, *computed, depth + 1)
                    }) else {
                        continue;
                    };
                    if let Some(yes) = any.add(step) {
                        return self.wrap(yes, |this, then| Why::ViaParent {
                            tuple: this.tuple_key(obj, edge),
                            then,
                        });
                    }
                }
                any.finish()
            }
            Rewrite::Union(children) => {
                let mut any = Any::new();
                for child in children {
                    let step = self.rewrite(obj, relation, child, depth);
                    if let Some(yes) = any.add(step) {
                        return yes;
                    }
                }
                any.finish()
            }
            Rewrite::Intersection(children) => {
                let mut all = All::new();
                for child in children {
                    let step = self.rewrite(obj, relation, child, depth);
                    if let Some(no) = all.add(step, |why| *why) {
                        return no;
                    }
                }
                all.finish(self.explain)
            }
            Rewrite::Difference(d) => {
                let base = self.rewrite(obj, relation, &d.0, depth);
                if matches!(base.value, Ok(false)) {
                    return base;
                }
                let subtract = self.rewrite(obj, relation, &d.1, depth);
                let low = base.low.min(subtract.low);
                let cycle = subtract.cycle && matches!(subtract.value, Ok(false));
                let value = match (base.value, subtract.value) {
                    (_, Ok(true)) => Ok(false),
                    // A cycle under the subtracted side makes the exclusion false (OpenFGA).
                    (_, Ok(false)) if cycle => Ok(false),
                    (Err(e), _) | (_, Err(e)) => Err(e),
                    (Ok(b), Ok(false)) => Ok(b),
                };
                let why = match (&value, base.why) {
                    (Ok(true), Some(base_why)) => Some(Box::new(Why::Excluding {
                        base: base_why,
                        excluded: describe(&d.1, |s| self.tuples.sym_name(s).to_owned()),
                    })),
                    _ => None,
                };
                Step {
                    value,
                    low,
                    cycle,
                    why,
                }
            }
        }
    }

    /// Direct tuples on `obj#rel`: the user itself, its type's wildcard, then usersets.
    fn direct(&mut self, obj: ObjId, rel: Sym, relation: Option<&'a Relation>, depth: u32) -> Step {
        let mut any = Any::new();
        let tuples = self.tuples;

        // The tuples of `obj#rel` in the store and in the request's overlay, each split into
        // userset subjects and plain ones (NO_REL is the largest relation id, so usersets sort
        // first). One range search per source serves every lookup below.
        let mut parts: [(&[OutEdge], &[OutEdge]); 2] = [(&[], &[]); 2];
        for (slot, node) in parts.iter_mut().zip(tuples.nodes(obj)) {
            let edges = node.out_rel(rel);
            *slot = edges.split_at(edges.partition_point(|e| e.subj_rel != NO_REL));
        }

        for (subject, subj_rel) in self.exact.into_iter().flatten() {
            // A subject shape the relation's type restrictions exclude cannot match (such a
            // tuple would be ignored anyway): skip the search.
            if relation.is_some_and(|r| !r.may_name(self.tuples.kind(subject), subj_rel)) {
                continue;
            }
            for (usersets, plain) in parts {
                let found = if subj_rel == NO_REL {
                    plain
                        .binary_search_by_key(&subject, |e| e.subject)
                        .ok()
                        .and_then(|i| plain.get(i))
                } else {
                    usersets
                        .binary_search_by(|e| (e.subj_rel, e.subject).cmp(&(subj_rel, subject)))
                        .ok()
                        .and_then(|i| usersets.get(i))
                };
                let Some(edge) = found else { continue };
                if !self.allowed(relation, edge) {
                    continue;
                }
                match self.edge_condition(edge.cond) {
                    Ok(true) => {
                        return Step::yes(self.explain.then(|| Why::Tuple {
                            tuple: self.tuple_key(obj, edge),
                        }));
                    }
                    Ok(false) => {}
                    Err(e) => any.error(Box::new(e)),
                }
            }
        }

        for (usersets, _) in parts {
            for edge in usersets {
                if self.user == UserKey::Userset(edge.subject, edge.subj_rel)
                    || !self.allowed(relation, edge)
                {
                    continue;
                }
                let condition = self.edge_condition(edge.cond);
                let Some(step) = self.guarded(condition, |this| {
                    this.check_relation(edge.subject, edge.subj_rel, depth + 1)
                }) else {
                    continue;
                };
                if let Some(yes) = any.add(step) {
                    return self.wrap(yes, |this, then| Why::ViaUserset {
                        tuple: this.tuple_key(obj, edge),
                        then,
                    });
                }
            }
        }
        any.finish()
    }

    /// Whether a direct tuple names the user (or its type's wildcard) in a position where it
    /// alone grants the relation: through unions and computed relations only, never across
    /// an intersection, exclusion or tuple-to-userset. `true` is final (a union with a true
    /// branch is true, whatever errors other branches raise); `false` means "not found here".
    fn quick(
        &mut self,
        obj: ObjId,
        relation: &'a Relation,
        rewrite: &'a Rewrite,
        budget: u32,
    ) -> bool {
        match rewrite {
            Rewrite::This => {
                let tuples = self.tuples;
                for (subject, subj_rel) in self.exact.into_iter().flatten() {
                    if !relation.may_name(tuples.kind(subject), subj_rel) {
                        continue;
                    }
                    for node in tuples.nodes(obj) {
                        if let Some(edge) = node.find_out(relation.name, subj_rel, subject)
                            && self.allowed(Some(relation), edge)
                            && matches!(self.edge_condition(edge.cond), Ok(true))
                        {
                            return true;
                        }
                    }
                }
                false
            }
            Rewrite::Computed(computed) => {
                if budget == 0 {
                    return false;
                }
                let Some(next) = self
                    .model
                    .and_then(|m| m.relation(self.tuples.type_of(obj), *computed))
                else {
                    return false;
                };
                self.quick(obj, next, &next.rewrite, budget - 1)
            }
            Rewrite::Union(children) => children
                .iter()
                .any(|c| self.quick(obj, relation, c, budget)),
            Rewrite::TupleToUserset { .. } | Rewrite::Intersection(_) | Rewrite::Difference(_) => {
                false
            }
        }
    }

    /// SpiceDB's intersection arrow: the relation must hold on every parent the tupleset
    /// links to, each link's condition included, and there must be at least one parent.
    fn every_parent(&mut self, obj: ObjId, tupleset: Sym, computed: Sym, depth: u32) -> Step {
        let mut parents = 0usize;
        let mut all = All::new();
        for edge in self.parent_links(obj, tupleset) {
            parents += 1;
            // A link whose condition is false is a parent that does not grant.
            let condition = self.edge_condition(edge.cond);
            let Some(step) = self.guarded(condition, |this| {
                this.check_relation(edge.subject, computed, depth + 1)
            }) else {
                return Step {
                    low: all.low,
                    ..Step::no()
                };
            };
            let tuple = self.explain.then(|| self.tuple_key(obj, edge));
            let proof = |then| match tuple {
                Some(tuple) => Why::ViaParent { tuple, then },
                None => *then,
            };
            if let Some(no) = all.add(step, proof) {
                return no;
            }
        }
        if parents == 0 {
            // No parent: nothing was asked, nothing depends on a cycle cut.
            return Step::no();
        }
        all.finish(self.explain)
    }

    /// A tuple's condition AND what lies behind the tuple. An unknown condition (a missing
    /// parameter) still lets a false answer behind it decide: unknown AND false is false.
    fn guarded(
        &mut self,
        condition: Result<bool, GraphError>,
        behind: impl FnOnce(&mut Self) -> Step,
    ) -> Option<Step> {
        match condition {
            Ok(false) => None,
            Ok(true) => Some(behind(self)),
            Err(e) => {
                let step = behind(self);
                let value = if matches!(step.value, Ok(false)) {
                    Ok(false)
                } else {
                    Err(Box::new(e))
                };
                Some(Step {
                    value,
                    why: None,
                    ..step
                })
            }
        }
    }

    fn wrap(&self, mut step: Step, build: impl FnOnce(&Self, Box<Why>) -> Why) -> Step {
        if self.explain
            && step.is_true()
            && let Some(then) = step.why.take()
        {
            step.why = Some(Box::new(build(self, then)));
        }
        step
    }

    fn userset_name(&self, obj: ObjId, rel: Sym) -> String {
        format!(
            "{}#{}",
            self.tuples.object_name(obj),
            self.tuples.sym_name(rel)
        )
    }

    /// The tuple `obj#edge` in API form.
    pub fn tuple_key(&self, obj: ObjId, edge: &OutEdge) -> TupleKey {
        self.tuples.tuple_key(obj, edge)
    }
}

/// A rewrite in DSL form, for explanations.
pub fn describe(rewrite: &Rewrite, name: impl Fn(Sym) -> String + Copy) -> String {
    match rewrite {
        Rewrite::This => "[direct]".to_owned(),
        Rewrite::Computed(r) => name(*r),
        Rewrite::TupleToUserset {
            tupleset,
            computed,
            all: false,
        } => format!("{} from {}", name(*computed), name(*tupleset)),
        Rewrite::TupleToUserset {
            tupleset,
            computed,
            all: true,
        } => format!("{}.all({})", name(*tupleset), name(*computed)),
        Rewrite::Union(c) => format!(
            "({})",
            c.iter()
                .map(|r| describe(r, name))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        Rewrite::Intersection(c) => {
            format!(
                "({})",
                c.iter()
                    .map(|r| describe(r, name))
                    .collect::<Vec<_>>()
                    .join(" and ")
            )
        }
        Rewrite::Difference(d) => format!(
            "({} but not {})",
            describe(&d.0, name),
            describe(&d.1, name)
        ),
    }
}
