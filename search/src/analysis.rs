//! How text becomes terms, the same way for the index, for queries and for
//! highlighting: split on anything that is not a letter or digit, lower
//! case, fold accents to ASCII (`Tomás` → `tomas`), then, for the stemmed
//! fields, English stemming (`leading` → `lead`). Also the stable 64-bit
//! key that names a record in the index.

use sha2::{Digest, Sha256};
use skillmesh_protocol::OrgKey;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer, TokenStream,
};

/// Tokenizer name of the stemmed fields.
pub const STEMMED: &str = "skillmesh_stemmed";
/// Tokenizer name of the `words` field (folded, not stemmed), which typo
/// tolerance and prefixes match against.
pub const WORDS: &str = "skillmesh_words";

/// Longer tokens are dropped (they are not words anyone searches for).
const MAX_TOKEN_BYTES: usize = 40;

pub fn words_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

pub fn stemmed_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// One word of a text: where it is, its folded form and its stem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub from: usize,
    pub to: usize,
    pub word: String,
    pub stem: String,
}

/// Both analyzers, ready to cut texts into [`Token`]s.
#[derive(Clone)]
pub struct Analyzer {
    words: TextAnalyzer,
    stems: TextAnalyzer,
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer {
            words: words_analyzer(),
            stems: stemmed_analyzer(),
        }
    }
}

impl Analyzer {
    /// The words of `text` with their byte offsets and stems.
    pub fn tokens(&mut self, text: &str) -> Vec<Token> {
        let mut out = Vec::new();
        let mut words = self.words.token_stream(text);
        while words.advance() {
            let t = words.token();
            out.push(Token {
                from: t.offset_from,
                to: t.offset_to,
                word: t.text.clone(),
                stem: String::new(),
            });
        }
        // Both analyzers drop the same tokens (stemming only rewrites
        // them), so the streams line up; offsets make sure of it.
        let mut stems = self.stems.token_stream(text);
        let mut i = 0;
        while stems.advance() {
            let t = stems.token();
            while i < out.len() && out[i].from < t.offset_from {
                i += 1;
            }
            if let Some(tok) = out.get_mut(i)
                && tok.from == t.offset_from
            {
                tok.stem = t.text.clone();
            }
        }
        for tok in &mut out {
            if tok.stem.is_empty() {
                tok.stem = tok.word.clone();
            }
        }
        out
    }

    /// Appends the folded words of `text` to `out`, a space between two:
    /// the form in which the catalogue matches a query's words and
    /// phrases by substring (`On-call: Tomás` becomes `on call tomas`,
    /// as the query `on-call tomás` is understood).
    pub fn fold_into(&mut self, text: &str, out: &mut String) {
        let mut words = self.words.token_stream(text);
        let mut first = true;
        while words.advance() {
            if !first {
                out.push(' ');
            }
            first = false;
            out.push_str(&words.token().text);
        }
    }

    /// The folded words of `text`.
    pub fn words(&mut self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut words = self.words.token_stream(text);
        while words.advance() {
            out.push(words.token().text.clone());
        }
        out
    }

    /// The stem of one folded word.
    pub fn stem(&mut self, word: &str) -> String {
        let mut stems = self.stems.token_stream(word);
        if stems.advance() {
            stems.token().text.clone()
        } else {
            word.to_string()
        }
    }
}

/// The index's name for record `(org, id)`: the first 8 bytes of
/// SHA-256 over the organisation key and the id. Stable across versions
/// and platforms (the index on disk depends on it; changing it means a new
/// schema version). Two records sharing a key is a 1 in 10^10 chance at a
/// million records; the catalogue refuses the second (see `Catalogue`).
pub fn doc_key(org: &OrgKey, id: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(org.as_bytes());
    h.update(id.as_bytes());
    let d = h.finalize();
    u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// The index's name for an organisation (its records are deleted by it).
pub fn org_term(org: &OrgKey) -> String {
    org.to_hex()
}

/// A `BuildHasher` for maps keyed by [`doc_key`]s, which are already
/// uniformly distributed: the key is its own hash.
#[derive(Clone, Copy, Default)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub type KeyMap<V> = std::collections::HashMap<u64, V, std::hash::BuildHasherDefault<KeyHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_fold_lower_and_stem_with_offsets() {
        let mut a = Analyzer::default();
        let toks = a.tokens("Tomás: Leading Kubernetes on-call");
        let words: Vec<&str> = toks.iter().map(|t| t.word.as_str()).collect();
        let stems: Vec<&str> = toks.iter().map(|t| t.stem.as_str()).collect();
        assert_eq!(words, ["tomas", "leading", "kubernetes", "on", "call"]);
        assert_eq!(stems, ["toma", "lead", "kubernet", "on", "call"]);
        assert_eq!((toks[0].from, toks[0].to), (0, 6), "bytes of `Tomás`");
        assert_eq!(a.stem("kubernets"), a.stem("kubernetes"));
    }

    #[test]
    fn keys_are_stable() {
        let org = OrgKey::from_bytes([7; 32]);
        assert_eq!(doc_key(&org, "a"), doc_key(&org, "a"));
        assert_ne!(doc_key(&org, "a"), doc_key(&org, "b"));
        // Pinned: the index on disk depends on it.
        assert_eq!(
            doc_key(&OrgKey::from_bytes([0; 32]), ""),
            0x66687aadf862bd77
        );
    }
}
