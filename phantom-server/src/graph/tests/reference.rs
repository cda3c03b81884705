//! Random models and tuples, including cycles and wildcards, checked against a reference that
//! shares no code with the engine: strings instead of ids, no index, no memo, no pre-checks.
//!
//! Two families:
//! * monotone models (union, intersection, computed, tuple-to-userset on any parent and on
//!   every parent (SpiceDB's `.all()`), userset restrictions
//!   pointing anywhere, so data may cycle), where the reference computes the least fixpoint
//!   of all facts by plain iteration;
//! * stratified models that also use exclusion, where a relation only refers to relations of
//!   lower index, so nothing can cycle and the reference is naive recursion.

use std::collections::{BTreeSet, HashMap, HashSet};

use proptest::prelude::*;

use crate::graph::model::{
    AuthorizationModel, Metadata, RelationMap, RelationMetadata, RelationReference, TypeDefinition,
    Userset, Validation,
};
use crate::graph::{CheckRequest, Graph, GraphConfig, ListObjectsRequest, TupleKey};

const TYPES: [&str; 3] = ["t0", "t1", "t2"];
const RELATIONS: [&str; 3] = ["r0", "r1", "r2"];
const OBJECTS: usize = 3;
const USERS: usize = 3;

/// A rewrite before it is placed in a model.
#[derive(Clone, Debug)]
enum Rw {
    This,
    Computed(usize),
    Ttu(usize),
    /// Every parent must grant it (SpiceDB's `.all()`); there must be one.
    TtuAll(usize),
    Union(Vec<Rw>),
    Intersection(Vec<Rw>),
    Difference(Box<Rw>, Box<Rw>),
}

/// What a relation's direct tuples may name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Restriction {
    User,
    Wildcard,
    Userset(usize, usize),
}

#[derive(Clone, Debug)]
struct Spec {
    /// Per type, per relation: rewrite and restrictions.
    relations: Vec<Vec<(Rw, Vec<Restriction>)>>,
    tuples: Vec<TupleKey>,
}

fn rewrite(relation: usize, stratified: bool, exclusion: bool) -> BoxedStrategy<Rw> {
    // In a stratified model a relation only refers to lower-indexed relations.
    let lower = if stratified {
        relation
    } else {
        RELATIONS.len()
    };
    let mut leaves: Vec<BoxedStrategy<Rw>> = vec![Just(Rw::This).boxed()];
    if lower > 0 {
        leaves.push((0..lower).prop_map(Rw::Computed).boxed());
        leaves.push((0..lower).prop_map(Rw::Ttu).boxed());
        leaves.push((0..lower).prop_map(Rw::TtuAll).boxed());
    }
    let leaf = proptest::strategy::Union::new(leaves).boxed();
    leaf.prop_recursive(2, 6, 3, move |inner| {
        let mut options = vec![
            proptest::collection::vec(inner.clone(), 2..=3)
                .prop_map(Rw::Union)
                .boxed(),
            proptest::collection::vec(inner.clone(), 2..=3)
                .prop_map(Rw::Intersection)
                .boxed(),
        ];
        if exclusion {
            options.push(
                (inner.clone(), inner)
                    .prop_map(|(a, b)| Rw::Difference(Box::new(a), Box::new(b)))
                    .boxed(),
            );
        }
        proptest::strategy::Union::new(options)
    })
    .boxed()
}

fn restrictions(relation: usize, stratified: bool) -> BoxedStrategy<Vec<Restriction>> {
    let lower = if stratified {
        relation
    } else {
        RELATIONS.len()
    };
    let mut options: Vec<BoxedStrategy<Restriction>> = vec![
        Just(Restriction::User).boxed(),
        Just(Restriction::Wildcard).boxed(),
    ];
    if lower > 0 {
        options.push(
            (0..TYPES.len(), 0..lower)
                .prop_map(|(t, r)| Restriction::Userset(t, r))
                .boxed(),
        );
    }
    proptest::collection::vec(proptest::strategy::Union::new(options), 1..=3)
        .prop_map(|mut v| {
            let mut seen = HashSet::new();
            v.retain(|r| seen.insert(r.clone()));
            v
        })
        .boxed()
}

