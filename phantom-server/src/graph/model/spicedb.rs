//! Translation of SpiceDB's schema language into an OpenFGA model, for the features both
//! share: definitions, relations with `|` type lists (`user`, `user:*`, `group#member`,
//! `user with caveat`, `with expiration`), permissions with `+`, `&`, `-`, `->`, `.any()` and
//! `.all()` (an intersection arrow, which OpenFGA has no rewrite for: it becomes a
//! tuple-to-userset marked `all`, Phantom's one extension of the model), `nil`, and caveats
//! (CEL, as OpenFGA conditions).
//!
//! What does not translate is an error naming the feature: `use self` / `self`.
//!
//! Differences the caller must know: SpiceDB arrows may walk relations whose subjects are
//! usersets or several types; the translated model keeps them, so it must be loaded with
//! [`super::Validation::References`]. Relationship expiration is not part of the model: drop
//! expired relationships when loading them. `nil` becomes an empty union, which is never
//! true.

use std::collections::BTreeMap;

use super::error::{ModelError, SyntaxError};
use super::types::{
    AuthorizationModel, Condition, ConditionParamTypeRef, Metadata, RelationMap, RelationMetadata,
    RelationReference, TypeDefinition, TypeName, Userset,
};

/// Translates a SpiceDB schema.
///
/// # Errors
///
/// [`ModelError::Syntax`] for text that is not a SpiceDB schema, [`ModelError::Unsupported`]
/// for features with no OpenFGA equivalent.
pub fn from_spicedb_schema(schema: &str) -> Result<AuthorizationModel, ModelError> {
    let tokens = lex(schema)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        nesting: 0,
    };
    parser.schema()
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Punct(&'static str),
    Body(String),
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: u32,
    column: u32,
}

const PUNCTS: [&str; 15] = [
    "->", "{", "}", "(", ")", ":", "|", "=", "+", "&", "-", "#", "*", ",", ".",
];

