//! A model compiled against the graph's symbol table: rewrites and type restrictions with
//! interned names, conditions compiled to CEL programs, and the reverse dependencies that
//! ListObjects walks.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::condition::{CompiledCondition, ConditionError, environment};
use super::intern::{NO_REL, Names, Sym};
use super::store::WILDCARD_BIT;
use crate::graph::model::{AuthorizationModel, Userset};

/// A rewrite with interned relation names.
#[derive(Clone, Debug)]
pub enum Rewrite {
    /// Tuples on this relation.
    This,
    /// Another relation on the same object.
    Computed(Sym),
    /// `computed from tupleset`.
    TupleToUserset {
        /// The relation linking to parent objects.
        tupleset: Sym,
        /// The relation evaluated on each parent.
        computed: Sym,
        /// Whether every parent must grant it (SpiceDB's `.all()`), not just one.
        all: bool,
    },
    /// Any child.
    Union(Vec<Rewrite>),
    /// Every child.
    Intersection(Vec<Rewrite>),
    /// Base but not subtract.
    Difference(Box<(Rewrite, Rewrite)>),
}

/// One type restriction with interned names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Restriction {
    /// The subject type.
    pub type_sym: Sym,
    /// The subject relation for `type#relation`, else [`NO_REL`].
    pub subj_rel: Sym,
    /// Whether this is `type:*`.
    pub wildcard: bool,
    /// The required condition, else [`NO_REL`].
    pub cond: Sym,
}

/// A relation of a type.
#[derive(Clone, Debug)]
pub struct Relation {
    /// The relation name.
    pub name: Sym,
    /// Its rewrite.
    pub rewrite: Rewrite,
    /// Its type restrictions (empty when not directly assignable).
    pub restrictions: Vec<Restriction>,
}

impl Relation {
    /// Whether the relation is only direct tuples of plain subjects or wildcards: evaluating
    /// it never reaches another relation.
    pub fn is_leaf(&self) -> bool {
        matches!(self.rewrite, Rewrite::This)
            && self.restrictions.iter().all(|r| r.subj_rel == NO_REL)
    }

    /// Whether some restriction admits a subject of this kind (type symbol, with the
    /// wildcard bit) and subject relation, whatever the condition.
    #[inline]
    pub fn may_name(&self, kind: u32, subj_rel: Sym) -> bool {
        let (type_sym, wildcard) = (kind & !WILDCARD_BIT, kind & WILDCARD_BIT != 0);
        self.restrictions
            .iter()
            .any(|r| r.type_sym == type_sym && r.subj_rel == subj_rel && r.wildcard == wildcard)
    }

    /// Whether a tuple with this subject shape may be read for this relation.
    #[inline]
    pub fn allows(&self, subject_type: Sym, subj_rel: Sym, wildcard: bool, cond: Sym) -> bool {
        self.restrictions.iter().any(|r| {
            r.type_sym == subject_type
                && r.subj_rel == subj_rel
                && r.wildcard == wildcard
                && r.cond == cond
        })
    }
}

/// Something that may become true when `type#relation` does (for ListObjects).
#[derive(Clone, Copy, Debug)]
pub enum Dependent {
    /// `relation` on the same object is computed from it.
    Computed {
        /// The dependent relation.
        relation: Sym,
    },
    /// `relation` on objects of `object_type` that link here through `tupleset`.
    TupleToUserset {
        /// The type holding the dependent relation.
        object_type: Sym,
        /// The linking relation.
        tupleset: Sym,
        /// The dependent relation.
        relation: Sym,
    },
}

/// A compiled model version.
pub struct CompiledModel {
    /// The model id.
    pub id: String,
    /// The model as written.
    pub source: Arc<AuthorizationModel>,
    /// Relations by type symbol, then relation symbol: symbols are small dense integers, so
    /// two array lookups find a relation.
    types: Vec<Option<Vec<Option<Relation>>>>,
    conditions: FxHashMap<Sym, CompiledCondition>,
    dependents: FxHashMap<(Sym, Sym), Vec<Dependent>>,
}

impl std::fmt::Debug for CompiledModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledModel")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

fn compile_rewrite(rewrite: &Userset, names: &mut Names) -> Rewrite {
    match rewrite {
        Userset::This(_) => Rewrite::This,
        Userset::ComputedUserset(c) => Rewrite::Computed(names.intern(&c.relation)),
        Userset::TupleToUserset(t) => Rewrite::TupleToUserset {
            tupleset: names.intern(&t.tupleset.relation),
            computed: names.intern(&t.computed_userset.relation),
            all: t.all,
        },
        Userset::Union(u) => {
            Rewrite::Union(u.child.iter().map(|c| compile_rewrite(c, names)).collect())
        }
        Userset::Intersection(u) => {
            Rewrite::Intersection(u.child.iter().map(|c| compile_rewrite(c, names)).collect())
        }
        Userset::Difference(d) => Rewrite::Difference(Box::new((
            compile_rewrite(&d.base, names),
            compile_rewrite(&d.subtract, names),
        ))),
    }
}

