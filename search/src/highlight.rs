//! Why a result matched: the parts of its title, summary, topics or other
//! text that matched the query, marked. Only text is produced (pieces with
//! a flag), never markup: the web page escapes every piece and wraps the
//! marked ones in `<mark>`.

use skillmesh_search_types::{Highlight, HighlightPart, SearchHit};

use super::analysis::Analyzer;
use super::query::MatchedTerms;

/// Longest fragment of other text shown, in bytes (about).
const FRAGMENT_BYTES: usize = 160;
/// Context kept before the first match in a fragment.
const LEAD_BYTES: usize = 50;

/// `text` cut into parts with the matched words marked (adjacent matched
/// words, with only spaces between them, as one part); `None` when
/// nothing in it matched.
pub fn mark(
    text: &str,
    terms: &MatchedTerms,
    analyzer: &mut Analyzer,
) -> Option<Vec<HighlightPart>> {
    let tokens = analyzer.tokens(text);
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for t in tokens.iter().filter(|t| terms.matches(&t.word, &t.stem)) {
        match spans.last_mut() {
            Some(last) if text[last.1..t.from].chars().all(char::is_whitespace) => last.1 = t.to,
            _ => spans.push((t.from, t.to)),
        }
    }
    if spans.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    let mut at = 0;
    for (from, to) in spans {
        if from > at {
            parts.push(HighlightPart {
                text: text[at..from].to_string(),
                matched: false,
            });
        }
        parts.push(HighlightPart {
            text: text[from..to].to_string(),
            matched: true,
        });
        at = to;
    }
    if at < text.len() {
        parts.push(HighlightPart {
            text: text[at..].to_string(),
            matched: false,
        });
    }
    Some(parts)
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// A window of `line` of about [`FRAGMENT_BYTES`] around its first match,
/// marked, with `…` where it was cut.
fn fragment(
    line: &str,
    terms: &MatchedTerms,
    analyzer: &mut Analyzer,
) -> Option<Vec<HighlightPart>> {
    let first = analyzer
        .tokens(line)
        .into_iter()
        .find(|t| terms.matches(&t.word, &t.stem))?;
    let mut start = floor_boundary(line, first.from.saturating_sub(LEAD_BYTES));
    // Start on a word.
    if start > 0
        && let Some(space) = line[start..first.from].find(char::is_whitespace)
    {
        start += space + 1;
    }
    let mut end = floor_boundary(line, (start + FRAGMENT_BYTES).min(line.len())).max(first.to);
    if end < line.len()
        && let Some(space) = line[first.to..end].rfind(char::is_whitespace)
    {
        end = first.to + space;
    }
    let mut parts = mark(&line[start..end], terms, analyzer)?;
    if start > 0 {
        parts.insert(
            0,
            HighlightPart {
                text: "…".into(),
                matched: false,
            },
        );
    }
    if end < line.len() {
        parts.push(HighlightPart {
            text: "…".into(),
            matched: false,
        });
    }
    Some(parts)
}

/// The highlights of `hit`: its title, summary and each topic that
/// matched; when none did, the first fragment of `other_text` (the
/// record's remaining text, read only then) that did.
pub fn highlights(
    hit: &SearchHit,
    terms: &MatchedTerms,
    analyzer: &mut Analyzer,
    other_text: impl FnOnce() -> Vec<String>,
) -> Vec<Highlight> {
    let mut out = Vec::new();
    let mut push = |field: &str, parts: Option<Vec<HighlightPart>>| {
        if let Some(parts) = parts {
            out.push(Highlight {
                field: field.into(),
                parts,
            });
        }
    };
    push("title", mark(&hit.title, terms, analyzer));
    push("summary", mark(&hit.summary, terms, analyzer));
    for topic in &hit.topics {
        push("topic", mark(topic, terms, analyzer));
    }
    if out.is_empty() {
        for line in other_text() {
            if let Some(parts) = fragment(&line, terms, analyzer) {
                out.push(Highlight {
                    field: "text".into(),
                    parts,
                });
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(stems: &[&str], words: &[&str]) -> MatchedTerms {
        MatchedTerms {
            stems: stems.iter().map(|s| s.to_string()).collect(),
            words: words.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn show(parts: &[HighlightPart]) -> String {
        parts
            .iter()
            .map(|p| {
                if p.matched {
                    format!("[{}]", p.text)
                } else {
                    p.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn marks_stems_and_expanded_words_joining_neighbours() {
        let mut a = Analyzer::default();
        let t = terms(&["incid", "respons"], &["kubernetes"]);
        let parts = mark("Incident Response for <Kubernetes>!", &t, &mut a).expect("matched");
        assert_eq!(show(&parts), "[Incident Response] for <[Kubernetes]>!");
        assert!(mark("nothing here", &t, &mut a).is_none());
    }

    #[test]
    fn fragments_cut_around_the_first_match() {
        let mut a = Analyzer::default();
        let t = terms(&["kubernet"], &[]);
        let line = format!(
            "{} runs Kubernetes clusters {}",
            "word ".repeat(40),
            "tail ".repeat(60)
        );
        let parts = fragment(&line, &t, &mut a).expect("matched");
        let shown = show(&parts);
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert!(shown.contains("runs [Kubernetes] clusters"), "{shown}");
        assert!(shown.len() < FRAGMENT_BYTES + 20, "{shown}");
    }

    #[test]
    fn other_text_is_read_only_when_nothing_else_matched() {
        let mut a = Analyzer::default();
        let hit = SearchHit {
            org: String::new(),
            org_name: String::new(),
            org_fingerprint: String::new(),
            id: "x".into(),
            kind: skillmesh_protocol::Kind::TalkOffer,
            title: "Quiet weeks".into(),
            summary: String::new(),
            topics: vec!["On-call".into()],
            formats: vec![],
            languages: vec![],
            time_zone: None,
            availability: None,
            own: false,
            local_only: false,
            highlights: vec![],
        };
        let h = highlights(&hit, &terms(&["call"], &[]), &mut a, || panic!("not read"));
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].field, "topic");
        let h = highlights(&hit, &terms(&["pager"], &[]), &mut a, || {
            vec!["Ana Silva".into(), "Carry the pager well".into()]
        });
        assert_eq!(h[0].field, "text");
        assert_eq!(show(&h[0].parts), "Carry the [pager] well");
    }
}
