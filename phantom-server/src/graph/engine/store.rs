//! The in-memory tuple index.
//!
//! Every object (`type:id`, and wildcards `type:*`) gets a dense [`ObjId`], and the index is
//! a vector of [`Node`]s indexed by it, so reaching an object's tuples costs no hashing. Each
//! node holds its outgoing tuples (where it is the object) sorted by
//! `(relation, subject relation, subject)`, and its incoming tuples (where it is the subject)
//! sorted by `(subject relation, relation, object)`. An exact lookup is a binary search; all
//! tuples of one relation are a contiguous slice. A tuple costs 16 bytes in each direction.
//!
//! Objects are never removed: when an object's last tuple is deleted its name stays interned
//! and its (empty) node stays allocated, about 60 bytes plus the name. Reclaiming them would
//! need a count of tuples per object and a free list of ids (ids must stay stable while a
//! query runs, which `&self` queries already guarantee). Until then the index grows with the
//! number of distinct objects ever written, not with the live tuples.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use super::intern::{NO_REL, Names, ObjId, Objects, Sym};

/// Set on [`Node::kind`] for wildcard objects (`type:*`).
pub const WILDCARD_BIT: u32 = 1 << 31;

/// Condition slot 0 means "no condition".
pub const NO_COND: u32 = 0;

/// A tuple seen from its object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct OutEdge {
    /// The tuple's relation.
    pub rel: Sym,
    /// The subject's relation ([`NO_REL`] for a plain object or wildcard).
    pub subj_rel: Sym,
    /// The subject.
    pub subject: ObjId,
    /// The condition slot ([`NO_COND`] for none).
    pub cond: u32,
}

/// A tuple seen from its subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct InEdge {
    /// The subject's relation ([`NO_REL`] for a plain object or wildcard).
    pub subj_rel: Sym,
    /// The tuple's relation.
    pub rel: Sym,
    /// The tuple's object.
    pub object: ObjId,
    /// The condition slot.
    pub cond: u32,
}

/// One object and its tuples.
#[derive(Clone, Debug, Default)]
pub struct Node {
    /// The object's type symbol, with [`WILDCARD_BIT`] for `type:*`.
    pub kind: u32,
    /// Tuples with this object as object.
    pub out: Vec<OutEdge>,
    /// Tuples with this object as subject.
    pub inc: Vec<InEdge>,
}

impl Node {
    /// All tuples of relation `rel` on this object.
    #[inline]
    pub fn out_rel(&self, rel: Sym) -> &[OutEdge] {
        // Most objects have a handful of tuples: a linear scan beats a binary search there.
        if self.out.len() <= 8 {
            let start = self
                .out
                .iter()
                .position(|e| e.rel >= rel)
                .unwrap_or(self.out.len());
            let len = self
                .out
                .get(start..)
                .map_or(0, |s| s.iter().take_while(|e| e.rel == rel).count());
            return self.out.get(start..start + len).unwrap_or_default();
        }
        let start = self.out.partition_point(|e| e.rel < rel);
        let end = start
            + self
                .out
                .get(start..)
                .map_or(0, |s| s.partition_point(|e| e.rel == rel));
        self.out.get(start..end).unwrap_or_default()
    }

    /// The tuple `this#rel@subject[#subj_rel]`, if present.
    pub fn find_out(&self, rel: Sym, subj_rel: Sym, subject: ObjId) -> Option<&OutEdge> {
        let probe = (rel, subj_rel, subject);
        self.out
            .binary_search_by(|e| (e.rel, e.subj_rel, e.subject).cmp(&probe))
            .ok()
            .and_then(|i| self.out.get(i))
    }

    /// All tuples whose subject is this object with relation `subj_rel`.
    pub fn inc_rel(&self, subj_rel: Sym) -> &[InEdge] {
        let start = self.inc.partition_point(|e| e.subj_rel < subj_rel);
        let end = start
            + self
                .inc
                .get(start..)
                .map_or(0, |s| s.partition_point(|e| e.subj_rel == subj_rel));
        self.inc.get(start..end).unwrap_or_default()
    }

    pub(super) fn insert(&mut self, edge: OutEdge) -> bool {
        let probe = (edge.rel, edge.subj_rel, edge.subject);
        match self
            .out
            .binary_search_by(|e| (e.rel, e.subj_rel, e.subject).cmp(&probe))
        {
            Ok(_) => false,
            Err(i) => {
                self.out.insert(i, edge);
                true
            }
        }
    }

    /// Adds many outgoing tuples: one at a time when few, else sorted and merged in one pass,
    /// so that loading many tuples onto one object stays linear. Returns how many were new.
    fn merge_out(&mut self, mut edges: Vec<OutEdge>) -> usize {
        let key = |e: &OutEdge| (e.rel, e.subj_rel, e.subject);
        if edges.len() <= 4 {
            return edges.into_iter().filter(|e| self.insert(*e)).count();
        }
        edges.sort_unstable_by_key(key);
        edges.dedup_by_key(|e| key(e));
        let old = std::mem::take(&mut self.out);
        let (merged, added) = merge_sorted(old, edges, key);
        self.out = merged;
        added
    }