fn spec(stratified: bool, exclusion: bool) -> impl Strategy<Value = Spec> {
    let relation = |r: usize| {
        (
            rewrite(r, stratified, exclusion),
            restrictions(r, stratified),
        )
    };
    let per_type = (relation(0), relation(1), relation(2)).prop_map(|(a, b, c)| vec![a, b, c]);
    let relations = proptest::collection::vec(per_type, TYPES.len());
    relations
        .prop_flat_map(|relations| {
            let tuple = tuple_strategy(relations.clone());
            (Just(relations), proptest::collection::vec(tuple, 0..24))
        })
        .prop_map(|(relations, mut tuples)| {
            let mut seen = HashSet::new();
            tuples.retain(|t| seen.insert((t.object.clone(), t.relation.clone(), t.user.clone())));
            Spec { relations, tuples }
        })
}

/// Tuples the model allows: relation tuples matching a restriction, and `parent` links.
fn tuple_strategy(relations: Vec<Vec<(Rw, Vec<Restriction>)>>) -> impl Strategy<Value = TupleKey> {
    let object = (0..TYPES.len(), 0..OBJECTS);
    (
        object,
        0..=RELATIONS.len(),
        any::<prop::sample::Index>(),
        0..USERS,
        (0..TYPES.len(), 0..OBJECTS),
    )
        .prop_map(move |((t, o), r, pick, u, (pt, po))| {
            let object = format!("{}:o{o}", TYPES[t]);
            if r == RELATIONS.len() {
                return TupleKey::new(object, "parent", format!("{}:o{po}", TYPES[pt]));
            }
            let options = &relations[t][r].1;
            let user = match pick.get(options) {
                Restriction::User => format!("user:u{u}"),
                Restriction::Wildcard => "user:*".to_owned(),
                Restriction::Userset(ut, ur) => format!("{}:o{po}#{}", TYPES[*ut], RELATIONS[*ur]),
            };
            TupleKey::new(object, RELATIONS[r], user)
        })
}

fn to_userset(rw: &Rw) -> Userset {
    match rw {
        Rw::This => Userset::this(),
        Rw::Computed(r) => Userset::computed(RELATIONS[*r]),
        Rw::Ttu(r) => Userset::tuple_to_userset("parent", RELATIONS[*r]),
        Rw::TtuAll(r) => Userset::tuple_to_userset_all("parent", RELATIONS[*r]),
        Rw::Union(c) => Userset::union(c.iter().map(to_userset).collect()),
        Rw::Intersection(c) => Userset::intersection(c.iter().map(to_userset).collect()),
        Rw::Difference(a, b) => Userset::difference(to_userset(a), to_userset(b)),
    }
}

fn model(spec: &Spec) -> AuthorizationModel {
    let mut types = vec![TypeDefinition {
        type_name: "user".into(),
        relations: RelationMap::default(),
        metadata: None,
    }];
    for (t, relations) in spec.relations.iter().enumerate() {
        let mut map = RelationMap::default();
        let mut metadata = Metadata::default();
        for (r, (rw, restrictions)) in relations.iter().enumerate() {
            map.0.push((RELATIONS[r].to_owned(), to_userset(rw)));
            let refs = restrictions
                .iter()
                .map(|x| match x {
                    Restriction::User => RelationReference::direct("user"),
                    Restriction::Wildcard => RelationReference::wildcard("user"),
                    Restriction::Userset(ut, ur) => {
                        RelationReference::userset(TYPES[*ut], RELATIONS[*ur])
                    }
                })
                .collect();
            metadata.relations.insert(
                RELATIONS[r].to_owned(),
                RelationMetadata {
                    directly_related_user_types: refs,
                    ..Default::default()
                },
            );
        }
        map.0.push(("parent".to_owned(), Userset::this()));
        metadata.relations.insert(
            "parent".to_owned(),
            RelationMetadata {
                directly_related_user_types: TYPES
                    .iter()
                    .map(|t| RelationReference::direct(*t))
                    .collect(),
                ..Default::default()
            },
        );
        types.push(TypeDefinition {
            type_name: TYPES[t].into(),
            relations: map,
            metadata: Some(metadata),
        });
    }
    AuthorizationModel {
        id: None,
        schema_version: "1.1".into(),
        type_definitions: types,
        conditions: Default::default(),
    }
}