impl CompiledModel {
    /// Compiles a validated model.
    ///
    /// # Errors
    ///
    /// A [`ConditionError::Compile`] when a condition's CEL does not compile.
    pub fn compile(
        id: String,
        model: AuthorizationModel,
        names: &mut Names,
    ) -> Result<Self, ConditionError> {
        let env = environment();
        let mut conditions = FxHashMap::default();
        for (name, condition) in &model.conditions {
            let compiled = CompiledCondition::compile(condition, Arc::clone(&env))?;
            conditions.insert(names.intern(name), compiled);
        }

        let mut by_type: Vec<(Sym, FxHashMap<Sym, Relation>)> = Vec::new();
        for definition in &model.type_definitions {
            let type_sym = names.intern(&definition.type_name);
            let mut relations = FxHashMap::default();
            for (name, rewrite) in definition.relations.iter() {
                let restrictions = definition
                    .directly_related_user_types(name)
                    .iter()
                    .map(|r| Restriction {
                        type_sym: names.intern(&r.type_name),
                        subj_rel: r
                            .relation
                            .as_deref()
                            .map_or(NO_REL, |rel| names.intern(rel)),
                        wildcard: r.is_wildcard(),
                        cond: if r.condition.is_empty() {
                            NO_REL
                        } else {
                            names.intern(&r.condition)
                        },
                    })
                    .collect();
                let sym = names.intern(name);
                relations.insert(
                    sym,
                    Relation {
                        name: sym,
                        rewrite: compile_rewrite(rewrite, names),
                        restrictions,
                    },
                );
            }
            by_type.push((type_sym, relations));
        }
        let width = names.len();
        let mut types: Vec<Option<Vec<Option<Relation>>>> = vec![None; width];
        for (type_sym, relations) in by_type {
            let mut row: Vec<Option<Relation>> = vec![None; width];
            for (rel, relation) in relations {
                if let Some(slot) = row.get_mut(rel as usize) {
                    *slot = Some(relation);
                }
            }
            if let Some(slot) = types.get_mut(type_sym as usize) {
                *slot = Some(row);
            }
        }

        let mut compiled = Self {
            id,
            source: Arc::new(model),
            types,
            conditions,
            dependents: FxHashMap::default(),
        };
        compiled.dependents = compiled.reverse_dependencies();
        Ok(compiled)
    }

    fn reverse_dependencies(&self) -> FxHashMap<(Sym, Sym), Vec<Dependent>> {
        let mut out: FxHashMap<(Sym, Sym), Vec<Dependent>> = FxHashMap::default();
        for (type_sym, row) in self.types.iter().enumerate() {
            let Some(row) = row else { continue };
            let type_sym = Sym::try_from(type_sym).unwrap_or(NO_REL);
            for relation in row.iter().flatten() {
                let rel = relation.name;
                let mut stack = vec![&relation.rewrite];
                while let Some(rw) = stack.pop() {
                    match rw {
                        Rewrite::This => {}
                        Rewrite::Computed(c) => {
                            out.entry((type_sym, *c))
                                .or_default()
                                .push(Dependent::Computed { relation: rel });
                        }
                        Rewrite::TupleToUserset {
                            tupleset, computed, ..
                        } => {
                            let parents = self
                                .relation(type_sym, *tupleset)
                                .map(|r| r.restrictions.as_slice())
                                .unwrap_or(&[]);
                            for parent in parents {
                                out.entry((parent.type_sym, *computed)).or_default().push(
                                    Dependent::TupleToUserset {
                                        object_type: type_sym,
                                        tupleset: *tupleset,
                                        relation: rel,
                                    },
                                );
                            }
                        }
                        Rewrite::Union(c) | Rewrite::Intersection(c) => stack.extend(c.iter()),
                        // Only the base can grant; the subtracted side only takes away.
                        Rewrite::Difference(d) => stack.push(&d.0),
                    }
                }
            }
        }
        out
    }

    /// Whether the type exists.
    pub fn has_type(&self, type_sym: Sym) -> bool {
        matches!(self.types.get(type_sym as usize), Some(Some(_)))
    }

    /// A relation of a type.
    #[inline]
    pub fn relation(&self, type_sym: Sym, rel: Sym) -> Option<&Relation> {
        self.types
            .get(type_sym as usize)?
            .as_ref()?
            .get(rel as usize)?
            .as_ref()
    }

    /// A compiled condition.
    pub fn condition(&self, name: Sym) -> Option<&CompiledCondition> {
        self.conditions.get(&name)
    }

    /// What may become true when `type_sym#rel` does.
    pub fn dependents(&self, type_sym: Sym, rel: Sym) -> &[Dependent] {
        self.dependents
            .get(&(type_sym, rel))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}