    /// [`Node::merge_out`] for incoming tuples.
    fn merge_inc(&mut self, mut edges: Vec<InEdge>) {
        let key = |e: &InEdge| (e.subj_rel, e.rel, e.object);
        if edges.len() <= 4 {
            for e in edges {
                self.insert_incoming(e);
            }
            return;
        }
        edges.sort_unstable_by_key(key);
        edges.dedup_by_key(|e| key(e));
        let old = std::mem::take(&mut self.inc);
        self.inc = merge_sorted(old, edges, key).0;
    }

    pub(super) fn insert_incoming(&mut self, edge: InEdge) {
        let probe = (edge.subj_rel, edge.rel, edge.object);
        if let Err(i) = self
            .inc
            .binary_search_by(|e| (e.subj_rel, e.rel, e.object).cmp(&probe))
        {
            self.inc.insert(i, edge);
        }
    }

    fn remove(&mut self, rel: Sym, subj_rel: Sym, subject: ObjId) -> Option<OutEdge> {
        let probe = (rel, subj_rel, subject);
        let i = self
            .out
            .binary_search_by(|e| (e.rel, e.subj_rel, e.subject).cmp(&probe))
            .ok()?;
        Some(self.out.remove(i))
    }

    fn remove_incoming(&mut self, subj_rel: Sym, rel: Sym, object: ObjId) {
        let probe = (subj_rel, rel, object);
        if let Ok(i) = self
            .inc
            .binary_search_by(|e| (e.subj_rel, e.rel, e.object).cmp(&probe))
        {
            self.inc.remove(i);
        }
    }
}

/// Merges two sorted edge lists, keeping `old`'s entry when a key is in both; returns the
/// merged list and how many entries of `new` were added.
fn merge_sorted<T: Copy, K: Ord>(
    old: Vec<T>,
    new: Vec<T>,
    key: impl Fn(&T) -> K,
) -> (Vec<T>, usize) {
    let mut out = Vec::with_capacity(old.len() + new.len());
    let mut added = 0;
    let (mut a, mut b) = (old.into_iter().peekable(), new.into_iter().peekable());
    loop {
        match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => match key(x).cmp(&key(y)) {
                std::cmp::Ordering::Less => out.extend(a.next()),
                std::cmp::Ordering::Greater => {
                    out.extend(b.next());
                    added += 1;
                }
                std::cmp::Ordering::Equal => {
                    out.extend(a.next());
                    b.next();
                }
            },
            (Some(_), None) => out.extend(a.by_ref()),
            (None, Some(_)) => {
                let rest: Vec<T> = b.by_ref().collect();
                added += rest.len();
                out.extend(rest);
            }
            (None, None) => return (out, added),
        }
    }
}

/// A condition stored with a tuple: its name and the context written with it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredCondition {
    /// The condition name.
    pub name: Sym,
    /// The stored parameter values.
    pub context: Option<Arc<Map<String, Value>>>,
}

/// A tuple in interned form.
#[derive(Clone, Debug, PartialEq)]
pub struct RawTuple {
    /// The object.
    pub object: ObjId,
    /// The relation.
    pub rel: Sym,
    /// The subject.
    pub subject: ObjId,
    /// The subject's relation, or [`NO_REL`].
    pub subj_rel: Sym,
    /// The condition, if any.
    pub condition: Option<StoredCondition>,
}

