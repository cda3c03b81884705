//! OpenFGA's modelling language (schema 1.1): a hand-written parser into
//! [`AuthorizationModel`], and [`to_dsl`] for the reverse direction.
//!
//! The grammar follows OpenFGA's ANTLR grammar (`OpenFGAParser.g4`): the language is line
//! oriented (`model`, `schema`, `type`, `relations`, `define`, `condition`), indentation is not
//! significant, `#` starts a comment when it begins a line or follows whitespace, and inside a
//! relation definition `or` / `and` may be chained but not mixed, and `but not` takes exactly
//! one right operand, unless parentheses group them. A type restriction `[...]` may only be the
//! first operand of a relation definition (or of a parenthesised group in first position).

use std::collections::HashMap;
use std::fmt::Write as _;

use super::error::{ModelError, SyntaxError};
use super::types::{
    AuthorizationModel, Condition, ConditionParamTypeRef, Metadata, RelationMap, RelationMetadata,
    RelationReference, TypeDefinition, TypeName, Userset,
};

/// A 1-based line and column in DSL source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

/// Where each named element of a parsed model was declared, so that semantic errors found on
/// the JSON form can point back at the source.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    /// The `schema` line.
    pub schema: Position,
    /// `type NAME` lines (the first declaration of each name, then duplicates in order).
    pub types: Vec<(String, Position)>,
    /// `define NAME` lines, by (type, relation).
    pub relations: HashMap<(String, String), Position>,
    /// `condition NAME` lines.
    pub conditions: HashMap<String, Position>,
}

/// Parses a model written in OpenFGA's DSL.
///
/// # Errors
///
/// [`ModelError::Syntax`] with the line, column and what was expected when the text does not
/// follow the grammar, and [`ModelError::Unsupported`] for modular models (`module`, `extend`).
/// Semantic checks are separate: [`super::AuthorizationModel::from_dsl`] parses and validates.
pub fn parse_dsl(source: &str) -> Result<AuthorizationModel, ModelError> {
    parse_dsl_with_source_map(source).map(|(model, _)| model)
}

/// [`parse_dsl`], also returning where each element was declared.
///
/// # Errors
///
/// As [`parse_dsl`].
pub fn parse_dsl_with_source_map(
    source: &str,
) -> Result<(AuthorizationModel, SourceMap), ModelError> {
    let mut parser = Parser::new(source);
    let model = parser.model()?;
    Ok((model, parser.source_map))
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    line_start: usize,
    source_map: SourceMap,
    /// Open parentheses around the cursor, bounded by [`MAX_NESTING`].
    nesting: usize,
}

/// The deepest parenthesised nesting a relation definition may use. Parsing is recursive, so
/// without a bound a hostile model could exhaust the stack.
pub const MAX_NESTING: usize = 64;

/// The operator joining the operands of one relation definition level.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Operator {
    Or,
    And,
    ButNot,
}

