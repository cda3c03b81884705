//! Authorization models: OpenFGA's JSON form, its modelling language, and validation.
//!
//! ```
//! use phantom_server::graph::model::AuthorizationModel;
//!
//! let model = AuthorizationModel::from_dsl(
//!     "model\n  schema 1.1\ntype user\ntype document\n  relations\n    define viewer: [user]\n",
//! )?;
//! assert_eq!(model.type_definitions.len(), 2);
//! let json = serde_json::to_string(&model)?;
//! assert_eq!(AuthorizationModel::from_json(&json)?, model);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod dsl;
mod error;
pub mod spicedb;
mod types;
mod validate;

pub use dsl::{Position, SourceMap, parse_dsl, parse_dsl_with_source_map, to_dsl};
pub use error::{ModelError, SyntaxError, Target, ValidationIssue};
pub use types::{
    AuthorizationModel, Condition, ConditionParamTypeRef, Difference, DirectUserset, Metadata,
    ObjectRelation, RelationMap, RelationMetadata, RelationReference, TupleToUserset,
    TypeDefinition, TypeName, Userset, Usersets, Wildcard,
};
pub use validate::{
    Validation, is_valid_relation_name, is_valid_type_name, validate, validate_with,
};

impl AuthorizationModel {
    /// Parses and validates a model written in OpenFGA's DSL.
    ///
    /// # Errors
    ///
    /// [`ModelError::Syntax`] for text that does not follow the grammar,
    /// [`ModelError::Invalid`] (each issue with its line) for a model that breaks a semantic
    /// rule, [`ModelError::Unsupported`] for modular models.
    pub fn from_dsl(source: &str) -> Result<Self, ModelError> {
        let (model, source_map) = parse_dsl_with_source_map(source)?;
        let mut issues = validate(&model);
        if issues.is_empty() {
            return Ok(model);
        }
        for issue in &mut issues {
            issue.position = position_of(&source_map, &issue.target);
        }
        Err(ModelError::Invalid(issues))
    }

    /// Parses and validates a model in OpenFGA's JSON form.
    ///
    /// # Errors
    ///
    /// [`ModelError::Json`] for JSON of the wrong shape, [`ModelError::Invalid`] for a model
    /// that breaks a semantic rule.
    pub fn from_json(json: &str) -> Result<Self, ModelError> {
        let model: Self =
            serde_json::from_str(json).map_err(|e| ModelError::Json(e.to_string()))?;
        model.validate()?;
        Ok(model)
    }

    /// Checks the semantic rules.
    ///
    /// # Errors
    ///
    /// [`ModelError::Invalid`] listing every issue found.
    pub fn validate(&self) -> Result<(), ModelError> {
        self.validate_at(Validation::Full)
    }

    /// Checks the semantic rules at the given level.
    ///
    /// # Errors
    ///
    /// [`ModelError::Invalid`] listing every issue found.
    pub fn validate_at(&self, level: Validation) -> Result<(), ModelError> {
        let issues = validate_with(self, level);
        if issues.is_empty() {
            Ok(())
        } else {
            Err(ModelError::Invalid(issues))
        }
    }

    /// Writes the model in OpenFGA's DSL.
    ///
    /// # Errors
    ///
    /// [`ModelError::NotExpressible`] for rewrites the DSL cannot express.
    pub fn to_dsl(&self) -> Result<String, ModelError> {
        to_dsl(self)
    }
}

fn position_of(source_map: &SourceMap, target: &Target) -> Option<Position> {
    match target {
        Target::Model => None,
        Target::Schema => Some(source_map.schema),
        Target::Type(name) => source_map
            .types
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| *p),
        Target::Relation {
            type_name,
            relation,
        } => source_map
            .relations
            .get(&(type_name.clone(), relation.clone()))
            .copied(),
        Target::Condition(name) => source_map.conditions.get(name).copied(),
    }
}
