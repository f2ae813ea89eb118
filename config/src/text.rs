//! Small string helpers shared by parsing, validation and rendering.

/// Values longer than this are shortened when quoted in error messages.
const SHOWN_CHARS: usize = 80;

/// `s` quoted for an error message (control characters escaped), shortened
/// with `…` if long, so a huge or binary value cannot flood a log line.
pub(crate) fn shown(s: &str) -> String {
    match s.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{:?}…", &s[..cut]),
        None => format!("{s:?}"),
    }
}

/// `s` as a TOML basic string, quotes included.
pub(crate) fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// 1-based line and column (in characters) of byte offset `pos` in `text`.
/// Offsets past the end or inside a character are clamped, never a panic.
pub(crate) fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let mut pos = pos.min(text.len());
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &text[..pos];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |nl| nl + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_quotes_and_truncates() {
        assert_eq!(shown("8080"), "\"8080\"");
        assert_eq!(shown("a\nb"), "\"a\\nb\"");
        let long = "é".repeat(200);
        let out = shown(&long);
        assert!(out.ends_with('…'));
        assert_eq!(out.chars().filter(|c| *c == 'é').count(), SHOWN_CHARS);
    }

    #[test]
    fn toml_string_escapes_what_toml_requires() {
        assert_eq!(toml_string("plain"), "\"plain\"");
        assert_eq!(toml_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(toml_string("\u{7f}\u{1}"), "\"\\u007F\\u0001\"");
        for s in [
            "a\"b",
            "c:\\dir\\x",
            "tab\there",
            "nul\0",
            "ünï ☃",
            "'single'",
        ] {
            let doc = format!("v = {}", toml_string(s));
            let table: toml::Table = match doc.parse() {
                Ok(t) => t,
                Err(e) => panic!("{doc}: {e}"),
            };
            assert_eq!(table.get("v").and_then(|v| v.as_str()), Some(s));
        }
    }

    #[test]
    fn line_col_counts_from_one_and_clamps() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 9), (2, 3)); // after "bé"
        assert_eq!(line_col(text, 8), (2, 2)); // inside 'é': clamped back
        assert_eq!(line_col(text, 1000), (3, 1));
        assert_eq!(line_col("", 5), (1, 1));
    }
}