impl Operator {
    fn keyword(self) -> &'static str {
        match self {
            Self::Or => "or",
            Self::And => "and",
            Self::ButNot => "but not",
        }
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_continue(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/')
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\x0c')
}

fn is_newline(b: u8) -> bool {
    matches!(b, b'\n' | b'\r')
}

type Parsed<T> = Result<T, ModelError>;

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        Self {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            line: 1,
            line_start: 0,
            source_map: SourceMap::default(),
            nesting: 0,
        }
    }

    // ---- low-level cursor ----

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    fn position(&self) -> Position {
        // Columns count characters, not bytes, so that non-ASCII comments do not skew them.
        let column = self
            .src
            .get(self.line_start..self.pos)
            .map_or(0, |s| s.chars().count());
        Position {
            line: self.line,
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }

    /// Advances over one character, keeping track of lines.
    fn bump(&mut self) {
        let Some(b) = self.peek() else { return };
        if b == b'\r' && self.peek_at(1) == Some(b'\n') {
            self.pos += 2;
        } else if b < 0x80 {
            self.pos += 1;
        } else {
            let width = self
                .src
                .get(self.pos..)
                .and_then(|s| s.chars().next())
                .map_or(1, char::len_utf8);
            self.pos += width;
        }
        if is_newline(b) {
            self.line += 1;
            self.line_start = self.pos;
        }
    }

    fn skip_spaces(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
        self.pos > start
    }

    fn skip_spaces_and_newlines(&mut self) {
        while self.peek().is_some_and(|b| is_space(b) || is_newline(b)) {
            self.bump();
        }
    }

    fn skip_to_line_end(&mut self) {
        while self.peek().is_some_and(|b| !is_newline(b)) {
            self.bump();
        }
    }

    /// Skips blank lines and comment lines; leaves the cursor on the first significant
    /// character (after its indentation) or at the end of input.
    fn skip_blank_lines(&mut self) {
        loop {
            self.skip_spaces();
            match self.peek() {
                Some(b'#') => self.skip_to_line_end(),
                Some(b) if is_newline(b) => self.bump(),
                _ => return,
            }
        }
    }

    /// Whether the previous character is whitespace or the start of a line, so that `#` here
    /// starts a comment rather than a `type#relation` reference.
    fn comment_allowed_here(&self) -> bool {
        self.pos == self.line_start
            || self
                .pos
                .checked_sub(1)
                .and_then(|p| self.bytes.get(p))
                .is_some_and(|b| is_space(*b))
    }

    /// Requires the end of the current line (optionally after a comment) and moves past it.
    fn end_line(&mut self) -> Parsed<()> {
        self.skip_spaces();
        if self.peek() == Some(b'#') && self.comment_allowed_here() {
            self.skip_to_line_end();
        }
        match self.peek() {
            None => Ok(()),
            Some(b) if is_newline(b) => {
                self.bump();
                Ok(())
            }
            Some(_) => Err(self.error("end of line")),
        }
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        let end = self.pos + keyword.len();
        self.bytes.get(self.pos..end) == Some(keyword.as_bytes())
            && !self.bytes.get(end).copied().is_some_and(is_ident_continue)
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        if self.at_keyword(keyword) {
            self.pos += keyword.len();
            true
        } else {
            false
        }
    }

    fn expect_keyword(&mut self, keyword: &str) -> Parsed<()> {
        if self.eat_keyword(keyword) {
            Ok(())
        } else {
            Err(self.error(&format!("`{keyword}`")))
        }
    }

    fn expect_byte(&mut self, b: u8, what: &str) -> Parsed<()> {
        if self.peek() == Some(b) {
            self.bump();
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    fn expect_spaces(&mut self) -> Parsed<()> {
        if self.skip_spaces() {
            Ok(())
        } else {
            Err(self.error("a space"))
        }
    }

    fn identifier(&mut self, what: &str) -> Parsed<String> {
        match self.peek() {
            Some(b) if is_ident_start(b) => {
                let start = self.pos;
                while self.peek().is_some_and(is_ident_continue) {
                    self.pos += 1;
                }
                Ok(self.src.get(start..self.pos).unwrap_or_default().to_owned())
            }
            _ => Err(self.error(what)),
        }
    }

    /// What the cursor is looking at, for error messages.
    fn found(&self) -> String {
        match self.peek() {
            None => "end of input".to_owned(),
            Some(b) if is_newline(b) => "end of line".to_owned(),
            Some(b) if is_ident_continue(b) => {
                let end = self.bytes[self.pos..]
                    .iter()
                    .position(|b| !is_ident_continue(*b))
                    .map_or(self.bytes.len(), |n| self.pos + n);
                format!("`{}`", self.src.get(self.pos..end).unwrap_or_default())
            }
            Some(_) => {
                let c = self
                    .src
                    .get(self.pos..)
                    .and_then(|s| s.chars().next())
                    .unwrap_or('?');
                format!("`{c}`")
            }
        }
    }

    fn error(&self, expected: &str) -> ModelError {
        let at = self.position();
        ModelError::Syntax(SyntaxError {
            line: at.line,
            column: at.column,
            expected: expected.to_owned(),
            found: self.found(),
        })
    }

    fn error_at(&self, at: Position, message: String) -> ModelError {
        ModelError::Syntax(SyntaxError {
            line: at.line,
            column: at.column,
            expected: message,
            found: String::new(),
        })
    }

    // ---- grammar ----

    fn model(&mut self) -> Parsed<AuthorizationModel> {
        self.skip_blank_lines();
        if self.at_keyword("module") {
            return Err(ModelError::Unsupported(
                "modular models (`module`, `extend`, fga.mod) are not supported; \
                 combine the modules into one model"
                    .to_owned(),
            ));
        }
        self.expect_keyword("model")?;
        self.end_line()?;

        self.skip_blank_lines();
        self.source_map.schema = self.position();
        self.expect_keyword("schema")?;
        self.expect_spaces()?;
        let schema_version = self.schema_version()?;
        self.end_line()?;

        let mut model = AuthorizationModel {
            id: None,
            schema_version,
            type_definitions: Vec::new(),
            conditions: Default::default(),
        };
        loop {
            self.skip_blank_lines();
            if self.peek().is_none() {
                return Ok(model);
            }
            if self.at_keyword("type") {
                if !model.conditions.is_empty() {
                    return Err(self.error("`condition` (types come before conditions)"));
                }
                let definition = self.type_definition()?;
                model.type_definitions.push(definition);
            } else if self.at_keyword("condition") {
                let at = self.position();
                let condition = self.condition()?;
                if model.conditions.contains_key(&condition.name) {
                    return Err(self.error_at(
                        at,
                        format!("condition `{}` to be defined only once", condition.name),
                    ));
                }
                self.source_map
                    .conditions
                    .insert(condition.name.clone(), at);
                model.conditions.insert(condition.name.clone(), condition);
            } else if self.at_keyword("extend") {
                return Err(ModelError::Unsupported(
                    "`extend type` is only valid in modular models, which are not supported"
                        .to_owned(),
                ));
            } else {
                return Err(self.error("`type`, `condition` or end of input"));
            }
        }
    }

    fn schema_version(&mut self) -> Parsed<String> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.peek().is_some_and(|b| b.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos > s
        };
        let ok = digits(self) && self.peek() == Some(b'.') && {
            self.pos += 1;
            digits(self)
        };
        if !ok || self.peek().is_some_and(is_ident_continue) {
            self.pos = start;
            return Err(self.error("a schema version such as `1.1`"));
        }
        Ok(self.src.get(start..self.pos).unwrap_or_default().to_owned())
    }

    fn type_definition(&mut self) -> Parsed<TypeDefinition> {
        let at = self.position();
        self.expect_keyword("type")?;
        self.expect_spaces()?;
        let type_name = self.identifier("a type name")?;
        self.end_line()?;
        self.source_map.types.push((type_name.clone(), at));

        let mut definition = TypeDefinition {
            type_name: type_name.clone(),
            relations: RelationMap::default(),
            metadata: None,
        };
        self.skip_blank_lines();
        if !self.eat_keyword("relations") {
            return Ok(definition);
        }
        self.end_line()?;

        let mut metadata = Metadata::default();
        loop {
            self.skip_blank_lines();
            if !self.at_keyword("define") {
                break;
            }
            let at = self.position();
            let (name, rewrite, direct) = self.relation_declaration()?;
            if definition.relations.contains(&name) {
                return Err(self.error_at(
                    at,
                    format!("relation `{name}` to be defined only once in type `{type_name}`"),
                ));
            }
            self.source_map
                .relations
                .insert((type_name.clone(), name.clone()), at);
            metadata.relations.insert(
                name.clone(),
                RelationMetadata {
                    directly_related_user_types: direct.unwrap_or_default(),
                    module: None,
                    source_info: None,
                },
            );
            definition.relations.0.push((name, rewrite));
        }
        if definition.relations.is_empty() {
            return Err(self.error("`define` (`relations` needs at least one relation)"));
        }
        definition.metadata = Some(metadata);
        Ok(definition)
    }

    fn relation_declaration(
        &mut self,
    ) -> Parsed<(String, Userset, Option<Vec<RelationReference>>)> {
        self.expect_keyword("define")?;
        self.expect_spaces()?;
        let name = self.identifier("a relation name")?;
        self.skip_spaces();
        self.expect_byte(b':', "`:`")?;
        self.skip_spaces();
        let mut direct = None;
        let rewrite = self.relation_def(true, &mut direct)?;
        if self.peek() == Some(b')') {
            return Err(self.error("end of line (unbalanced `)`)"));
        }
        self.end_line()?;
        Ok((name, rewrite, direct))
    }

    /// One level of a relation definition: operands joined by a single kind of operator.
    fn relation_def(
        &mut self,
        allow_direct: bool,
        direct: &mut Option<Vec<RelationReference>>,
    ) -> Parsed<Userset> {
        let first = self.operand(allow_direct, direct)?;

        let Some(operator) = self.peek_operator() else {
            return Ok(first);
        };
        let mut children = vec![first];
        loop {
            self.skip_spaces();
            self.eat_operator(operator);
            self.expect_spaces()?;
            children.push(self.operand(false, direct)?);
            match self.peek_operator() {
                None => break,
                Some(next) if next == operator && operator != Operator::ButNot => continue,
                Some(_) => {
                    self.skip_spaces();
                    return Err(self.error(
                        "end of line or `)` (mixing `or`, `and` and `but not` needs parentheses)",
                    ));
                }
            }
        }
        Ok(match operator {
            Operator::Or => Userset::union(children),
            Operator::And => Userset::intersection(children),
            Operator::ButNot => {
                let mut it = children.into_iter();
                match (it.next(), it.next()) {
                    (Some(base), Some(subtract)) => Userset::difference(base, subtract),
                    _ => return Err(self.error("an operand after `but not`")),
                }
            }
        })
    }

    /// The operator after the current operand, without consuming anything.
    fn peek_operator(&mut self) -> Option<Operator> {
        let save = self.pos;
        let spaced = self.skip_spaces();
        let found = if !spaced {
            None
        } else if self.at_keyword("or") {
            Some(Operator::Or)
        } else if self.at_keyword("and") {
            Some(Operator::And)
        } else if self.at_keyword("but") {
            let after_but = self.pos + 3;
            let rest = self.bytes.get(after_but..).unwrap_or_default();
            let spaces = rest.iter().take_while(|b| is_space(**b)).count();
            let not_at = after_but + spaces;
            let is_not = spaces > 0
                && self.bytes.get(not_at..not_at + 3) == Some(b"not".as_slice())
                && !self
                    .bytes
                    .get(not_at + 3)
                    .copied()
                    .is_some_and(is_ident_continue);
            if is_not { Some(Operator::ButNot) } else { None }
        } else {
            None
        };
        self.pos = save;
        found
    }

    fn eat_operator(&mut self, operator: Operator) {
        if operator == Operator::ButNot {
            self.eat_keyword("but");
            self.skip_spaces();
            self.eat_keyword("not");
        } else {
            self.eat_keyword(operator.keyword());
        }
    }

    fn operand(
        &mut self,
        allow_direct: bool,
        direct: &mut Option<Vec<RelationReference>>,
    ) -> Parsed<Userset> {
        match self.peek() {
            Some(b'[') => {
                if !allow_direct || direct.is_some() {
                    return Err(self.error(
                        "a relation name or `(` (a type restriction `[...]` can only be the \
                         first operand)",
                    ));
                }
                *direct = Some(self.direct_assignment()?);
                Ok(Userset::this())
            }
            Some(b'(') => {
                if self.nesting >= MAX_NESTING {
                    return Err(self.error(&format!("at most {MAX_NESTING} nested parentheses")));
                }
                self.bump();
                self.skip_spaces();
                self.nesting += 1;
                let inner = self.relation_def(allow_direct, direct);
                self.nesting -= 1;
                let inner = inner?;
                self.skip_spaces();
                self.expect_byte(
                    b')',
                    "`)` (mixing `or`, `and` and `but not` needs parentheses)",
                )?;
                Ok(inner)
            }
            Some(b) if is_ident_start(b) => {
                let computed = self.identifier("a relation name")?;
                let save = self.pos;
                if self.skip_spaces() && self.eat_keyword("from") {
                    self.expect_spaces()?;
                    let tupleset = self.identifier("a relation name after `from`")?;
                    return Ok(Userset::tuple_to_userset(tupleset, computed));
                }
                self.pos = save;
                Ok(Userset::computed(computed))
            }
            _ => Err(self.error("`[`, `(` or a relation name")),
        }
    }

    fn direct_assignment(&mut self) -> Parsed<Vec<RelationReference>> {
        self.expect_byte(b'[', "`[`")?;
        let mut restrictions = Vec::new();
        loop {
            self.skip_spaces_and_newlines();
            restrictions.push(self.type_restriction()?);
            self.skip_spaces_and_newlines();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b']') => {
                    self.bump();
                    return Ok(restrictions);
                }
                _ => return Err(self.error("`,` or `]`")),
            }
        }
    }

    fn type_restriction(&mut self) -> Parsed<RelationReference> {
        let type_name = self.identifier("a type name")?;
        let mut restriction = match self.peek() {
            Some(b':') => {
                self.bump();
                self.expect_byte(b'*', "`*` (a wildcard is written `type:*`)")?;
                RelationReference::wildcard(type_name)
            }
            Some(b'#') => {
                self.bump();
                let relation = self.identifier("a relation name after `#`")?;
                RelationReference::userset(type_name, relation)
            }
            _ => RelationReference::direct(type_name),
        };
        let save = (self.pos, self.line, self.line_start);
        if self.skip_spaces() && self.eat_keyword("with") {
            self.expect_spaces()?;
            restriction.condition = self.identifier("a condition name after `with`")?;
        } else {
            (self.pos, self.line, self.line_start) = save;
        }
        match self.peek() {
            Some(b) if is_space(b) || is_newline(b) || b == b',' || b == b']' => Ok(restriction),
            _ => Err(self.error("`,` or `]`")),
        }
    }

    fn condition(&mut self) -> Parsed<Condition> {
        self.expect_keyword("condition")?;
        self.expect_spaces()?;
        let name = self.identifier("a condition name")?;
        self.skip_spaces();
        self.expect_byte(b'(', "`(`")?;

        let mut condition = Condition {
            name,
            ..Condition::default()
        };
        loop {
            self.skip_spaces_and_newlines();
            let at = self.position();
            let parameter = self.identifier("a parameter name")?;
            self.skip_spaces();
            self.expect_byte(b':', "`:`")?;
            self.skip_spaces();
            let type_ref = self.parameter_type()?;
            if condition.parameters.contains_key(&parameter) {
                return Err(self.error_at(
                    at,
                    format!(
                        "parameter `{parameter}` to be declared only once in condition `{}`",
                        condition.name
                    ),
                ));
            }
            condition.parameters.insert(parameter, type_ref);
            self.skip_spaces_and_newlines();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b')') => {
                    self.bump();
                    break;
                }
                _ => return Err(self.error("`,` or `)`")),
            }
        }
        self.skip_spaces();
        self.expect_byte(b'{', "`{`")?;
        condition.expression = self.condition_body()?;
        self.end_line()?;
        Ok(condition)
    }

    fn parameter_type(&mut self) -> Parsed<ConditionParamTypeRef> {
        let scalar = |p: &mut Self| -> Parsed<TypeName> {
            let word = p.identifier("a parameter type")?;
            match TypeName::from_dsl_name(&word) {
                Some(t) if !matches!(t, TypeName::Map | TypeName::List | TypeName::Any) => Ok(t),
                _ => {
                    p.pos -= word.len();
                    Err(p.error(
                        "a parameter type (bool, string, int, uint, double, duration, timestamp, \
                         ipaddress)",
                    ))
                }
            }
        };
        if self.at_keyword("map") || self.at_keyword("list") {
            let container = if self.eat_keyword("map") {
                TypeName::Map
            } else {
                self.eat_keyword("list");
                TypeName::List
            };
            self.expect_byte(
                b'<',
                "`<` (map and list need an element type, e.g. list<string>)",
            )?;
            let element = scalar(self)?;
            self.expect_byte(b'>', "`>`")?;
            return Ok(ConditionParamTypeRef {
                type_name: container,
                generic_types: vec![ConditionParamTypeRef::scalar(element)],
            });
        }
        Ok(ConditionParamTypeRef::scalar(scalar(self)?))
    }

    /// The CEL text up to the matching `}`, trimmed. String literals may contain braces.
    fn condition_body(&mut self) -> Parsed<String> {
        let start = self.pos;
        let mut depth = 0usize;
        loop {
            match self.peek() {
                None => return Err(self.error("`}` closing the condition")),
                Some(quote @ (b'"' | b'\'')) => {
                    self.bump();
                    while let Some(b) = self.peek() {
                        if b == b'\\' {
                            self.bump();
                            self.bump();
                            continue;
                        }
                        self.bump();
                        if b == quote {
                            break;
                        }
                    }
                }
                Some(b'{') => {
                    depth += 1;
                    self.bump();
                }
                Some(b'}') if depth == 0 => {
                    let body = self
                        .src
                        .get(start..self.pos)
                        .unwrap_or_default()
                        .trim()
                        .to_owned();
                    self.bump();
                    return Ok(body);
                }
                Some(b'}') => {
                    depth -= 1;
                    self.bump();
                }
                Some(_) => self.bump(),
            }
        }
    }
}