fn lex(src: &str) -> Result<Vec<Token>, ModelError> {
    let chars: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let (mut i, mut line, mut line_start) = (0usize, 1u32, 0usize);
    let mut caveat_pending = false;
    let mut paren_depth = 0usize;
    while let Some(&c) = chars.get(i) {
        let column = u32::try_from(i - line_start + 1).unwrap_or(u32::MAX);
        if c == '\n' {
            line += 1;
            i += 1;
            line_start = i;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while chars.get(i).is_some_and(|c| *c != '\n') {
                i += 1;
            }
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                if chars[i] == '\n' {
                    line += 1;
                    line_start = i + 1;
                }
                i += 1;
            }
            i += 2;
            continue;
        }
        // A caveat's body is CEL: take it verbatim up to the matching brace.
        if c == '{' && caveat_pending && paren_depth == 0 {
            caveat_pending = false;
            let start = i + 1;
            let mut depth = 1usize;
            i += 1;
            while let Some(&d) = chars.get(i) {
                match d {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    '\n' => {
                        line += 1;
                        line_start = i + 1;
                    }
                    _ => {}
                }
                i += 1;
            }
            let body: String = chars.get(start..i).unwrap_or_default().iter().collect();
            tokens.push(Token {
                tok: Tok::Body(body.trim().to_owned()),
                line,
                column,
            });
            i += 1;
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            let start = i;
            // Inside a caveat's parameter list, `list<int>` is one word.
            let in_parameters = caveat_pending && paren_depth > 0;
            while chars.get(i).is_some_and(|c| {
                c.is_alphanumeric()
                    || *c == '_'
                    || *c == '/'
                    || (in_parameters && (*c == '<' || *c == '>'))
            }) {
                i += 1;
            }
            let word: String = chars.get(start..i).unwrap_or_default().iter().collect();
            if word == "caveat"
                && tokens.last().is_none_or(|t: &Token| {
                    matches!(t.tok, Tok::Punct("}") | Tok::Body(_) | Tok::Ident(_))
                })
            {
                caveat_pending = true;
            }
            tokens.push(Token {
                tok: Tok::Ident(word),
                line,
                column,
            });
            continue;
        }
        let rest: String = chars
            .get(i..(i + 2).min(chars.len()))
            .unwrap_or_default()
            .iter()
            .collect();
        let Some(p) = PUNCTS.iter().find(|p| rest.starts_with(**p)) else {
            return Err(ModelError::Syntax(SyntaxError {
                line,
                column,
                expected: "a spicedb schema token".to_owned(),
                found: format!("`{c}`"),
            }));
        };
        if caveat_pending {
            match *p {
                "(" => paren_depth += 1,
                ")" => paren_depth = paren_depth.saturating_sub(1),
                _ => {}
            }
        }
        tokens.push(Token {
            tok: Tok::Punct(p),
            line,
            column,
        });
        i += p.chars().count();
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    nesting: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    fn error(&self, expected: &str) -> ModelError {
        let (line, column, found) = match self.tokens.get(self.pos) {
            Some(t) => (t.line, t.column, format!("{:?}", t.tok)),
            None => (
                self.tokens.last().map_or(1, |t| t.line),
                1,
                "end of input".to_owned(),
            ),
        };
        ModelError::Syntax(SyntaxError {
            line,
            column,
            expected: expected.to_owned(),
            found,
        })
    }

    fn ident(&mut self, what: &str) -> Result<String, ModelError> {
        match self.peek() {
            Some(Tok::Ident(w)) => {
                let w = w.clone();
                self.pos += 1;
                Ok(w)
            }
            _ => Err(self.error(what)),
        }
    }

    fn punct(&mut self, p: &'static str) -> Result<(), ModelError> {
        if self.peek() == Some(&Tok::Punct(p)) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("`{p}`")))
        }
    }

    fn eat_punct(&mut self, p: &'static str) -> bool {
        let found = self.peek() == Some(&Tok::Punct(p));
        if found {
            self.pos += 1;
        }
        found
    }

    fn at_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w == word)
    }

    fn schema(&mut self) -> Result<AuthorizationModel, ModelError> {
        let mut model = AuthorizationModel {
            schema_version: "1.1".to_owned(),
            ..AuthorizationModel::default()
        };
        while let Some(tok) = self.peek() {
            match tok {
                Tok::Ident(w) if w == "use" => {
                    self.pos += 1;
                    let feature = self.ident("a feature name")?;
                    if feature != "expiration" {
                        return Err(ModelError::Unsupported(format!("`use {feature}`")));
                    }
                }
                Tok::Ident(w) if w == "definition" => {
                    self.pos += 1;
                    model.type_definitions.push(self.definition()?);
                }
                Tok::Ident(w) if w == "caveat" => {
                    self.pos += 1;
                    let condition = self.caveat()?;
                    model.conditions.insert(condition.name.clone(), condition);
                }
                _ => return Err(self.error("`definition`, `caveat` or `use`")),
            }
        }
        Ok(model)
    }

    fn definition(&mut self) -> Result<TypeDefinition, ModelError> {
        let type_name = self.ident("a definition name")?;
        self.punct("{")?;
        let mut relations = RelationMap::default();
        let mut metadata = Metadata::default();
        loop {
            if self.eat_punct("}") {
                break;
            }
            let keyword = self.ident("`relation`, `permission` or `}`")?;
            let name = self.ident("a relation name")?;
            match keyword.as_str() {
                "relation" => {
                    self.punct(":")?;
                    let mut types = vec![self.type_reference()?];
                    while self.eat_punct("|") {
                        types.push(self.type_reference()?);
                    }
                    relations.0.push((name.clone(), Userset::this()));
                    metadata.relations.insert(
                        name,
                        RelationMetadata {
                            directly_related_user_types: types,
                            module: None,
                            source_info: None,
                        },
                    );
                }
                "permission" => {
                    self.punct("=")?;
                    let rewrite = self.exclusion()?;
                    relations.0.push((name.clone(), rewrite));
                    metadata.relations.insert(name, RelationMetadata::default());
                }
                _ => {
                    self.pos -= 2;
                    return Err(self.error("`relation` or `permission`"));
                }
            }
        }
        let metadata = if relations.is_empty() {
            None
        } else {
            Some(metadata)
        };
        Ok(TypeDefinition {
            type_name,
            relations,
            metadata,
        })
    }

    fn type_reference(&mut self) -> Result<RelationReference, ModelError> {
        let type_name = self.ident("a type name")?;
        let mut reference = if self.eat_punct(":") {
            self.punct("*")?;
            RelationReference::wildcard(type_name)
        } else if self.eat_punct("#") {
            let relation = self.ident("a relation name")?;
            if relation == "..." {
                RelationReference::direct(type_name)
            } else {
                RelationReference::userset(type_name, relation)
            }
        } else {
            RelationReference::direct(type_name)
        };
        if self.at_word("with") {
            self.pos += 1;
            let trait_name = self.ident("a caveat name or `expiration`")?;
            if trait_name != "expiration" {
                reference.condition = trait_name;
                if self.at_word("and") {
                    self.pos += 1;
                    let second = self.ident("`expiration`")?;
                    if second != "expiration" {
                        return Err(self.error("`expiration`"));
                    }
                }
            }
        }
        Ok(reference)
    }

    /// `-` binds loosest, then `&`, then `+` (SpiceDB's historical precedence).
    fn exclusion(&mut self) -> Result<Userset, ModelError> {
        let mut left = self.intersection()?;
        while self.eat_punct("-") {
            let right = self.intersection()?;
            left = Userset::difference(left, right);
        }
        Ok(left)
    }

    fn intersection(&mut self) -> Result<Userset, ModelError> {
        let mut children = vec![self.union()?];
        while self.eat_punct("&") {
            children.push(self.union()?);
        }
        Ok(if children.len() == 1 {
            children.remove(0)
        } else {
            Userset::intersection(children)
        })
    }

    fn union(&mut self) -> Result<Userset, ModelError> {
        let mut children = vec![self.arrow()?];
        while self.eat_punct("+") {
            children.push(self.arrow()?);
        }
        Ok(if children.len() == 1 {
            children.remove(0)
        } else {
            Userset::union(children)
        })
    }

    fn arrow(&mut self) -> Result<Userset, ModelError> {
        if self.eat_punct("(") {
            if self.nesting >= super::dsl::MAX_NESTING {
                return Err(self.error("fewer nested parentheses"));
            }
            self.nesting += 1;
            let inner = self.exclusion();
            self.nesting -= 1;
            let inner = inner?;
            self.punct(")")?;
            return Ok(inner);
        }
        let name = self.ident("a relation, permission, `nil` or `(`")?;
        if name == "nil" {
            return Ok(Userset::union(Vec::new()));
        }
        if name == "self" {
            return Err(ModelError::Unsupported("`self`".to_owned()));
        }
        if self.eat_punct("->") {
            let computed = self.ident("a relation or permission after `->`")?;
            return Ok(Userset::tuple_to_userset(name, computed));
        }
        if self.eat_punct(".") {
            let function = self.ident("`any` or `all`")?;
            self.punct("(")?;
            let computed = self.ident("a relation or permission")?;
            self.punct(")")?;
            return match function.as_str() {
                "any" => Ok(Userset::tuple_to_userset(name, computed)),
                "all" => Ok(Userset::tuple_to_userset_all(name, computed)),
                _ => Err(self.error("`any` or `all`")),
            };
        }
        Ok(Userset::computed(name))
    }

    fn caveat(&mut self) -> Result<Condition, ModelError> {
        let name = self.ident("a caveat name")?;
        self.punct("(")?;
        let mut parameters = BTreeMap::new();
        loop {
            let parameter = self.ident("a parameter name")?;
            let type_text = self.ident("a parameter type")?;
            parameters.insert(
                parameter,
                parameter_type(&type_text).ok_or_else(|| self.error("a caveat parameter type"))?,
            );
            if self.eat_punct(")") {
                break;
            }
            self.punct(",")?;
        }
        let expression = match self.peek() {
            Some(Tok::Body(b)) => b.clone(),
            _ => return Err(self.error("`{` and a CEL expression")),
        };
        self.pos += 1;
        Ok(Condition {
            name,
            expression,
            parameters,
            metadata: None,
        })
    }
}

fn parameter_type(text: &str) -> Option<ConditionParamTypeRef> {
    if let Some((container, rest)) = text.split_once('<') {
        let element = rest.strip_suffix('>')?;
        let container = match container {
            "list" => TypeName::List,
            "map" => TypeName::Map,
            _ => return None,
        };
        return Some(ConditionParamTypeRef {
            type_name: container,
            generic_types: vec![parameter_type(element)?],
        });
    }
    let scalar = match text {
        "any" => TypeName::Any,
        "int" => TypeName::Int,
        "uint" => TypeName::Uint,
        "bool" => TypeName::Bool,
        "string" => TypeName::String,
        "double" => TypeName::Double,
        "bytes" => return None,
        "duration" => TypeName::Duration,
        "timestamp" => TypeName::Timestamp,
        "ipaddress" => TypeName::IpAddress,
        _ => return None,
    };
    Some(ConditionParamTypeRef::scalar(scalar))
}
