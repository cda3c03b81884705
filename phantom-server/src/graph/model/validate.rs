//! Semantic validation of authorization models (the rules of OpenFGA's model validator).

use std::collections::{HashMap, HashSet};

use super::error::{Target, ValidationIssue};
use super::types::{AuthorizationModel, RelationReference, TypeDefinition, Userset};

/// Names no type or relation may take: they are keywords of the rewrite language.
const RESERVED_NAMES: [&str; 2] = ["self", "this"];

/// How strictly to validate a model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Validation {
    /// Every rule of OpenFGA's validator.
    #[default]
    Full,
    /// Only that every name resolves (types, relations, conditions) and names are well
    /// formed. For models translated from other systems (SpiceDB schemas), whose arrows may
    /// walk userset relations and whose `nil` has no entry point. The engine answers such
    /// models safely: a rewrite with nothing to read is simply false.
    References,
}

/// Finds every semantic issue in `model`; an empty result means the model is valid.
pub fn validate(model: &AuthorizationModel) -> Vec<ValidationIssue> {
    validate_with(model, Validation::Full)
}

/// [`validate`] at the given level.
pub fn validate_with(model: &AuthorizationModel, level: Validation) -> Vec<ValidationIssue> {
    let mut v = Validator {
        model,
        types: HashMap::new(),
        issues: Vec::new(),
        full: level == Validation::Full,
    };
    v.schema();
    v.names();
    v.conditions();
    v.relations();
    // Entry points are only meaningful once every reference resolves; reporting them on a
    // broken model would only repeat the first error in another form.
    if v.issues.is_empty() && v.full {
        v.entry_points();
    }
    v.issues
}

struct Validator<'m> {
    model: &'m AuthorizationModel,
    types: HashMap<&'m str, &'m TypeDefinition>,
    issues: Vec<ValidationIssue>,
    full: bool,
}

/// Type names: no `:`, `#`, `@` or whitespace, 1 to 254 characters.
pub fn is_valid_type_name(name: &str) -> bool {
    is_valid_name(name, 254)
}

/// Relation names: no `:`, `#`, `@` or whitespace, 1 to 50 characters.
pub fn is_valid_relation_name(name: &str) -> bool {
    is_valid_name(name, 50)
}

fn is_valid_name(name: &str, max: usize) -> bool {
    let len = name.chars().count();
    (1..=max).contains(&len)
        && !name
            .chars()
            .any(|c| matches!(c, ':' | '#' | '@') || c.is_whitespace())
}

impl<'m> Validator<'m> {
    fn issue(&mut self, target: Target, message: String) {
        self.issues.push(ValidationIssue {
            message,
            target,
            position: None,
        });
    }

    fn relation_target(type_name: &str, relation: &str) -> Target {
        Target::Relation {
            type_name: type_name.to_owned(),
            relation: relation.to_owned(),
        }
    }

    fn schema(&mut self) {
        match self.model.schema_version.as_str() {
            "" => self.issue(Target::Schema, "schema version required".to_owned()),
            "1.1" | "1.2" => {}
            other => self.issue(Target::Schema, format!("invalid schema {other}")),
        }
    }

    fn names(&mut self) {
        for definition in &self.model.type_definitions {
            let name = definition.type_name.as_str();
            let target = Target::Type(name.to_owned());
            if RESERVED_NAMES.contains(&name) {
                self.issue(
                    target.clone(),
                    "a type cannot be named `self` or `this`".to_owned(),
                );
            } else if !is_valid_type_name(name) {
                self.issue(
                    target.clone(),
                    format!("type `{name}` must be 1 to 254 characters without `:`, `#`, `@` or whitespace"),
                );
            }
            if self.types.insert(name, definition).is_some() {
                self.issue(target, format!("the type `{name}` is a duplicate"));
            }
            for (relation, _) in definition.relations.iter() {
                let target = Self::relation_target(name, relation);
                if RESERVED_NAMES.contains(&relation.as_str()) {
                    self.issue(
                        target,
                        "a relation cannot be named `self` or `this`".to_owned(),
                    );
                } else if !is_valid_relation_name(relation) {
                    self.issue(
                        target,
                        format!("relation `{relation}` must be 1 to 50 characters without `:`, `#`, `@` or whitespace"),
                    );
                }
            }
        }
    }