/// Writes a model in OpenFGA's DSL.
///
/// Union and intersection children are reordered so that a direct assignment comes first, as
/// the grammar requires (both operators are commutative).
///
/// # Errors
///
/// [`ModelError::NotExpressible`] when the model cannot be written in the DSL: a relation whose
/// direct assignment (`this`) is not reachable through first operands (for example the
/// subtracted side of `but not`), that uses `this` twice, or that uses an every-parent
/// arrow (SpiceDB's `.all()`).
pub fn to_dsl(model: &AuthorizationModel) -> Result<String, ModelError> {
    let mut out = String::new();
    out.push_str("model\n");
    let _ = writeln!(out, "  schema {}", model.schema_version);

    for definition in &model.type_definitions {
        let _ = write!(out, "\ntype {}\n", definition.type_name);
        if definition.relations.is_empty() {
            continue;
        }
        out.push_str("  relations\n");
        for (name, rewrite) in definition.relations.iter() {
            let direct = definition.directly_related_user_types(name);
            let not_expressible = || ModelError::NotExpressible {
                type_name: definition.type_name.clone(),
                relation: name.clone(),
            };
            if count_this(rewrite) > 1 {
                return Err(not_expressible());
            }
            let mut text = String::new();
            write_rewrite(rewrite, direct, true, &mut text).ok_or_else(not_expressible)?;
            let _ = writeln!(out, "    define {name}: {text}");
        }
    }

    for condition in model.conditions.values() {
        let parameters: Vec<String> = condition
            .parameters
            .iter()
            .map(|(name, t)| format!("{name}: {t}"))
            .collect();
        let _ = write!(
            out,
            "\ncondition {}({}) {{\n  {}\n}}\n",
            condition.name,
            parameters.join(", "),
            condition.expression
        );
    }
    Ok(out)
}

