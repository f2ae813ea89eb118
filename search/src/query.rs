//! What a person types, understood: words, "quoted phrases", synonyms,
//! typo tolerance and the word still being typed; then the tantivy query
//! that finds it, and the terms that explain why a result matched.
//!
//! Every clause must match (a result has all the words asked for); a
//! clause matches through any of its alternatives:
//!
//! * the word's stem in the title, topics or other text (scored by BM25,
//!   title above topics above the rest);
//! * a synonym (`k8s` for `kubernetes`, the phrase `machine learning` for
//!   `ml`), scored a little lower than the name as typed;
//! * for words typed apart that name a synonym (`incident response`), the
//!   words anywhere, and higher as a phrase;
//! * a word of the index within the typo distance (one edit for words of
//!   4 to 7 letters, two from 8; none for shorter words or words with
//!   digits), scored lower;
//! * for the last word while it is still being typed (no space after it),
//!   any index word it begins, scored lower too.
//!
//! Alternatives combine by their best score (a disjunction-max), so a
//! record that matches both exactly and by a typo counts once.

use std::collections::{HashMap, HashSet};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::index::SegmentId;
use tantivy::query::{
    BooleanQuery, BoostQuery, DfaWrapper, DisjunctionMaxQuery, FuzzyTermQuery, Occur, PhraseQuery,
    Query, TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, Score, Searcher, SegmentReader, Term};

use super::analysis::Analyzer;
use super::index::Fields;
use super::synonyms::{self, Synonyms};

/// Weights of the stemmed fields.
const TITLE_BOOST: Score = 3.0;
const TOPICS_BOOST: Score = 2.5;
const BODY_BOOST: Score = 1.0;
/// Weights of alternatives found by typo tolerance and by prefix (they
/// match one field with every text, so rare words there score high: these
/// keep them below the word as typed), and of synonyms (a rare synonym
/// would otherwise outrank the name as typed).
const TYPO_1_BOOST: Score = 0.5;
const TYPO_2_BOOST: Score = 0.3;
const PREFIX_BOOST: Score = 0.5;
const SYNONYM_BOOST: Score = 0.6;
/// Most index words a typo or a prefix expands to (the most frequent).
const MAX_TYPO_TERMS: usize = 32;
const MAX_PREFIX_TERMS: usize = 64;
/// How much more words typed apart count when they are found as a phrase.
const PHRASE_BONUS: Score = 1.5;
/// Tie breaker of the disjunction-max over a clause's alternatives.
const TIE_BREAKER: Score = 0.1;

/// Short words a bare query word may be, that are not worth requiring.
const STOPWORDS: [&str; 16] = [
    "a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to",
    "with",
];

/// The word a clause was typed as, when typo tolerance or prefix applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typed {
    pub word: String,
    /// Edits allowed (0, 1 or 2).
    pub distance: u8,
    /// Still being typed: index words it begins match too.
    pub prefix: bool,
}

/// A name a clause can be satisfied by: its folded words, next to each
/// other in that order (a phrase) or anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub words: Vec<String>,
    pub phrase: bool,
}

impl Name {
    fn word(w: &str) -> Name {
        Name {
            words: vec![w.to_string()],
            phrase: false,
        }
    }

    fn phrase(words: Vec<String>) -> Name {
        let phrase = words.len() > 1;
        Name { words, phrase }
    }
}

/// One thing the query asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// Equivalent names; the first is what was typed.
    pub names: Vec<Name>,
    pub typed: Option<Typed>,
}

/// A query, understood.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    pub clauses: Vec<Clause>,
}

