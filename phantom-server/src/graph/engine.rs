//! The relationship engine: direct relations, usersets and wildcards.
//!
//! Without an authorization model, a relation holds only through tuples: a
//! subject has `relation` on an object when a tuple names it directly, names
//! `type:*` of its type, or names a userset (`group:eng#member`) it belongs
//! to, followed recursively. Cycles in the data end the search (answered
//! false, never an error); a chain deeper than [`MAX_DEPTH`] is an error of
//! its own, as in OpenFGA. Computed relations (`viewer` implied by `owner`)
//! need a model, which this engine does not interpret yet: it is the
//! embedded default's first version, kept small so that the model-driven
//! engine can replace it behind the same `check` call.

use std::collections::{HashMap, HashSet};

use phantom_sdk::{ObjectRef, Subject, Tuple};

/// Deepest chain of usersets followed before giving up.
pub const MAX_DEPTH: usize = 25;

/// Why a check could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// The chain of usersets is deeper than [`MAX_DEPTH`].
    #[error("resolution too complex: more than {MAX_DEPTH} nested usersets")]
    TooDeep,
}

/// Tuples indexed by `(object, relation)`.
#[derive(Debug, Default)]
pub struct Engine {
    edges: HashMap<(ObjectRef, String), HashSet<Subject>>,
    tuples: usize,
}

impl Engine {
    /// Adds a tuple; adding one twice changes nothing.
    pub fn insert(&mut self, tuple: &Tuple) {
        let added = self
            .edges
            .entry((tuple.object.clone(), tuple.relation.clone()))
            .or_default()
            .insert(tuple.subject.clone());
        self.tuples += usize::from(added);
    }

    /// Removes a tuple; removing a missing one changes nothing.
    pub fn remove(&mut self, tuple: &Tuple) {
        let key = (tuple.object.clone(), tuple.relation.clone());
        if let Some(subjects) = self.edges.get_mut(&key) {
            if subjects.remove(&tuple.subject) {
                self.tuples -= 1;
            }
            if subjects.is_empty() {
                self.edges.remove(&key);
            }
        }
    }

    /// How many tuples are held.
    pub fn len(&self) -> usize {
        self.tuples
    }

    /// Whether `subject` has `relation` on `object`.
    ///
    /// # Errors
    ///
    /// [`CheckError::TooDeep`] when the usersets nest deeper than allowed.
    pub fn check(
        &self,
        subject: &Subject,
        relation: &str,
        object: &ObjectRef,
    ) -> Result<bool, CheckError> {
        let mut visited = HashSet::new();
        self.reach(subject, relation, object, 0, &mut visited)
    }

    fn reach<'a>(
        &'a self,
        subject: &Subject,
        relation: &'a str,
        object: &'a ObjectRef,
        depth: usize,
        visited: &mut HashSet<(&'a ObjectRef, &'a str)>,
    ) -> Result<bool, CheckError> {
        if depth > MAX_DEPTH {
            return Err(CheckError::TooDeep);
        }
        // A userset already on the path cannot add anything new: a cycle.
        if !visited.insert((object, relation)) {
            return Ok(false);
        }
        let Some(subjects) = self.edges.get(&(object.clone(), relation.to_owned())) else {
            return Ok(false);
        };
        if subjects.contains(subject) {
            return Ok(true);
        }
        if let Subject::Object(who) = subject
            && subjects.contains(&Subject::Wildcard {
                kind: who.kind().to_owned(),
            })
        {
            return Ok(true);
        }

        let mut too_deep = false;
        for granted in subjects {
            if let Subject::Userset {
                object: group,
                relation: member,
            } = granted
            {
                match self.reach(subject, member, group, depth + 1, visited) {
                    Ok(true) => return Ok(true),
                    Ok(false) => {}
                    // Another branch may still succeed; only a failure of
                    // every branch reports the depth error.
                    Err(CheckError::TooDeep) => too_deep = true,
                }
            }
        }
        if too_deep {
            Err(CheckError::TooDeep)
        } else {
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(tuples: &[&str]) -> Engine {
        let mut engine = Engine::default();
        for t in tuples {
            engine.insert(&t.parse().unwrap());
        }
        engine
    }

    fn check(
        engine: &Engine,
        subject: &str,
        relation: &str,
        object: &str,
    ) -> Result<bool, CheckError> {
        engine.check(
            &subject.parse().unwrap(),
            relation,
            &object.parse().unwrap(),
        )
    }

    #[test]
    fn direct_userset_and_wildcard_relations_hold() {
        let e = engine(&[
            "resource:doc_456#owner@user:123",
            "resource:doc_1#viewer@group:eng#member",
            "group:eng#member@group:platform#member",
            "group:platform#member@user:ada",
            "resource:public#viewer@user:*",
        ]);
        assert_eq!(check(&e, "user:123", "owner", "resource:doc_456"), Ok(true));
        assert_eq!(
            check(&e, "user:124", "owner", "resource:doc_456"),
            Ok(false)
        );
        assert_eq!(check(&e, "user:ada", "viewer", "resource:doc_1"), Ok(true));
        assert_eq!(
            check(&e, "group:eng#member", "viewer", "resource:doc_1"),
            Ok(true)
        );
        assert_eq!(
            check(&e, "user:anyone", "viewer", "resource:public"),
            Ok(true)
        );
        assert_eq!(
            check(&e, "group:x#member", "viewer", "resource:public"),
            Ok(false)
        );
    }

    #[test]
    fn cycles_answer_false() {
        let e = engine(&[
            "group:a#member@group:b#member",
            "group:b#member@group:a#member",
        ]);
        assert_eq!(check(&e, "user:1", "member", "group:a"), Ok(false));
    }

    #[test]
    fn chains_deeper_than_the_limit_are_an_error() {
        let tuples: Vec<String> = (0..30)
            .map(|i| format!("group:g{i}#member@group:g{}#member", i + 1))
            .chain(std::iter::once("group:g30#member@user:deep".to_owned()))
            .collect();
        let refs: Vec<&str> = tuples.iter().map(String::as_str).collect();
        let e = engine(&refs);
        assert_eq!(
            check(&e, "user:deep", "member", "group:g0"),
            Err(CheckError::TooDeep)
        );
        assert_eq!(check(&e, "user:deep", "member", "group:g10"), Ok(true));
    }

    #[test]
    fn removal_takes_the_relation_away() {
        let mut e = engine(&["resource:doc#owner@user:1"]);
        e.remove(&"resource:doc#owner@user:1".parse().unwrap());
        assert_eq!(check(&e, "user:1", "owner", "resource:doc"), Ok(false));
        assert_eq!(e.len(), 0);
    }
}
