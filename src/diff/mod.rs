//! `diff --base`: what a change to the site does to the rendered objects. Both sides run the
//! same pipeline in memory (the base read from git objects by `git`), `resource` compares the
//! objects by identity, and `report` prints the result for a terminal, a pull request or a
//! program. The diff is of objects, not of files: it says what Flux would apply differently.

pub mod danger;
pub mod facility;
pub mod git;
pub mod live;
pub mod report;
pub mod resource;

use std::collections::BTreeMap;

pub use report::{MARKDOWN_CAP, Report, Stale};
pub use resource::{Change, Side, Status, compare};

use crate::tree::Tree;

/// How many files of a committed `out/` (path -> bytes) differ from the tree its sources
/// build: missing, different or extra, as `build --check` counts them.
pub fn stale_files(tree: &Tree, committed: &BTreeMap<String, Vec<u8>>) -> usize {
    let differing = tree
        .files
        .iter()
        .filter(|(path, bytes)| committed.get(*path) != Some(*bytes))
        .count();
    let extra = committed
        .keys()
        .filter(|p| !tree.files.contains_key(*p))
        .count();
    differing + extra
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_files_counts_missing_different_and_extra() {
        let tree = Tree {
            files: [("a", "1"), ("b", "2"), ("c", "3")]
                .iter()
                .map(|(p, c)| ((*p).to_owned(), c.as_bytes().to_vec()))
                .collect(),
        };
        let committed: BTreeMap<String, Vec<u8>> = [("a", "1"), ("b", "x"), ("d", "4")]
            .iter()
            .map(|(p, c)| ((*p).to_owned(), c.as_bytes().to_vec()))
            .collect();
        assert_eq!(stale_files(&tree, &committed), 3);
        assert_eq!(stale_files(&tree, &tree.files), 0);
    }
}
