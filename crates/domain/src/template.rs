//! Templates: a body with `{{placeholders}}` plus defaults (kind, category, tags) for the items
//! instantiated from it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ids::{CategoryId, OrgId, TemplateId};
use crate::item::{ItemKind, MAX_BODY_BYTES};
use crate::tag::Tags;
use crate::text::Name;
use crate::{Aggregate, DomainError};

/// A template body split into literal text and placeholders, parsed once when accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TemplateBody {
    source: String,
    placeholders: BTreeSet<String>,
}

impl TemplateBody {
    /// Parses a body, rejecting unbalanced braces and placeholder names that are not
    /// identifiers (`[A-Za-z_][A-Za-z0-9_]*`).
    pub fn parse(source: &str) -> Result<Self, DomainError> {
        if source.len() > MAX_BODY_BYTES {
            return Err(DomainError::validation("body", format!("must be at most {MAX_BODY_BYTES} bytes")));
        }
        let mut placeholders = BTreeSet::new();
        for segment in segments(source)? {
            if let Segment::Placeholder(name) = segment {
                placeholders.insert(name.to_owned());
            }
        }
        Ok(Self { source: source.to_owned(), placeholders })
    }

    /// The placeholder names the body uses.
    pub fn placeholders(&self) -> &BTreeSet<String> {
        &self.placeholders
    }

    /// Fills every placeholder. A missing value or a value for an unknown placeholder is an
    /// error, so a typo never silently yields a half-filled document.
    pub fn render(&self, values: &BTreeMap<String, String>) -> Result<String, DomainError> {
        let missing: Vec<&str> =
            self.placeholders.iter().filter(|p| !values.contains_key(*p)).map(String::as_str).collect();
        if !missing.is_empty() {
            return Err(DomainError::validation(
                "values",
                format!("missing values for placeholders: {}", missing.join(", ")),
            ));
        }
        let unknown: Vec<&str> =
            values.keys().filter(|k| !self.placeholders.contains(*k)).map(String::as_str).collect();
        if !unknown.is_empty() {
            return Err(DomainError::validation("values", format!("unknown placeholders: {}", unknown.join(", "))));
        }
        let mut out = String::with_capacity(self.source.len());
        for segment in segments(&self.source)? {
            match segment {
                Segment::Text(text) => out.push_str(text),
                Segment::Placeholder(name) => out.push_str(&values[name]),
            }
        }
        Ok(out)
    }
}

enum Segment<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

fn segments(source: &str) -> Result<Vec<Segment<'_>>, DomainError> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find("{{") {
        out.push(Segment::Text(&rest[..start]));
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| DomainError::validation("body", "a `{{` is never closed by `}}`"))?;
        let name = after[..end].trim();
        let is_identifier = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !is_identifier {
            return Err(DomainError::validation("body", format!("{{{{{name}}}}} is not a valid placeholder name")));
        }
        out.push(Segment::Placeholder(name));
        rest = &after[end + 2..];
    }
    out.push(Segment::Text(rest));
    Ok(out)
}

impl TryFrom<String> for TemplateBody {
    type Error = DomainError;
    fn try_from(source: String) -> Result<Self, Self::Error> {
        Self::parse(&source)
    }
}

impl From<TemplateBody> for String {
    fn from(body: TemplateBody) -> String {
        body.source
    }
}

/// A template's editable definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateDefinition {
    pub name: Name,
    pub body: TemplateBody,
    pub default_kind: ItemKind,
    pub default_category: Option<CategoryId>,
    pub default_tags: Tags,
}

/// What may be asked of a template.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateCommand {
    Create { id: TemplateId, org: OrgId, definition: TemplateDefinition },
    Update { definition: TemplateDefinition },
    Delete,
}

/// What happened to a template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TemplateEvent {
    Created { id: TemplateId, org: OrgId, definition: TemplateDefinition },
    Updated { definition: TemplateDefinition },
    Deleted,
}

/// A template as folded from its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Template {
    pub id: Option<TemplateId>,
    pub org: Option<OrgId>,
    pub definition: Option<TemplateDefinition>,
    pub deleted: bool,
}