/// Every query user: plain users, the wildcard, and every userset.
fn query_users() -> Vec<String> {
    let mut users: Vec<String> = (0..USERS).map(|u| format!("user:u{u}")).collect();
    users.push("user:*".into());
    for t in TYPES {
        for o in 0..OBJECTS {
            for r in RELATIONS {
                users.push(format!("{t}:o{o}#{r}"));
            }
        }
    }
    users
}

fn objects() -> Vec<(usize, String)> {
    (0..TYPES.len())
        .flat_map(|t| (0..OBJECTS).map(move |o| (t, format!("{}:o{o}", TYPES[t]))))
        .collect()
}

/// The reference's view of the data.
struct Data<'a> {
    spec: &'a Spec,
    by_key: HashMap<(String, String), Vec<&'a str>>,
}

impl<'a> Data<'a> {
    fn new(spec: &'a Spec) -> Self {
        let mut by_key: HashMap<(String, String), Vec<&str>> = HashMap::new();
        for t in &spec.tuples {
            by_key
                .entry((t.object.clone(), t.relation.clone()))
                .or_default()
                .push(t.user.as_str());
        }
        Self { spec, by_key }
    }

    fn subjects(&self, object: &str, relation: &str) -> &[&'a str] {
        self.by_key
            .get(&(object.to_owned(), relation.to_owned()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    fn type_index(object: &str) -> usize {
        TYPES
            .iter()
            .position(|t| object.starts_with(&format!("{t}:")))
            .unwrap()
    }
}

/// Whether a direct subject `subject` names `user` on its own (not through a userset).
fn names(subject: &str, user: &str) -> bool {
    subject == user || (subject == "user:*" && user.starts_with("user:") && user != "user:*")
}

/// Least fixpoint of all facts `(object, relation, user)` for monotone models.
fn fixpoint(data: &Data<'_>) -> HashSet<(String, usize, String)> {
    let mut facts: HashSet<(String, usize, String)> = HashSet::new();
    let users = query_users();
    loop {
        let mut changed = false;
        for (t, object) in objects() {
            for r in 0..RELATIONS.len() {
                for user in &users {
                    if facts.contains(&(object.clone(), r, user.clone())) {
                        continue;
                    }
                    let holds = *user == format!("{object}#{}", RELATIONS[r])
                        || eval_monotone(
                            data,
                            &facts,
                            &object,
                            r,
                            &data.spec.relations[t][r].0,
                            user,
                        );
                    if holds {
                        facts.insert((object.clone(), r, user.clone()));
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            return facts;
        }
    }
}

fn eval_monotone(
    data: &Data<'_>,
    facts: &HashSet<(String, usize, String)>,
    object: &str,
    r: usize,
    rw: &Rw,
    user: &str,
) -> bool {
    match rw {
        Rw::This => data
            .subjects(object, RELATIONS[r])
            .iter()
            .any(|s| match s.split_once('#') {
                Some((o, rel)) => {
                    let rel = RELATIONS.iter().position(|x| *x == rel).unwrap();
                    facts.contains(&(o.to_owned(), rel, user.to_owned()))
                }
                None => names(s, user),
            }),
        Rw::Computed(c) => facts.contains(&(object.to_owned(), *c, user.to_owned())),
        Rw::Ttu(c) => data
            .subjects(object, "parent")
            .iter()
            .any(|p| facts.contains(&((*p).to_owned(), *c, user.to_owned()))),
        Rw::TtuAll(c) => {
            let parents = data.subjects(object, "parent");
            !parents.is_empty()
                && parents
                    .iter()
                    .all(|p| facts.contains(&((*p).to_owned(), *c, user.to_owned())))
        }
        Rw::Union(children) => children
            .iter()
            .any(|c| eval_monotone(data, facts, object, r, c, user)),
        Rw::Intersection(children) => children
            .iter()
            .all(|c| eval_monotone(data, facts, object, r, c, user)),
        Rw::Difference(..) => unreachable!("monotone models have no exclusion"),
    }
}

/// Naive recursion for stratified models (which cannot cycle).
fn holds(data: &Data<'_>, object: &str, r: usize, user: &str) -> bool {
    if user == format!("{object}#{}", RELATIONS[r]) {
        return true;
    }
    let t = Data::type_index(object);
    eval_stratified(data, object, r, &data.spec.relations[t][r].0, user)
}

fn eval_stratified(data: &Data<'_>, object: &str, r: usize, rw: &Rw, user: &str) -> bool {
    match rw {
        Rw::This => data
            .subjects(object, RELATIONS[r])
            .iter()
            .any(|s| match s.split_once('#') {
                Some((o, rel)) => holds(
                    data,
                    o,
                    RELATIONS.iter().position(|x| *x == rel).unwrap(),
                    user,
                ),
                None => names(s, user),
            }),
        Rw::Computed(c) => holds(data, object, *c, user),
        Rw::Ttu(c) => data
            .subjects(object, "parent")
            .iter()
            .any(|p| holds(data, p, *c, user)),
        Rw::TtuAll(c) => {
            let parents = data.subjects(object, "parent");
            !parents.is_empty() && parents.iter().all(|p| holds(data, p, *c, user))
        }
        Rw::Union(children) => children
            .iter()
            .any(|c| eval_stratified(data, object, r, c, user)),
        Rw::Intersection(children) => children
            .iter()
            .all(|c| eval_stratified(data, object, r, c, user)),
        Rw::Difference(a, b) => {
            eval_stratified(data, object, r, a, user) && !eval_stratified(data, object, r, b, user)
        }
    }
}

fn graph(spec: &Spec, contextual: bool) -> Graph {
    let mut graph = Graph::with_config(GraphConfig {
        max_depth: 10_000,
        ..GraphConfig::default()
    });
    graph
        .write_model_with(model(spec), Validation::References)
        .unwrap();
    if !contextual {
        graph.apply(&spec.tuples, &[]).unwrap();
    }
    graph
}

fn compare(spec: &Spec, expected: impl Fn(&str, usize, &str) -> bool) -> Result<(), TestCaseError> {
    for contextual in [false, true] {
        let graph = graph(spec, contextual);
        let ctx: &[TupleKey] = if contextual { &spec.tuples } else { &[] };
        for user in query_users() {
            for r in 0..RELATIONS.len() {
                let mut listed = BTreeSet::new();
                for (_, object) in objects() {
                    let want = expected(&object, r, &user);
                    let got = graph
                        .check(
                            &CheckRequest::new(&object, RELATIONS[r], &user).contextual_tuples(ctx),
                        )
                        .map(|c| c.allowed);
                    prop_assert_eq!(
                        got,
                        Ok(want),
                        "check {}#{}@{} (contextual: {})",
                        object,
                        RELATIONS[r],
                        user,
                        contextual
                    );
                    if want {
                        listed.insert(object.clone());
                    }
                }
                for t in TYPES {
                    let mut request = ListObjectsRequest::new(t, RELATIONS[r], &user);
                    request.contextual_tuples = ctx;
                    let got: BTreeSet<String> =
                        graph.list_objects(&request).unwrap().into_iter().collect();
                    let want: BTreeSet<String> = listed
                        .iter()
                        .filter(|o| o.starts_with(&format!("{t}:")))
                        .cloned()
                        .collect();
                    prop_assert_eq!(got, want, "list objects {}#{}@{}", t, RELATIONS[r], user);
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn monotone_models_with_cycles_match_the_fixpoint(spec in spec(false, false)) {
        let data = Data::new(&spec);
        let facts = fixpoint(&data);
        compare(&spec, |o, r, u| facts.contains(&(o.to_owned(), r, u.to_owned())))?;
    }

    #[test]
    fn stratified_models_with_exclusion_match_naive_recursion(spec in spec(true, true)) {
        let data = Data::new(&spec);
        compare(&spec, |o, r, u| holds(&data, o, r, u))?;
    }
}
