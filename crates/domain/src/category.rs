//! An organization's category tree. One aggregate holds the whole tree so that its invariants
//! (no cycles, names unique among siblings) are checked in one place.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{CategoryId, OrgId};
use crate::text::Name;
use crate::{Aggregate, DomainError};

/// Deepest nesting allowed, counting the root level as 1.
pub const MAX_DEPTH: usize = 10;

/// One category: its name and its parent (`None` at the root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryNode {
    pub name: Name,
    pub parent: Option<CategoryId>,
}

/// What may be asked of a category tree.
#[derive(Debug, Clone, PartialEq)]
pub enum CategoryCommand {
    Create {
        org: OrgId,
        id: CategoryId,
        name: Name,
        parent: Option<CategoryId>,
    },
    Rename {
        id: CategoryId,
        name: Name,
    },
    Move {
        id: CategoryId,
        parent: Option<CategoryId>,
    },
    /// Deletes a category. `item_count` is how many items it holds (the application reads it
    /// from the read model); a non-empty category needs `reassign_to`, which receives its items
    /// and its subcategories.
    Delete {
        id: CategoryId,
        item_count: u64,
        reassign_to: Option<CategoryId>,
    },
}

/// What happened to a category tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CategoryEvent {
    Created { org: OrgId, id: CategoryId, name: Name, parent: Option<CategoryId> },
    Renamed { id: CategoryId, name: Name },
    Moved { id: CategoryId, from: Option<CategoryId>, to: Option<CategoryId> },
    Deleted { id: CategoryId, reassigned_to: Option<CategoryId> },
}

/// An organization's categories as folded from their events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CategoryTree {
    pub org: Option<OrgId>,
    pub nodes: BTreeMap<CategoryId, CategoryNode>,
}

impl CategoryTree {
    fn node(&self, id: &CategoryId) -> Result<&CategoryNode, DomainError> {
        self.nodes.get(id).ok_or_else(|| DomainError::NotFound(format!("category {id} does not exist")))
    }

    fn require_parent(&self, parent: Option<&CategoryId>) -> Result<(), DomainError> {
        match parent {
            Some(parent) => self.node(parent).map(|_| ()),
            None => Ok(()),
        }
    }

    /// The ids from `id` up to its root, `id` first.
    pub fn ancestry(&self, id: &CategoryId) -> Vec<CategoryId> {
        let mut chain = Vec::new();
        let mut cursor = Some(id.clone());
        while let Some(current) = cursor {
            if chain.contains(&current) {
                break; // defensive: a cycle cannot be built through `decide`
            }
            cursor = self.nodes.get(&current).and_then(|node| node.parent.clone());
            chain.push(current);
        }
        chain
    }

    fn depth_below(&self, id: &CategoryId) -> usize {
        self.children(id).iter().map(|child| 1 + self.depth_below(child)).max().unwrap_or(0)
    }

    /// The direct children of `id`.
    pub fn children(&self, id: &CategoryId) -> Vec<CategoryId> {
        self.nodes.iter().filter(|(_, node)| node.parent.as_ref() == Some(id)).map(|(child, _)| child.clone()).collect()
    }

    fn is_within(&self, candidate: &CategoryId, subtree_root: &CategoryId) -> bool {
        self.ancestry(candidate).contains(subtree_root)
    }

    fn ensure_unique_among_siblings(
        &self,
        name: &Name,
        parent: Option<&CategoryId>,
        except: Option<&CategoryId>,
    ) -> Result<(), DomainError> {
        let taken = self.nodes.iter().any(|(id, node)| {
            Some(id) != except
                && node.parent.as_ref() == parent
                && node.name.as_str().to_lowercase() == name.as_str().to_lowercase()
        });
        if taken {
            return Err(DomainError::Conflict(format!("a sibling category is already named {:?}", name.as_str())));
        }
        Ok(())
    }

    fn ensure_depth(&self, parent: Option<&CategoryId>, subtree_height: usize) -> Result<(), DomainError> {
        let parent_depth = parent.map_or(0, |p| self.ancestry(p).len());
        if parent_depth + 1 + subtree_height > MAX_DEPTH {
            return Err(DomainError::RuleViolation(format!("categories nest at most {MAX_DEPTH} levels deep")));
        }
        Ok(())
    }

    fn delete(
        &self,
        id: CategoryId,
        item_count: u64,
        reassign_to: Option<CategoryId>,
    ) -> Result<Vec<CategoryEvent>, DomainError> {
        self.node(&id)?;
        let children = self.children(&id);
        let Some(target) = reassign_to else {
            if item_count > 0 || !children.is_empty() {
                return Err(DomainError::RuleViolation(format!(
                    "category {id} holds {item_count} items and {} subcategories; name a target category for them",
                    children.len()
                )));
            }
            return Ok(vec![CategoryEvent::Deleted { id, reassigned_to: None }]);
        };
        self.node(&target)?;
        if self.is_within(&target, &id) {
            return Err(DomainError::RuleViolation(
                "the target cannot be the deleted category or one inside it".to_owned(),
            ));
        }
        let mut events = Vec::with_capacity(children.len() + 1);
        for child in children {
            let name = &self.node(&child)?.name;
            self.ensure_unique_among_siblings(name, Some(&target), Some(&child))?;
            self.ensure_depth(Some(&target), self.depth_below(&child))?;
            events.push(CategoryEvent::Moved { id: child, from: Some(id.clone()), to: Some(target.clone()) });
        }
        events.push(CategoryEvent::Deleted { id, reassigned_to: Some(target) });
        Ok(events)
    }
}

