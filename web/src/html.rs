//! HTML escaping: the one function every value from outside goes through
//! before it reaches a page.

/// Escapes text for use in HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_and_attribute_breakouts_become_inert_text() {
        assert_eq!(
            super::escape(r#"<script>alert(1)</script>" onmouseover='x'&"#),
            "&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&#39;x&#39;&amp;"
        );
    }
}
