//! `Engine.apply` and `Engine.diff`: changes documents in, engines and differences out.

use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::errors::Result;

/// A `tarif/1-changes` document given as JSON text or as Python data (`json.dumps`, with
/// `Decimal`s written as decimal strings, like `Engine.from_dict`).
pub(crate) fn changes_text(changes: &Bound<'_, PyAny>) -> Result<String> {
    if changes.is_instance_of::<PyString>() {
        return crate::convert::text(changes, "changes");
    }
    crate::engine::json_text(changes, "the changes")
}

/// One entity that differs between two engines' documents.
#[pyclass(frozen, module = "tarif", get_all)]
pub(crate) struct EntityChange {
    /// `products`, `price_lists`, `prices`, `rules`, `settings`, ...
    section: &'static str,
    /// The price list of a `prices` change, the contract of a `rules` change.
    parent: Option<String>,
    /// The entity's id (a SKU for `products` and `prices`).
    id: String,
    /// `added`, `removed` or `modified`.
    kind: &'static str,
}

impl From<&tarif::EntityChange> for EntityChange {
    fn from(change: &tarif::EntityChange) -> Self {
        EntityChange {
            section: change.section,
            parent: change.parent.clone(),
            id: change.id.clone(),
            kind: change.kind.as_str(),
        }
    }
}

#[pymethods]
impl EntityChange {
    fn __repr__(&self) -> String {
        match &self.parent {
            Some(parent) => format!(
                "<EntityChange {} {}[{parent}/{}]>",
                self.kind, self.section, self.id
            ),
            None => format!("<EntityChange {} {}[{}]>", self.kind, self.section, self.id),
        }
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<EntityChange>().is_ok_and(|o| {
            let o = o.get();
            (self.section, &self.parent, &self.id, self.kind)
                == (o.section, &o.parent, &o.id, o.kind)
        })
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (self.section, &self.parent, &self.id, self.kind).hash(&mut h);
        h.finish()
    }
}