fn count_this(rewrite: &Userset) -> usize {
    match rewrite {
        Userset::This(_) => 1,
        Userset::ComputedUserset(_) | Userset::TupleToUserset(_) => 0,
        Userset::Union(u) | Userset::Intersection(u) => u.child.iter().map(count_this).sum(),
        Userset::Difference(d) => count_this(&d.base) + count_this(&d.subtract),
    }
}

fn write_restrictions(direct: &[RelationReference], out: &mut String) {
    out.push('[');
    for (i, r) in direct.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{r}");
    }
    out.push(']');
}

/// Writes one rewrite; `None` when a `this` would land where the grammar forbids it.
fn write_rewrite(
    rewrite: &Userset,
    direct: &[RelationReference],
    first_position: bool,
    out: &mut String,
) -> Option<()> {
    let write_child = |child: &Userset, first: bool, out: &mut String| -> Option<()> {
        let composite = matches!(
            child,
            Userset::Union(_) | Userset::Intersection(_) | Userset::Difference(_)
        );
        if composite {
            out.push('(');
            write_rewrite(child, direct, first, out)?;
            out.push(')');
            Some(())
        } else {
            write_rewrite(child, direct, first, out)
        }
    };
    match rewrite {
        Userset::This(_) => {
            if !first_position {
                return None;
            }
            write_restrictions(direct, out);
        }
        Userset::ComputedUserset(c) => out.push_str(&c.relation),
        // SpiceDB's `.all()` has no OpenFGA syntax.
        Userset::TupleToUserset(t) if t.all => return None,
        Userset::TupleToUserset(t) => {
            let _ = write!(
                out,
                "{} from {}",
                t.computed_userset.relation, t.tupleset.relation
            );
        }
        Userset::Union(u) | Userset::Intersection(u) => {
            let keyword = if matches!(rewrite, Userset::Union(_)) {
                " or "
            } else {
                " and "
            };
            // The child holding `this` goes first; the others keep their order.
            let mut children: Vec<&Userset> = u.child.iter().collect();
            if let Some(i) = children.iter().position(|c| count_this(c) > 0) {
                let holder = children.remove(i);
                children.insert(0, holder);
            }
            for (i, child) in children.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(keyword);
                }
                write_child(child, first_position && i == 0, out)?;
            }
        }
        Userset::Difference(d) => {
            write_child(&d.base, first_position, out)?;
            out.push_str(" but not ");
            write_child(&d.subtract, false, out)?;
        }
    }
    Some(())
}