impl Aggregate for CategoryTree {
    type Command = CategoryCommand;
    type Event = CategoryEvent;
    const STREAM_CATEGORY: &'static str = "categories";

    fn decide(&self, command: CategoryCommand) -> Result<Vec<CategoryEvent>, DomainError> {
        use CategoryCommand as C;
        use CategoryEvent as E;
        match command {
            C::Create { org, id, name, parent } => {
                if self.nodes.contains_key(&id) {
                    return Err(DomainError::Conflict(format!("category {id} already exists")));
                }
                self.require_parent(parent.as_ref())?;
                self.ensure_unique_among_siblings(&name, parent.as_ref(), None)?;
                self.ensure_depth(parent.as_ref(), 0)?;
                Ok(vec![E::Created { org, id, name, parent }])
            }
            C::Rename { id, name } => {
                let node = self.node(&id)?;
                if node.name == name {
                    return Ok(vec![]);
                }
                self.ensure_unique_among_siblings(&name, node.parent.as_ref(), Some(&id))?;
                Ok(vec![E::Renamed { id, name }])
            }
            C::Move { id, parent } => {
                let node = self.node(&id)?;
                if node.parent == parent {
                    return Ok(vec![]);
                }
                self.require_parent(parent.as_ref())?;
                if let Some(target) = &parent
                    && self.is_within(target, &id)
                {
                    return Err(DomainError::RuleViolation(format!(
                        "moving category {id} under {target} would create a cycle"
                    )));
                }
                self.ensure_unique_among_siblings(&node.name, parent.as_ref(), Some(&id))?;
                self.ensure_depth(parent.as_ref(), self.depth_below(&id))?;
                Ok(vec![E::Moved { id, from: node.parent.clone(), to: parent }])
            }
            C::Delete { id, item_count, reassign_to } => self.delete(id, item_count, reassign_to),
        }
    }

