//! Per-request additions to the stored tuples: contextual tuples, and ids for objects and
//! names the store has never seen.
//!
//! Objects already in the store keep their ids; new ones get ids above the store's, so the
//! evaluator works in one id space. Nothing is allocated when a request brings nothing new.

use rustc_hash::FxHashMap;

use super::intern::{NO_REL, Names, ObjId, Sym};
use super::store::{InEdge, NO_COND, Node, OutEdge, Store, StoredCondition, WILDCARD_BIT};
use crate::graph::tuple::{TupleCondition, TupleKey};

/// Set on condition slots that live in the overlay.
pub const OVERLAY_COND_BIT: u32 = 1 << 31;

/// Contextual tuples and request-local ids.
#[derive(Debug, Default)]
pub struct Overlay {
    base_objects: u32,
    base_names: u32,
    object_ids: FxHashMap<String, ObjId>,
    object_names: Vec<String>,
    object_kinds: Vec<u32>,
    nodes: FxHashMap<ObjId, Node>,
    conds: Vec<StoredCondition>,
    wildcards: FxHashMap<Sym, ObjId>,
    name_ids: FxHashMap<String, Sym>,
    names: Vec<String>,
    tuples: usize,
}

impl Overlay {
    /// An empty overlay over `store`.
    pub fn new(store: &Store, names: &Names) -> Self {
        Self {
            base_objects: u32::try_from(store.objects.len()).unwrap_or(u32::MAX),
            base_names: u32::try_from(names.len()).unwrap_or(u32::MAX),
            ..Self::default()
        }
    }

    /// The symbol of `name`, adding a request-local one if the graph does not know it.
    pub fn sym(&mut self, names: &Names, name: &str) -> Sym {
        if let Some(s) = names.get(name) {
            return s;
        }
        if let Some(&s) = self.name_ids.get(name) {
            return s;
        }
        let s = self.base_names + u32::try_from(self.names.len()).unwrap_or(0);
        self.name_ids.insert(name.to_owned(), s);
        self.names.push(name.to_owned());
        s
    }

    /// The name of a symbol.
    pub fn sym_name<'a>(&'a self, names: &'a Names, sym: Sym) -> &'a str {
        if sym < self.base_names {
            names.name(sym)
        } else {
            self.names
                .get((sym - self.base_names) as usize)
                .map_or("", String::as_str)
        }
    }

    /// The id of object `name`, adding a request-local one if new.
    pub fn object(&mut self, store: &Store, name: &str, type_sym: Sym, wildcard: bool) -> ObjId {
        if let Some(id) = store.objects.get(name) {
            return id;
        }
        if let Some(&id) = self.object_ids.get(name) {
            return id;
        }
        let id = self.base_objects + u32::try_from(self.object_names.len()).unwrap_or(0);
        self.object_ids.insert(name.to_owned(), id);
        self.object_names.push(name.to_owned());
        self.object_kinds.push(if wildcard {
            type_sym | WILDCARD_BIT
        } else {
            type_sym
        });
        if wildcard {
            self.wildcards.insert(type_sym, id);
        }
        id
    }

    /// Adds a contextual tuple (ignored if it repeats one).
    pub fn insert(
        &mut self,
        object: ObjId,
        rel: Sym,
        subject: ObjId,
        subj_rel: Sym,
        condition: Option<StoredCondition>,
    ) {
        let cond = match condition {
            None => NO_COND,
            Some(c) => {
                self.conds.push(c);
                OVERLAY_COND_BIT | u32::try_from(self.conds.len() - 1).unwrap_or(0)
            }
        };
        let added = self.nodes.entry(object).or_default().insert(OutEdge {
            rel,
            subj_rel,
            subject,
            cond,
        });
        if added {
            self.nodes
                .entry(subject)
                .or_default()
                .insert_incoming(InEdge {
                    subj_rel,
                    rel,
                    object,
                    cond,
                });
            self.tuples += 1;
        }
    }
}

/// The stored tuples plus a request's overlay: what queries read.
#[derive(Clone, Copy)]
pub struct Tuples<'a> {
    /// The stored tuples.
    pub store: &'a Store,
    /// The request's additions.
    pub overlay: &'a Overlay,
    /// Type, relation and condition names.
    pub names: &'a Names,
}

impl<'a> Tuples<'a> {
    /// The nodes holding tuples of `id`: the store's and the overlay's.
    #[inline]
    pub fn nodes(&self, id: ObjId) -> impl Iterator<Item = &'a Node> + use<'a> {
        let base = self.store.node(id);
        let extra = if self.overlay.nodes.is_empty() {
            None
        } else {
            self.overlay.nodes.get(&id)
        };
        base.into_iter().chain(extra)
    }

    /// The type symbol and wildcard bit of `id`.
    #[inline]
    pub fn kind(&self, id: ObjId) -> u32 {
        if id < self.overlay.base_objects {
            self.store.node(id).map_or(0, |n| n.kind)
        } else {
            self.overlay
                .object_kinds
                .get((id - self.overlay.base_objects) as usize)
                .copied()
                .unwrap_or(0)
        }
    }

    /// The type symbol of `id`.
    #[inline]
    pub fn type_of(&self, id: ObjId) -> Sym {
        self.kind(id) & !WILDCARD_BIT
    }

    /// Whether `id` is a wildcard `type:*`.
    #[inline]
    pub fn is_wildcard(&self, id: ObjId) -> bool {
        self.kind(id) & WILDCARD_BIT != 0
    }

    /// The wildcard object of `type_sym`, if any tuple mentions it.
    #[inline]
    pub fn wildcard(&self, type_sym: Sym) -> Option<ObjId> {
        self.store
            .wildcard(type_sym)
            .or_else(|| self.overlay.wildcards.get(&type_sym).copied())
    }

    /// The stored condition in `slot`.
    pub fn condition(&self, slot: u32) -> Option<&'a StoredCondition> {
        if slot & OVERLAY_COND_BIT != 0 {
            self.overlay.conds.get((slot & !OVERLAY_COND_BIT) as usize)
        } else {
            self.store.condition(slot)
        }
    }

    /// The name of object `id`.
    pub fn object_name(&self, id: ObjId) -> &'a str {
        if id < self.overlay.base_objects {
            self.store.objects.name(id)
        } else {
            self.overlay
                .object_names
                .get((id - self.overlay.base_objects) as usize)
                .map_or("", String::as_str)
        }
    }

    /// The tuple `obj#edge` in API form.
    pub fn tuple_key(&self, obj: ObjId, edge: &OutEdge) -> TupleKey {
        let user = if edge.subj_rel == NO_REL {
            self.object_name(edge.subject).to_owned()
        } else {
            format!(
                "{}#{}",
                self.object_name(edge.subject),
                self.sym_name(edge.subj_rel)
            )
        };
        let condition = (edge.cond != NO_COND)
            .then(|| self.condition(edge.cond))
            .flatten()
            .map(|c| TupleCondition {
                name: self.sym_name(c.name).to_owned(),
                context: c.context.as_ref().map(|m| (**m).clone()),
            });
        TupleKey {
            object: self.object_name(obj).to_owned(),
            relation: self.sym_name(edge.rel).to_owned(),
            user,
            condition,
        }
    }

    /// The name of a symbol.
    pub fn sym_name(&self, sym: Sym) -> &'a str {
        if sym == NO_REL {
            ""
        } else {
            self.overlay.sym_name(self.names, sym)
        }
    }
}