    fn conditions(&mut self) {
        let mut used = HashSet::new();
        for definition in &self.model.type_definitions {
            if let Some(metadata) = &definition.metadata {
                for relation in metadata.relations.values() {
                    for r in &relation.directly_related_user_types {
                        if !r.condition.is_empty() {
                            used.insert(r.condition.as_str());
                        }
                    }
                }
            }
        }
        for (key, condition) in &self.model.conditions {
            let target = Target::Condition(key.clone());
            if condition.name != *key {
                self.issue(
                    target.clone(),
                    format!(
                        "condition key is `{key}` but its name is `{}`",
                        condition.name
                    ),
                );
            }
            if condition.expression.trim().is_empty() {
                self.issue(
                    target.clone(),
                    format!("condition `{key}` has an empty expression"),
                );
            }
            if self.full && !used.contains(key.as_str()) {
                self.issue(
                    target,
                    format!("`{key}` condition is not used in the model"),
                );
            }
        }
    }

    fn relations(&mut self) {
        for definition in &self.model.type_definitions {
            for (relation, rewrite) in definition.relations.iter() {
                self.rewrite(definition, relation, rewrite);
                self.restrictions(definition, relation);
            }
        }
    }

    fn rewrite(&mut self, definition: &TypeDefinition, relation: &str, rewrite: &Userset) {
        let type_name = definition.type_name.as_str();
        let target = || Self::relation_target(type_name, relation);
        match rewrite {
            Userset::This(_) => {
                if self.full && definition.directly_related_user_types(relation).is_empty() {
                    self.issue(
                        target(),
                        format!("the relation `{relation}` of type `{type_name}` is directly assignable but has no type restrictions"),
                    );
                }
            }
            Userset::ComputedUserset(c) => {
                if !definition.relations.contains(&c.relation) {
                    self.issue(
                        target(),
                        format!("the relation `{}` does not exist", c.relation),
                    );
                }
            }
            Userset::TupleToUserset(ttu) => {
                let tupleset = ttu.tupleset.relation.as_str();
                let computed = ttu.computed_userset.relation.as_str();
                let Some(tupleset_rewrite) = definition.relations.get(tupleset) else {
                    self.issue(
                        target(),
                        format!("the relation `{tupleset}` does not exist"),
                    );
                    return;
                };
                let parents = definition.directly_related_user_types(tupleset);
                if !self.full {
                    return;
                }
                let direct_only = matches!(tupleset_rewrite, Userset::This(_))
                    && parents
                        .iter()
                        .all(|p| p.relation.is_none() && !p.is_wildcard());
                if !direct_only {
                    self.issue(
                        target(),
                        format!(
                            "`{tupleset}` relation used inside from allows only direct relation"
                        ),
                    );
                    return;
                }
                let found = parents.iter().any(|p| {
                    self.types
                        .get(p.type_name.as_str())
                        .is_some_and(|t| t.relations.contains(computed))
                });
                if !found {
                    for p in parents {
                        self.issue(
                            target(),
                            format!(
                                "the `{computed}` relation definition on type `{type_name}` is not valid: `{computed}` does not exist on `{tupleset}`, which is of type `{}`",
                                p.type_name
                            ),
                        );
                    }
                }
            }
            Userset::Union(u) | Userset::Intersection(u) => {
                if self.full {
                    self.duplicate_partials(type_name, relation, u.child.iter());
                }
                for child in &u.child {
                    self.rewrite(definition, relation, child);
                }
            }
            Userset::Difference(d) => {
                if self.full {
                    self.duplicate_partials(
                        type_name,
                        relation,
                        [&d.base, &d.subtract].into_iter(),
                    );
                }
                self.rewrite(definition, relation, &d.base);
                self.rewrite(definition, relation, &d.subtract);
            }
        }
    }

