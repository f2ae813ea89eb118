//! Synonyms for skill names (`k8s` = `kubernetes`, `ml` = `machine
//! learning`): groups of equivalent names, each name one or more words.
//! The defaults are `config/synonyms.txt`, compiled in; a node adds the
//! groups of `<data_dir>/synonyms.txt` when it starts.

use std::collections::HashMap;
use std::path::Path;

use super::analysis::Analyzer;

/// The groups shipped with Skillmesh.
pub const BUILTIN: &str = include_str!("../../config/synonyms.txt");

/// The file in a data directory whose groups are added to the built-in ones.
pub const FILE: &str = "synonyms.txt";

/// Longest name, in words, that is looked up.
pub const MAX_WORDS: usize = 4;

/// Groups of equivalent names, each name as its folded words.
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    groups: Vec<Vec<Vec<String>>>,
    /// A name (its words joined by spaces) → its group.
    index: HashMap<String, usize>,
}

impl Synonyms {
    /// The built-in groups.
    pub fn builtin() -> Synonyms {
        let mut s = Synonyms::default();
        s.add_text(BUILTIN);
        s
    }

    /// The built-in groups and those of `<data_dir>/synonyms.txt`, if there
    /// is one. A file that cannot be read is logged and skipped: search
    /// works without it.
    pub fn for_data_dir(data_dir: &Path) -> Synonyms {
        let mut s = Synonyms::builtin();
        let path = data_dir.join(FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let before = s.groups.len();
                s.add_text(&text);
                tracing::info!(path = %path.display(), groups = s.groups.len() - before, "synonyms added");
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read synonyms; using the built-in ones")
            }
        }
        s
    }

    /// Adds the groups in `text` (the file format: one comma-separated
    /// group per line, `#` comments). A name already known joins its new
    /// companions to its old group.
    pub fn add_text(&mut self, text: &str) {
        let mut analyzer = Analyzer::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let names: Vec<Vec<String>> = line
                .split(',')
                .map(|name| analyzer.words(name))
                .filter(|w| !w.is_empty() && w.len() <= MAX_WORDS)
                .collect();
            if names.len() >= 2 {
                self.add_group(names);
            }
        }
    }

    fn add_group(&mut self, names: Vec<Vec<String>>) {
        let existing = names
            .iter()
            .find_map(|n| self.index.get(&n.join(" ")).copied());
        let group = match existing {
            Some(g) => g,
            None => {
                self.groups.push(Vec::new());
                self.groups.len() - 1
            }
        };
        for name in names {
            let joined = name.join(" ");
            match self.index.get(&joined) {
                Some(g) if *g == group => {}
                // Already in another group: leave it there.
                Some(_) => {}
                None => {
                    self.index.insert(joined, group);
                    self.groups[group].push(name);
                }
            }
        }
    }

    /// The group `words` (a name) belongs to, itself included.
    pub fn lookup(&self, words: &[String]) -> Option<&[Vec<String>]> {
        if words.is_empty() || words.len() > MAX_WORDS {
            return None;
        }
        self.index
            .get(&words.join(" "))
            .map(|g| self.groups[*g].as_slice())
    }

    /// Groups held.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn builtin_groups_name_each_other() {
        let s = Synonyms::builtin();
        let k8s = s.lookup(&words("k8s")).expect("k8s");
        assert!(k8s.contains(&words("kubernetes")));
        let ml = s.lookup(&words("ml")).expect("ml");
        assert!(ml.contains(&words("machine learning")));
        assert!(
            s.lookup(&words("machine learning"))
                .expect("ml")
                .contains(&words("ml"))
        );
        assert!(
            s.lookup(&words("js"))
                .expect("js")
                .contains(&words("javascript"))
        );
        assert!(s.lookup(&words("kubernetes rust")).is_none());
    }

    #[test]
    fn a_data_dir_file_extends_and_merges_groups() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join(FILE),
            "# ours\nKubernetes, Kates\nrust, rustlang, Rüst\n\nlonely\n",
        )
        .expect("write");
        let s = Synonyms::for_data_dir(dir.path());
        assert_eq!(s.len(), Synonyms::builtin().len() + 1);
        let k = s.lookup(&words("kates")).expect("merged");
        assert!(k.contains(&words("k8s")), "{k:?}");
        assert!(
            s.lookup(&words("rust"))
                .expect("rust")
                .contains(&words("rustlang"))
        );
        assert!(
            s.lookup(&words("lonely")).is_none(),
            "a group needs two names"
        );
        let none = Synonyms::for_data_dir(&dir.path().join("missing"));
        assert_eq!(none.len(), Synonyms::builtin().len());
    }
}