    fn apply(&mut self, event: &CategoryEvent) {
        use CategoryEvent as E;
        match event {
            E::Created { org, id, name, parent } => {
                self.org.get_or_insert_with(|| org.clone());
                self.nodes.insert(id.clone(), CategoryNode { name: name.clone(), parent: parent.clone() });
            }
            E::Renamed { id, name } => {
                if let Some(node) = self.nodes.get_mut(id) {
                    node.name = name.clone();
                }
            }
            E::Moved { id, to, .. } => {
                if let Some(node) = self.nodes.get_mut(id) {
                    node.parent.clone_from(to);
                }
            }
            E::Deleted { id, .. } => {
                self.nodes.remove(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;
    use crate::aggregate::testing::Scenario;

    fn org() -> OrgId {
        OrgId::parse("org_1").expect("valid id")
    }
    fn cat(n: u8) -> CategoryId {
        CategoryId::parse(&format!("cat_{n}")).expect("valid id")
    }
    fn name(raw: &str) -> Name {
        Name::parse(raw).expect("valid name")
    }
    fn created(n: u8, label: &str, parent: Option<u8>) -> CategoryEvent {
        CategoryEvent::Created { org: org(), id: cat(n), name: name(label), parent: parent.map(cat) }
    }
    /// 1 Strategy / 2 Pricing / 3 Retail ; 4 Operations
    fn tree() -> Vec<CategoryEvent> {
        vec![
            created(1, "Strategy", None),
            created(2, "Pricing", Some(1)),
            created(3, "Retail", Some(2)),
            created(4, "Operations", None),
        ]
    }

    #[test]
    fn names_are_unique_among_siblings_only() {
        Scenario::<CategoryTree>::given(tree())
            .when(CategoryCommand::Create { org: org(), id: cat(5), name: name("pricing"), parent: Some(cat(1)) })
            .then_conflict();
        Scenario::<CategoryTree>::given(tree())
            .when(CategoryCommand::Create { org: org(), id: cat(5), name: name("Pricing"), parent: Some(cat(4)) })
            .then(vec![created(5, "Pricing", Some(4))]);
        Scenario::<CategoryTree>::given(tree())
            .when(CategoryCommand::Rename { id: cat(4), name: name("STRATEGY") })
            .then_conflict();
    }

    #[test]
    fn a_parent_must_exist() {
        Scenario::<CategoryTree>::given(tree())
            .when(CategoryCommand::Create { org: org(), id: cat(5), name: name("X"), parent: Some(cat(9)) })
            .then_error(|e| matches!(e, DomainError::NotFound(_)));
    }

    #[test]
    fn moves_never_create_cycles() {
        Scenario::<CategoryTree>::given(tree())
            .when(CategoryCommand::Move { id: cat(1), parent: Some(cat(3)) })
            .then_error(|e| matches!(e, DomainError::RuleViolation(_)));
        Scenario::<CategoryTree>::given(tree())
            .when(CategoryCommand::Move { id: cat(1), parent: Some(cat(1)) })
            .then_error(|e| matches!(e, DomainError::RuleViolation(_)));
        Scenario::<CategoryTree>::given(tree())
            .when(CategoryCommand::Move { id: cat(2), parent: Some(cat(4)) })
            .then(vec![CategoryEvent::Moved { id: cat(2), from: Some(cat(1)), to: Some(cat(4)) }]);
    }

    #[test]
    fn delete_needs_a_target_unless_empty() {
        Scenario::<CategoryTree>::given(tree())
            .when(CategoryCommand::Delete { id: cat(4), item_count: 0, reassign_to: None })
            .then(vec![CategoryEvent::Deleted { id: cat(4), reassigned_to: None }]);
        Scenario::<CategoryTree>::given(tree())
            .when(CategoryCommand::Delete { id: cat(4), item_count: 3, reassign_to: None })
            .then_error(|e| matches!(e, DomainError::RuleViolation(_)));
        Scenario::<CategoryTree>::given(tree())
            .when(CategoryCommand::Delete { id: cat(2), item_count: 0, reassign_to: None })
            .then_error(|e| matches!(e, DomainError::RuleViolation(_)));
        Scenario::<CategoryTree>::given(tree())
            .when(CategoryCommand::Delete { id: cat(2), item_count: 2, reassign_to: Some(cat(4)) })
            .then(vec![
                CategoryEvent::Moved { id: cat(3), from: Some(cat(2)), to: Some(cat(4)) },
                CategoryEvent::Deleted { id: cat(2), reassigned_to: Some(cat(4)) },
            ]);
        Scenario::<CategoryTree>::given(tree())
            .when(CategoryCommand::Delete { id: cat(2), item_count: 2, reassign_to: Some(cat(3)) })
            .then_error(|e| matches!(e, DomainError::RuleViolation(_)));
    }

    #[test]
    fn nesting_is_bounded() {
        let mut history = vec![created(1, "c1", None)];
        for n in 2..=u8::try_from(MAX_DEPTH).expect("small") {
            history.push(created(n, &format!("c{n}"), Some(n - 1)));
        }
        Scenario::<CategoryTree>::given(history)
            .when(CategoryCommand::Create { org: org(), id: cat(99), name: name("deep"), parent: Some(cat(10)) })
            .then_error(|e| matches!(e, DomainError::RuleViolation(_)));
    }

    fn arb_command() -> impl Strategy<Value = CategoryCommand> {
        let id = (1u8..8).prop_map(cat);
        let parent = proptest::option::of((1u8..8).prop_map(cat));
        let label = proptest::sample::select(vec!["a", "b", "c"]).prop_map(name);
        prop_oneof![
            3 => (id.clone(), label.clone(), parent.clone()).prop_map(|(id, name, parent)| CategoryCommand::Create { org: org(), id, name, parent }),
            1 => (id.clone(), label).prop_map(|(id, name)| CategoryCommand::Rename { id, name }),
            3 => (id.clone(), parent.clone()).prop_map(|(id, parent)| CategoryCommand::Move { id, parent }),
            1 => (id, 0u64..2, parent).prop_map(|(id, item_count, reassign_to)| CategoryCommand::Delete { id, item_count, reassign_to }),
        ]
    }

    proptest! {
        #[test]
        fn random_histories_keep_a_tree(commands in proptest::collection::vec(arb_command(), 0..80)) {
            let mut history = Vec::new();
            let mut state = CategoryTree::default();
            for command in commands {
                if let Ok(events) = state.decide(command) {
                    for event in &events {
                        state.apply(event);
                    }
                    history.extend(events);
                }
                for (id, node) in &state.nodes {
                    let chain = state.ancestry(id);
                    let unique: BTreeSet<_> = chain.iter().collect();
                    prop_assert_eq!(unique.len(), chain.len(), "cycle through {}", id);
                    prop_assert!(chain.len() <= MAX_DEPTH);
                    if let Some(parent) = &node.parent {
                        prop_assert!(state.nodes.contains_key(parent), "dangling parent {}", parent);
                    }
                    let same_named_siblings = state.nodes.values()
                        .filter(|other| other.parent == node.parent && other.name.as_str().to_lowercase() == node.name.as_str().to_lowercase())
                        .count();
                    prop_assert_eq!(same_named_siblings, 1);
                }
                prop_assert_eq!(&CategoryTree::from_events(&history), &state);
            }
        }
    }
}