    fn duplicate_partials<'a>(
        &mut self,
        type_name: &str,
        relation: &str,
        children: impl Iterator<Item = &'a Userset>,
    ) {
        let mut seen = HashSet::new();
        for child in children {
            let key = match child {
                Userset::ComputedUserset(c) => c.relation.clone(),
                Userset::TupleToUserset(t) => {
                    format!(
                        "{} from {}{}",
                        t.computed_userset.relation,
                        t.tupleset.relation,
                        if t.all { " (all)" } else { "" }
                    )
                }
                _ => continue,
            };
            if !seen.insert(key.clone()) {
                self.issue(
                    Self::relation_target(type_name, relation),
                    format!("the partial relation definition `{key}` is a duplicate in the relation `{relation}`"),
                );
            }
        }
    }

    fn restrictions(&mut self, definition: &TypeDefinition, relation: &str) {
        let type_name = definition.type_name.as_str();
        let mut seen: HashSet<&RelationReference> = HashSet::new();
        for r in definition.directly_related_user_types(relation) {
            let target = Self::relation_target(type_name, relation);
            match self.types.get(r.type_name.as_str()) {
                None => self.issue(
                    target.clone(),
                    format!("`{}` is not a valid type", r.type_name),
                ),
                Some(t) => {
                    if let Some(rel) = &r.relation
                        && !t.relations.contains(rel)
                    {
                        self.issue(
                            target.clone(),
                            format!("`{rel}` is not a valid relation for `{}`", r.type_name),
                        );
                    }
                }
            }
            if r.relation.is_some() && r.is_wildcard() {
                self.issue(
                    target.clone(),
                    format!(
                        "the type restriction `{}` cannot be both a wildcard and a userset",
                        r.type_name
                    ),
                );
            }
            if !r.condition.is_empty() && !self.model.conditions.contains_key(&r.condition) {
                self.issue(
                    target.clone(),
                    format!("`{}` is not a defined condition in the model", r.condition),
                );
            }
            if !seen.insert(r) {
                self.issue(
                    target,
                    format!(
                        "the type restriction `{r}` is a duplicate in the relation `{relation}`"
                    ),
                );
            }
        }
    }

    fn entry_points(&mut self) {
        for definition in &self.model.type_definitions {
            for (relation, rewrite) in definition.relations.iter() {
                let (has_entry, has_loop) = self.entry_point_or_loop(
                    &definition.type_name,
                    relation,
                    rewrite,
                    &HashSet::new(),
                );
                if !has_entry {
                    let why = if has_loop {
                        "potential loop"
                    } else {
                        "no entrypoint"
                    };
                    self.issue(
                        Self::relation_target(&definition.type_name, relation),
                        format!(
                            "`{relation}` is an impossible relation for `{}` ({why})",
                            definition.type_name
                        ),
                    );
                }
            }
        }
    }

    /// Whether some assignment can ever make `type_name#relation` true, and, when not, whether
    /// that is because the rewrite loops back on itself. `visited` holds the relations on the
    /// current path; each branch works on its own copy, as OpenFGA's validator does.
    fn entry_point_or_loop(
        &self,
        type_name: &str,
        relation: &str,
        rewrite: &Userset,
        visited: &HashSet<(String, String)>,
    ) -> (bool, bool) {
        let mut visited = visited.clone();
        visited.insert((type_name.to_owned(), relation.to_owned()));
        let Some(definition) = self.types.get(type_name) else {
            return (false, false);
        };

        match rewrite {
            Userset::This(_) => {
                for r in definition.directly_related_user_types(relation) {
                    let Some(userset_relation) = &r.relation else {
                        return (true, false);
                    };
                    if r.is_wildcard() {
                        return (true, false);
                    }
                    let Some(target) = self.types.get(r.type_name.as_str()) else {
                        continue;
                    };
                    let Some(target_rewrite) = target.relations.get(userset_relation) else {
                        continue;
                    };
                    if visited.contains(&(r.type_name.clone(), userset_relation.clone())) {
                        continue;
                    }
                    let (entry, _) = self.entry_point_or_loop(
                        &r.type_name,
                        userset_relation,
                        target_rewrite,
                        &visited,
                    );
                    if entry {
                        return (true, false);
                    }
                }
                (false, false)
            }
            Userset::ComputedUserset(c) => {
                let Some(computed) = definition.relations.get(&c.relation) else {
                    return (false, false);
                };
                if visited.contains(&(type_name.to_owned(), c.relation.clone())) {
                    return (false, true);
                }
                self.entry_point_or_loop(type_name, &c.relation, computed, &visited)
            }
            Userset::TupleToUserset(ttu) => {
                let computed = ttu.computed_userset.relation.as_str();
                for parent in definition.directly_related_user_types(&ttu.tupleset.relation) {
                    let Some(parent_type) = self.types.get(parent.type_name.as_str()) else {
                        continue;
                    };
                    let Some(parent_rewrite) = parent_type.relations.get(computed) else {
                        continue;
                    };
                    if visited.contains(&(parent.type_name.clone(), computed.to_owned())) {
                        continue;
                    }
                    let (entry, _) = self.entry_point_or_loop(
                        &parent.type_name,
                        computed,
                        parent_rewrite,
                        &visited,
                    );
                    if entry {
                        return (true, false);
                    }
                }
                (false, false)
            }
            Userset::Union(u) => {
                let mut all_loop = true;
                for child in &u.child {
                    let (entry, has_loop) =
                        self.entry_point_or_loop(type_name, relation, child, &visited);
                    if entry {
                        return (true, false);
                    }
                    all_loop = all_loop && has_loop;
                }
                (false, all_loop)
            }
            Userset::Intersection(u) => {
                for child in &u.child {
                    let (entry, has_loop) =
                        self.entry_point_or_loop(type_name, relation, child, &visited);
                    if !entry {
                        return (false, has_loop);
                    }
                }
                (true, false)
            }
            Userset::Difference(d) => {
                for side in [&d.base, &d.subtract] {
                    let (entry, has_loop) =
                        self.entry_point_or_loop(type_name, relation, side, &visited);
                    if !entry {
                        return (false, has_loop);
                    }
                }
                (true, false)
            }
        }
    }
}
