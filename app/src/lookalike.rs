//! Organisation names that look alike: "Northwind", "northwind",
//! "N0rthw1nd" and "Νorthwind" (with a Greek capital Nu) are one name to a
//! reader, so a new key that calls itself by a name another key already
//! uses is flagged before anyone accepts its request.
//!
//! Two names look alike when their *folded* forms are equal. Folding takes
//! the UTS #39 confusable skeleton (the `unicode-security` crate, from the
//! Unicode project's own tables: Greek and Cyrillic look-alikes of Latin
//! letters and the like), lower-cases it, maps the digits and symbols
//! people use for letters (`0` o, `1` `l` `|` i, `3` e, `4` `@` a, `5` `$`
//! s, `7` t, `8` b) and drops everything but letters and digits, so that
//! spacing and punctuation do not tell names apart either.

use unicode_security::skeleton;

/// The form two names are compared in (see the module docs).
pub fn fold(name: &str) -> String {
    let once: String = skeleton(name).collect::<String>().to_lowercase();
    // The lower-cased skeleton can hold letters whose own skeleton differs
    // (a capital look-alike lower-cases to a letter with another one).
    let twice: String = skeleton(&once).collect::<String>().to_lowercase();
    twice
        .chars()
        .filter_map(|c| {
            Some(match c {
                '0' => 'o',
                '1' | 'l' | '|' | '!' => 'i',
                '3' => 'e',
                '4' | '@' => 'a',
                '5' | '$' => 's',
                '7' => 't',
                '8' => 'b',
                c if c.is_alphanumeric() => c,
                _ => return None,
            })
        })
        .collect()
}

/// Whether `a` and `b` look alike to a reader.
pub fn looks_alike(a: &str, b: &str) -> bool {
    let a = fold(a);
    !a.is_empty() && a == fold(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_digits_and_other_scripts_do_not_tell_names_apart() {
        for other in [
            "Northwind",
            "northwind",
            "NORTHWIND",
            "N0rthw1nd",
            "\u{39d}orthwind", // Greek capital Nu
            "North wind",
            "Nоrthwind", // Cyrillic o
        ] {
            assert!(looks_alike("Northwind", other), "{other}");
        }
        for other in ["Northwood", "Northwinds", "Southwind", ""] {
            assert!(!looks_alike("Northwind", other), "{other}");
        }
    }
}