/// Objects, their tuples, and the conditions stored with them. Used both for the graph's
/// stored tuples and, per request, for contextual tuples.
#[derive(Debug, Default)]
pub struct Store {
    /// Object names.
    pub objects: Objects,
    nodes: Vec<Node>,
    /// Condition slots; slot 0 is unused so that [`NO_COND`] can mean "none".
    conds: Vec<Option<StoredCondition>>,
    free_conds: Vec<u32>,
    /// Type → id of the wildcard object `type:*`.
    wildcards: FxHashMap<Sym, ObjId>,
    tuples: usize,
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            conds: vec![None],
            ..Self::default()
        }
    }

    /// The node of `id`.
    pub fn node(&self, id: ObjId) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    /// The id of the wildcard object of `type_sym`, if any tuple mentions it.
    pub fn wildcard(&self, type_sym: Sym) -> Option<ObjId> {
        self.wildcards.get(&type_sym).copied()
    }

    /// The condition in slot `slot`.
    pub fn condition(&self, slot: u32) -> Option<&StoredCondition> {
        self.conds.get(slot as usize).and_then(Option::as_ref)
    }

    /// Number of tuples.
    pub fn len(&self) -> usize {
        self.tuples
    }

    /// The id of `name` (`type:id`), creating its node with type `type_sym` if new.
    pub fn intern_object(&mut self, name: &str, type_sym: Sym, wildcard: bool) -> Option<ObjId> {
        let id = self.objects.intern(name)?;
        if id as usize >= self.nodes.len() {
            let kind = if wildcard {
                type_sym | WILDCARD_BIT
            } else {
                type_sym
            };
            self.nodes.push(Node {
                kind,
                out: Vec::new(),
                inc: Vec::new(),
            });
            if wildcard {
                self.wildcards.insert(type_sym, id);
            }
        }
        Some(id)
    }

    /// Whether the tuple exists; returns its condition slot.
    pub fn find(&self, object: ObjId, rel: Sym, subj_rel: Sym, subject: ObjId) -> Option<u32> {
        self.node(object)?
            .find_out(rel, subj_rel, subject)
            .map(|e| e.cond)
    }

    /// Adds tuples in bulk (duplicates of stored tuples are skipped); returns how many were
    /// new. Tuples are grouped per object so each node's edge lists are merged once.
    pub fn insert_many(&mut self, tuples: Vec<RawTuple>) -> usize {
        let mut outgoing: FxHashMap<ObjId, Vec<OutEdge>> = FxHashMap::default();
        let mut incoming: FxHashMap<ObjId, Vec<InEdge>> = FxHashMap::default();
        for tuple in tuples {
            let known = (tuple.object as usize) < self.nodes.len()
                && (tuple.subject as usize) < self.nodes.len();
            if !known
                || self
                    .find(tuple.object, tuple.rel, tuple.subj_rel, tuple.subject)
                    .is_some()
            {
                continue;
            }
            let cond = match tuple.condition {
                None => NO_COND,
                Some(c) => self.alloc_condition(c),
            };
            outgoing.entry(tuple.object).or_default().push(OutEdge {
                rel: tuple.rel,
                subj_rel: tuple.subj_rel,
                subject: tuple.subject,
                cond,
            });
            incoming.entry(tuple.subject).or_default().push(InEdge {
                subj_rel: tuple.subj_rel,
                rel: tuple.rel,
                object: tuple.object,
                cond,
            });
        }
        let mut added = 0;
        for (id, edges) in outgoing {
            if let Some(node) = self.nodes.get_mut(id as usize) {
                added += node.merge_out(edges);
            }
        }
        for (id, edges) in incoming {
            if let Some(node) = self.nodes.get_mut(id as usize) {
                node.merge_inc(edges);
            }
        }
        self.tuples += added;
        added
    }

    /// Removes a tuple; `false` if it did not exist.
    pub fn remove(&mut self, object: ObjId, rel: Sym, subj_rel: Sym, subject: ObjId) -> bool {
        let Some(edge) = self
            .nodes
            .get_mut(object as usize)
            .and_then(|n| n.remove(rel, subj_rel, subject))
        else {
            return false;
        };
        if let Some(node) = self.nodes.get_mut(subject as usize) {
            node.remove_incoming(subj_rel, rel, object);
        }
        if edge.cond != NO_COND
            && let Some(slot) = self.conds.get_mut(edge.cond as usize)
        {
            *slot = None;
            self.free_conds.push(edge.cond);
        }
        self.tuples -= 1;
        true
    }

    fn alloc_condition(&mut self, condition: StoredCondition) -> u32 {
        if let Some(slot) = self.free_conds.pop()
            && let Some(entry) = self.conds.get_mut(slot as usize)
        {
            *entry = Some(condition);
            return slot;
        }
        let slot = u32::try_from(self.conds.len()).unwrap_or(NO_COND);
        self.conds.push(Some(condition));
        slot
    }

    /// Every tuple, in object order.
    pub fn tuples(&self) -> impl Iterator<Item = (ObjId, &OutEdge)> {
        self.nodes.iter().enumerate().flat_map(|(i, n)| {
            let id = ObjId::try_from(i).unwrap_or(NO_REL);
            n.out.iter().map(move |e| (id, e))
        })
    }

    /// Shrinks the edge vectors after a bulk load.
    pub fn shrink(&mut self) {
        for node in &mut self.nodes {
            node.out.shrink_to_fit();
            node.inc.shrink_to_fit();
        }
    }

    /// Bytes allocated by the index (capacity, not length), for memory accounting.
    pub fn heap_bytes(&self, names: &Names) -> usize {
        let edges: usize = self
            .nodes
            .iter()
            .map(|n| {
                n.out.capacity() * std::mem::size_of::<OutEdge>()
                    + n.inc.capacity() * std::mem::size_of::<InEdge>()
            })
            .sum();
        let conds: usize = self.conds.capacity() * std::mem::size_of::<Option<StoredCondition>>();
        edges
            + self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.objects.heap_bytes()
            + conds
            + names.heap_bytes()
    }
}