impl Template {
    fn live_definition(&self) -> Result<&TemplateDefinition, DomainError> {
        match &self.definition {
            Some(definition) if !self.deleted => Ok(definition),
            _ => Err(DomainError::NotFound("template does not exist".to_owned())),
        }
    }

    /// Renders the body with `values`, for a new item. Fails on a missing or unknown value.
    pub fn instantiate(&self, values: &BTreeMap<String, String>) -> Result<String, DomainError> {
        self.live_definition()?.body.render(values)
    }
}

impl Aggregate for Template {
    type Command = TemplateCommand;
    type Event = TemplateEvent;
    const STREAM_CATEGORY: &'static str = "template";

    fn decide(&self, command: TemplateCommand) -> Result<Vec<TemplateEvent>, DomainError> {
        match command {
            TemplateCommand::Create { id, org, definition } => {
                if self.id.is_some() {
                    return Err(DomainError::Conflict(format!("template {id} already exists")));
                }
                Ok(vec![TemplateEvent::Created { id, org, definition }])
            }
            TemplateCommand::Update { definition } => {
                if self.live_definition()? == &definition {
                    return Ok(vec![]);
                }
                Ok(vec![TemplateEvent::Updated { definition }])
            }
            TemplateCommand::Delete => {
                self.live_definition()?;
                Ok(vec![TemplateEvent::Deleted])
            }
        }
    }

    fn apply(&mut self, event: &TemplateEvent) {
        match event {
            TemplateEvent::Created { id, org, definition } => {
                self.id = Some(id.clone());
                self.org = Some(org.clone());
                self.definition = Some(definition.clone());
            }
            TemplateEvent::Updated { definition } => self.definition = Some(definition.clone()),
            TemplateEvent::Deleted => self.deleted = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::testing::Scenario;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn definition(body: &str) -> TemplateDefinition {
        TemplateDefinition {
            name: Name::parse("Kick-off").expect("valid name"),
            body: TemplateBody::parse(body).expect("valid body"),
            default_kind: ItemKind::MeetingNotes,
            default_category: None,
            default_tags: Tags::new(),
        }
    }

    #[test]
    fn placeholders_are_found_and_filled() {
        let body =
            TemplateBody::parse("# Kick-off with {{ client }}\nDate: {{date}}. {{client}} again.").expect("valid");
        assert_eq!(body.placeholders().iter().map(String::as_str).collect::<Vec<_>>(), vec!["client", "date"]);
        let rendered = body.render(&values(&[("client", "Globex"), ("date", "2026-11-24")])).expect("all values given");
        assert_eq!(rendered, "# Kick-off with Globex\nDate: 2026-11-24. Globex again.");
    }

    #[test]
    fn missing_and_unknown_values_are_errors() {
        let body = TemplateBody::parse("{{client}} {{date}}").expect("valid");
        let missing = body.render(&values(&[("client", "Globex")]));
        assert!(matches!(missing, Err(DomainError::Validation { message, .. }) if message.contains("date")));
        let unknown = body.render(&values(&[("client", "G"), ("date", "d"), ("clinet", "typo")]));
        assert!(matches!(unknown, Err(DomainError::Validation { message, .. }) if message.contains("clinet")));
    }

    #[test]
    fn malformed_bodies_are_rejected() {
        assert!(TemplateBody::parse("{{client").is_err());
        assert!(TemplateBody::parse("{{two words}}").is_err());
        assert!(TemplateBody::parse("{{}}").is_err());
        assert!(TemplateBody::parse("no placeholders } here {").is_ok());
    }

    #[test]
    fn deleted_templates_cannot_be_used() {
        let id = TemplateId::parse("tpl_1").expect("valid id");
        let org = OrgId::parse("org_1").expect("valid id");
        let history = vec![TemplateEvent::Created { id, org, definition: definition("{{x}}") }, TemplateEvent::Deleted];
        let state = Scenario::<Template>::given(history.clone()).state();
        assert!(matches!(state.instantiate(&values(&[("x", "1")])), Err(DomainError::NotFound(_))));
        Scenario::<Template>::given(history)
            .when(TemplateCommand::Update { definition: definition("y") })
            .then_error(|e| matches!(e, DomainError::NotFound(_)));
    }
}
