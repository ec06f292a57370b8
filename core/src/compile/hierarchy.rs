//! Depths of a parent-linked hierarchy (accounts, categories), in time linear in its size.
//!
//! A chain 30,000 accounts deep used to be walked from every one of its members, each walk
//! checking its lineage for repeats: quadratic or worse. Here every node is visited once, and a
//! hierarchy deeper than [`MAX_DEPTH`] is rejected before anything is built per level.

use crate::index::NONE;

/// The most ancestors an account or a category may have. Real hierarchies (group → region →
/// site; trade → family → line) are a few levels deep; the limit keeps every per-level structure
/// small and every audience level within a byte.
pub(crate) const MAX_DEPTH: u32 = 128;

/// Where a node stands in its hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    /// The number of ancestors (0 for a root).
    Ancestors(u32),
    /// The node is on a cycle or below one: following parents never reaches a root.
    Cyclic,
}

/// The depth of every node; `parents[n]` is `n`'s parent or [`NONE`].
pub(crate) fn depths(parents: &[u32]) -> Vec<Depth> {
    const UNSEEN: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![UNSEEN; parents.len()];
    let mut depth = vec![Depth::Cyclic; parents.len()];
    let mut path = Vec::new();
    for start in 0..parents.len() {
        let mut at = u32::try_from(start).unwrap_or(NONE);
        while state.get(at as usize) == Some(&UNSEEN) {
            if let Some(s) = state.get_mut(at as usize) {
                *s = ON_PATH;
            }
            path.push(at);
            at = parents.get(at as usize).copied().unwrap_or(NONE);
        }
        // What the topmost node of the path sits on: a root's absence, a finished node, or a
        // node of this very path (a cycle).
        let mut next = match state.get(at as usize) {
            None => Depth::Ancestors(0),
            Some(&DONE) => match depth.get(at as usize) {
                Some(Depth::Ancestors(d)) => Depth::Ancestors(d.saturating_add(1)),
                _ => Depth::Cyclic,
            },
            Some(_) => Depth::Cyclic,
        };
        while let Some(node) = path.pop() {
            if let Some(d) = depth.get_mut(node as usize) {
                *d = next;
            }
            if let Some(s) = state.get_mut(node as usize) {
                *s = DONE;
            }
            if let Depth::Ancestors(d) = next {
                next = Depth::Ancestors(d.saturating_add(1));
            }
        }
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_chains_and_cycles() {
        // 0 ← 1 ← 2; 3 ↔ 4 ← 5; 6 alone.
        let parents = [NONE, 0, 1, 4, 3, 4, NONE];
        let d = depths(&parents);
        assert_eq!(
            d,
            vec![
                Depth::Ancestors(0),
                Depth::Ancestors(1),
                Depth::Ancestors(2),
                Depth::Cyclic,
                Depth::Cyclic,
                Depth::Cyclic,
                Depth::Ancestors(0),
            ]
        );
    }

    #[test]
    fn a_deep_chain_in_linear_time() {
        // Children listed before their parents: the worst order for a walk per node.
        let n = 1_000_000u32;
        let parents: Vec<u32> = (0..n)
            .map(|i| if i + 1 < n { i + 1 } else { NONE })
            .collect();
        let d = depths(&parents);
        assert_eq!(d.first(), Some(&Depth::Ancestors(n - 1)));
        assert_eq!(d.last(), Some(&Depth::Ancestors(0)));
    }

    /// `n` ids `{prefix}0`, `{prefix}1`… each the parent of the next, as JSON objects.
    fn chain(prefix: &str, n: usize) -> String {
        (0..n)
            .map(|i| match i.checked_sub(1) {
                None => format!(r#"{{"id": "{prefix}0"}}"#),
                Some(up) => format!(r#"{{"id": "{prefix}{i}", "parent": "{prefix}{up}"}}"#),
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// A document whose accounts form one chain `n` deep and whose categories another.
    fn deep_document(accounts: usize, categories: usize) -> String {
        format!(
            r#"{{"format": "tarif/1", "accounts": [{}], "categories": [{}]}}"#,
            chain("A", accounts),
            chain("C", categories)
        )
    }

    fn codes(json: &str) -> Vec<(String, String)> {
        match crate::Engine::from_json(json) {
            Ok(_) => Vec::new(),
            Err(e) => e
                .diagnostics
                .iter()
                .map(|d| (d.code.code().to_string(), d.path.clone()))
                .collect(),
        }
    }

    #[test]
    fn the_deepest_legal_hierarchies_compile() {
        let depth = MAX_DEPTH as usize + 1;
        assert_eq!(codes(&deep_document(depth, depth)), Vec::new());
    }

    #[test]
    fn deeper_hierarchies_are_rejected_once_per_branch() {
        let depth = MAX_DEPTH as usize + 2;
        let got = codes(&deep_document(depth, depth));
        let too_deep = format!("{}", MAX_DEPTH + 1);
        assert_eq!(
            got,
            vec![
                (
                    "HIERARCHY_TOO_DEEP".to_string(),
                    format!("categories[{too_deep}].parent")
                ),
                (
                    "HIERARCHY_TOO_DEEP".to_string(),
                    format!("accounts[{too_deep}].parent")
                ),
            ]
        );
    }

    #[test]
    fn a_chain_tens_of_thousands_deep_is_rejected_without_walking_it_per_member() {
        // Found by hardening: 30,000 accounts deep did not compile in 5 minutes.
        let got = codes(&deep_document(30_000, 50_000));
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.iter().all(|(code, _)| code == "HIERARCHY_TOO_DEEP"));
    }
}