/// Edits allowed for a typed word.
pub fn typo_distance(word: &str) -> u8 {
    if word.chars().any(|c| c.is_ascii_digit()) {
        return 0;
    }
    match word.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// One piece of the typed text: the words of a whitespace-separated bare
/// token, or of a quoted phrase.
struct Unit {
    words: Vec<String>,
    quoted: bool,
}

impl ParsedQuery {
    pub fn parse(q: &str, synonyms: &Synonyms, analyzer: &mut Analyzer) -> ParsedQuery {
        let mut units: Vec<Unit> = Vec::new();
        let mut rest = q;
        while !rest.is_empty() {
            match rest.find('"') {
                Some(open) => {
                    let (before, after) = (&rest[..open], &rest[open + 1..]);
                    bare(before, analyzer, &mut units);
                    match after.find('"') {
                        Some(close) => {
                            let words = analyzer.words(&after[..close]);
                            if !words.is_empty() {
                                units.push(Unit {
                                    words,
                                    quoted: true,
                                });
                            }
                            rest = &after[close + 1..];
                        }
                        // Not closed (yet): plain words.
                        None => {
                            bare(after, analyzer, &mut units);
                            rest = "";
                        }
                    }
                }
                None => {
                    bare(rest, analyzer, &mut units);
                    rest = "";
                }
            }
        }
        // The last bare word is still being typed unless a space or a
        // closing quote follows it.
        let typing = !q.ends_with(char::is_whitespace)
            && !q.trim_end().ends_with('"')
            && units
                .last()
                .is_some_and(|u| !u.quoted && u.words.len() == 1);
        let only_stopwords = units
            .iter()
            .all(|u| !u.quoted && u.words.iter().all(|w| STOPWORDS.contains(&w.as_str())));
        let mut clauses = Vec::new();
        let mut i = 0;
        while i < units.len() {
            let last = i + 1 == units.len();
            if units[i].quoted {
                clauses.push(Clause {
                    names: vec![Name::phrase(units[i].words.clone())],
                    typed: None,
                });
                i += 1;
                continue;
            }
            // The longest run of bare units that names a synonym group.
            let mut matched = None;
            let mut words: Vec<String> = Vec::new();
            for (j, unit) in units.iter().enumerate().skip(i) {
                if unit.quoted {
                    break;
                }
                words.extend(unit.words.iter().cloned());
                if words.len() > synonyms::MAX_WORDS {
                    break;
                }
                if let Some(group) = synonyms.lookup(&words) {
                    matched = Some((j, words.clone(), group));
                }
            }
            if let Some((j, typed_words, group)) = matched {
                // Typed as one token (`on-call`): a phrase; as several
                // words: those words anywhere (the phrase ranks higher).
                let mut names = vec![Name {
                    phrase: j == i && typed_words.len() > 1,
                    words: typed_words.clone(),
                }];
                names.extend(
                    group
                        .iter()
                        .filter(|n| **n != typed_words)
                        .map(|n| Name::phrase(n.clone())),
                );
                let typed =
                    (typed_words.len() == 1 && j + 1 == units.len() && typing).then(|| Typed {
                        word: typed_words[0].clone(),
                        distance: 0,
                        prefix: true,
                    });
                clauses.push(Clause { names, typed });
                i = j + 1;
                continue;
            }
            let unit = &units[i];
            i += 1;
            match unit.words.as_slice() {
                [] => {}
                [w] => {
                    if !only_stopwords && STOPWORDS.contains(&w.as_str()) {
                        continue;
                    }
                    // A single letter still being typed narrows nothing yet.
                    if last && typing && w.chars().count() < 2 && units.len() > 1 {
                        continue;
                    }
                    clauses.push(Clause {
                        names: vec![Name::word(w)],
                        typed: Some(Typed {
                            word: w.clone(),
                            distance: typo_distance(w),
                            prefix: last && typing,
                        }),
                    });
                }
                // `on-call`, `node.js`: a phrase.
                words => clauses.push(Clause {
                    names: vec![Name::phrase(words.to_vec())],
                    typed: None,
                }),
            }
        }
        ParsedQuery { clauses }
    }

    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// For records the index does not hold yet: each clause as its
    /// alternatives, each the lower-cased strings that, all found in a
    /// record's lower-cased text, satisfy it.
    pub fn substrings(&self) -> Vec<Vec<Vec<String>>> {
        self.clauses
            .iter()
            .map(|c| {
                c.names
                    .iter()
                    .map(|n| {
                        if n.phrase {
                            vec![n.words.join(" ")]
                        } else {
                            n.words.clone()
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

fn bare(text: &str, analyzer: &mut Analyzer, units: &mut Vec<Unit>) {
    for token in text.split_whitespace() {
        let words = analyzer.words(token);
        if !words.is_empty() {
            units.push(Unit {
                words,
                quoted: false,
            });
        }
    }
}

/// The terms a query matched with: a word of a record matched if its stem
/// is in `stems` or its folded form is in `words`.
#[derive(Debug, Clone, Default)]
pub struct MatchedTerms {
    pub stems: HashSet<String>,
    pub words: HashSet<String>,
}

impl MatchedTerms {
    /// What the clauses ask for, before the index expands typos and
    /// prefixes (see [`expand`]).
    pub fn of(query: &ParsedQuery, analyzer: &mut Analyzer) -> MatchedTerms {
        let mut m = MatchedTerms::default();
        for clause in &query.clauses {
            for name in &clause.names {
                for word in &name.words {
                    m.stems.insert(analyzer.stem(word));
                    m.words.insert(word.clone());
                }
            }
        }
        m
    }

    pub fn matches(&self, word: &str, stem: &str) -> bool {
        self.words.contains(word) || self.stems.contains(stem)
    }

    /// Whether any word of `text` matched.
    pub fn any_in(&self, text: &str, analyzer: &mut Analyzer) -> bool {
        analyzer
            .tokens(text)
            .iter()
            .any(|t| self.matches(&t.word, &t.stem))
    }
}

/// Optimal string alignment distance (Levenshtein with transpositions).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// Index words (of the `words` field) matching `automaton`, with their
/// document frequency summed over segments.
fn stream_words(
    searcher: &Searcher,
    fields: &Fields,
    automaton: &DfaWrapper,
) -> tantivy::Result<HashMap<String, u64>> {
    let mut out: HashMap<String, u64> = HashMap::new();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(fields.words)?;
        let mut stream = inverted.terms().search(automaton).into_stream()?;
        while stream.advance() {
            if let Ok(word) = std::str::from_utf8(stream.key()) {
                *out.entry(word.to_string()).or_default() += u64::from(stream.value().doc_freq);
            }
        }
    }
    Ok(out)
}

/// One alternative a typed word expands to in the index.
#[derive(Debug, Clone, PartialEq)]
pub struct Expansion {
    pub word: String,
    pub boost: Score,
}

/// The index words each clause's typed word reaches by typo tolerance or
/// as a prefix (never the typed word itself, nor a word with its stem:
/// the exact alternatives already cover those).
pub fn expand(
    query: &ParsedQuery,
    searcher: &Searcher,
    fields: &Fields,
    analyzer: &mut Analyzer,
) -> tantivy::Result<Vec<Vec<Expansion>>> {
    let mut out = Vec::with_capacity(query.clauses.len());
    for clause in &query.clauses {
        let mut found: HashMap<String, Score> = HashMap::new();
        if let Some(t) = &clause.typed {
            let typed_stem = analyzer.stem(&t.word);
            let term = Term::from_field_text(fields.words, &t.word);
            let keep = |found: &mut HashMap<String, Score>,
                        words: Vec<(String, u64)>,
                        boost: &dyn Fn(&str) -> Score,
                        analyzer: &mut Analyzer| {
                for (word, _) in words {
                    if word == t.word || analyzer.stem(&word) == typed_stem {
                        continue;
                    }
                    let b = boost(&word);
                    let e = found.entry(word).or_insert(b);
                    *e = e.max(b);
                }
            };
            if t.distance > 0 {
                let automaton = FuzzyTermQuery::new(term.clone(), t.distance, true).automaton()?;
                let mut words: Vec<(String, u64)> = stream_words(searcher, fields, &automaton)?
                    .into_iter()
                    .collect();
                words.sort_by(|a, b| {
                    edit_distance(&t.word, &a.0)
                        .cmp(&edit_distance(&t.word, &b.0))
                        .then(b.1.cmp(&a.1))
                        .then_with(|| a.0.cmp(&b.0))
                });
                words.truncate(MAX_TYPO_TERMS);
                let typed = t.word.clone();
                keep(
                    &mut found,
                    words,
                    &move |w: &str| {
                        if edit_distance(&typed, w) <= 1 {
                            TYPO_1_BOOST
                        } else {
                            TYPO_2_BOOST
                        }
                    },
                    analyzer,
                );
            }
            if t.prefix && t.word.chars().count() >= 2 {
                // A long word being typed may carry a typo too.
                let distance = u8::from(t.word.chars().count() >= 5 && t.distance > 0);
                let automaton = FuzzyTermQuery::new_prefix(term, distance, true).automaton()?;
                let mut words: Vec<(String, u64)> = stream_words(searcher, fields, &automaton)?
                    .into_iter()
                    .collect();
                words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                words.truncate(MAX_PREFIX_TERMS);
                let typed = t.word.clone();
                keep(
                    &mut found,
                    words,
                    &move |w: &str| {
                        if w.starts_with(typed.as_str()) {
                            PREFIX_BOOST
                        } else {
                            TYPO_1_BOOST * PREFIX_BOOST
                        }
                    },
                    analyzer,
                );
            }
        }
        let mut list: Vec<Expansion> = found
            .into_iter()
            .map(|(word, boost)| Expansion { word, boost })
            .collect();
        list.sort_by(|a, b| a.word.cmp(&b.word));
        out.push(list);
    }
    Ok(out)
}

/// The tantivy query for `query`, its clauses expanded by `expansions`.
pub fn build(
    query: &ParsedQuery,
    expansions: &[Vec<Expansion>],
    fields: &Fields,
    analyzer: &mut Analyzer,
) -> Box<dyn Query> {
    let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (clause, expanded) in query.clauses.iter().zip(expansions) {
        let mut alternatives: Vec<Box<dyn Query>> = Vec::new();
        for (n, name) in clause.names.iter().enumerate() {
            let stems: Vec<String> = name.words.iter().map(|w| analyzer.stem(w)).collect();
            if n > 0 {
                alternatives.push(Box::new(BoostQuery::new(
                    stemmed(fields, &stems),
                    SYNONYM_BOOST,
                )));
            } else if name.phrase || stems.len() == 1 {
                alternatives.push(stemmed(fields, &stems));
            } else {
                // Every word anywhere; next to each other ranks higher.
                let all = stems
                    .iter()
                    .map(|s| (Occur::Must, stemmed(fields, std::slice::from_ref(s))))
                    .collect();
                alternatives.push(Box::new(BooleanQuery::new(all)));
                alternatives.push(Box::new(BoostQuery::new(
                    stemmed(fields, &stems),
                    PHRASE_BONUS,
                )));
            }
        }
        for e in expanded {
            alternatives.push(Box::new(BoostQuery::new(
                Box::new(TermQuery::new(
                    Term::from_field_text(fields.words, &e.word),
                    IndexRecordOption::WithFreqs,
                )),
                e.boost,
            )));
        }
        must.push((
            Occur::Must,
            Box::new(DisjunctionMaxQuery::with_tie_breaker(
                alternatives,
                TIE_BREAKER,
            )),
        ));
    }
    Box::new(BooleanQuery::new(must))
}

/// `stems` (one, or a phrase) in the title, topics or other text.
fn stemmed(fields: &Fields, stems: &[String]) -> Box<dyn Query> {
    let per_field = [
        (fields.title, TITLE_BOOST),
        (fields.topics, TOPICS_BOOST),
        (fields.body, BODY_BOOST),
    ]
    .into_iter()
    .map(|(field, boost)| {
        let q: Box<dyn Query> = if let [stem] = stems {
            Box::new(TermQuery::new(
                Term::from_field_text(field, stem),
                IndexRecordOption::WithFreqs,
            ))
        } else {
            Box::new(PhraseQuery::new(
                stems
                    .iter()
                    .map(|s| Term::from_field_text(field, s))
                    .collect(),
            ))
        };
        (
            Occur::Should,
            Box::new(BoostQuery::new(q, boost)) as Box<dyn Query>,
        )
    })
    .collect();
    Box::new(BooleanQuery::new(per_field))
}

/// Every matching document of one segment with its score, and what maps
/// the segment's documents to records.
pub struct SegmentHits {
    pub segment: SegmentId,
    pub max_doc: DocId,
    /// The segment's [`doc_key`](super::analysis::doc_key) column.
    pub keys: Column<u64>,
    pub hits: Vec<(DocId, Score)>,
}

/// Collects every matching document and its score, per segment (search
/// needs all of them: facets count every match, and the final ranking
/// weighs more than the text score).
pub struct DocScores;

impl Collector for DocScores {
    type Fruit = Vec<SegmentHits>;
    type Child = DocScoresSegment;

    fn for_segment(&self, _ord: u32, reader: &SegmentReader) -> tantivy::Result<DocScoresSegment> {
        Ok(DocScoresSegment(SegmentHits {
            segment: reader.segment_id(),
            max_doc: reader.max_doc(),
            keys: reader.fast_fields().u64(super::index::KEY)?,
            hits: Vec::new(),
        }))
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<SegmentHits>) -> tantivy::Result<Vec<SegmentHits>> {
        Ok(fruits)
    }
}

pub struct DocScoresSegment(SegmentHits);

impl SegmentCollector for DocScoresSegment {
    type Fruit = SegmentHits;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.0.hits.push((doc, score));
    }

    fn harvest(self) -> SegmentHits {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> ParsedQuery {
        ParsedQuery::parse(q, &Synonyms::builtin(), &mut Analyzer::default())
    }

    /// Each clause's names, a phrase in quotes.
    fn names(q: &ParsedQuery) -> Vec<Vec<String>> {
        q.clauses
            .iter()
            .map(|c| {
                c.names
                    .iter()
                    .map(|n| {
                        let words = n.words.join(" ");
                        if n.phrase {
                            format!("\"{words}\"")
                        } else {
                            words
                        }
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn words_phrases_synonyms_and_the_word_being_typed() {
        let q = parse("Kubernetes \"incident response\" in ML");
        assert_eq!(
            names(&q),
            [
                vec!["kubernetes", "k8s", "kube"],
                vec!["\"incident response\""],
                vec!["ml", "\"machine learning\""],
            ]
        );
        assert_eq!(
            q.clauses[0].typed, None,
            "a synonym group is matched exactly"
        );
        assert!(q.clauses[2].typed.as_ref().is_some_and(|t| t.prefix));

        let q = parse("kubernets leadin");
        assert_eq!(
            q.clauses[0].typed,
            Some(Typed {
                word: "kubernets".into(),
                distance: 2,
                prefix: false
            })
        );
        assert_eq!(
            q.clauses[1].typed,
            Some(Typed {
                word: "leadin".into(),
                distance: 1,
                prefix: true
            })
        );
        assert!(
            !parse("leadin ").clauses[0]
                .typed
                .as_ref()
                .expect("typed")
                .prefix
        );
        assert_eq!(
            names(&parse("machine learning")),
            [vec!["machine learning", "ml"]],
            "typed apart: the words anywhere"
        );
        assert_eq!(
            names(&parse("on-call rota")),
            [vec!["\"on call\"", "oncall"], vec!["rota"]]
        );
        assert_eq!(
            names(&parse("incident response")),
            [vec!["incident response", "\"incident management\""]]
        );
        assert_eq!(
            names(&parse("\"unclosed phrase")),
            [vec!["unclosed"], vec!["phrase"]]
        );
        assert_eq!(names(&parse("the")), [vec!["the"]], "only stopwords: kept");
        assert_eq!(names(&parse("rust k")), [vec!["rust"]], "one letter typed");
        assert!(parse("  ").is_empty());
        assert_eq!(typo_distance("k8s"), 0);
        assert_eq!(typo_distance("rust"), 1);
    }

    #[test]
    fn edit_distance_counts_transpositions_once() {
        assert_eq!(edit_distance("kubernets", "kubernetes"), 1);
        assert_eq!(edit_distance("ksto", "kots"), 2);
        assert_eq!(edit_distance("teh", "the"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
