//! The character rules for every text a person types.
//!
//! - Every text is trimmed of white space at both ends, and its length is counted in
//!   characters (Unicode scalar values) after trimming.
//! - Control characters are refused everywhere, except tab and line breaks in texts that may
//!   run over several lines (cards, notes, the problem statement, …).
//! - A text that must not be empty must hold at least one *visible* character: a letter, a
//!   digit, a punctuation mark or a symbol. White space, zero-width characters, joiners, marks
//!   on their own and fillers that show nothing do not count. An optional text with nothing
//!   visible in it counts as empty.
//! - Names (display names, parties, an experiment's owners) refuse the characters that change
//!   the direction of what follows them: the embeddings and overrides U+202A–U+202E and the
//!   isolates U+2066–U+2069. Longer texts may hold them (a sentence can mix Arabic and Dutch),
//!   and every screen shows each typed text isolated from its surroundings, so no text can
//!   reorder what comes after it.

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// What kind of text, for its rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One line that names someone or something: no control characters at all, no
    /// direction controls.
    Name,
    /// A line or more of free text: tab and line breaks allowed.
    Text,
}

/// Why a text was refused, in words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// It holds a control character it may not.
    Control,
    /// A name holds a character that changes the direction of the text after it.
    Direction,
    /// It has no visible character.
    Invisible,
    /// Its length, in characters after trimming, is outside its limits.
    Length { n: usize },
}

/// A character that changes the direction of the text after it: an embedding, an override
/// or an isolate.
pub fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A character that shows something on its own.
pub fn is_visible(c: char) -> bool {
    // Letters that are defined to show nothing: the Hangul fillers.
    if matches!(c, '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}') || c == '\u{2800}' {
        return false;
    }
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Letter
            | GeneralCategoryGroup::Number
            | GeneralCategoryGroup::Punctuation
            | GeneralCategoryGroup::Symbol
    )
}

/// Checks `text` against the rules for `kind` and `limits`; returns it trimmed. An optional
/// text (`limits` starting at 0) with nothing visible in it comes back empty.
pub fn check(
    text: &str,
    kind: Kind,
    limits: std::ops::RangeInclusive<usize>,
) -> Result<String, Problem> {
    let trimmed = text.trim();
    let allowed_control = |c: char| kind == Kind::Text && matches!(c, '\t' | '\n' | '\r');
    if trimmed
        .chars()
        .any(|c| c.is_control() && !allowed_control(c))
    {
        return Err(Problem::Control);
    }
    if kind == Kind::Name && trimmed.chars().any(is_direction_control) {
        return Err(Problem::Direction);
    }
    let n = trimmed.chars().count();
    if !trimmed.chars().any(is_visible) {
        return match *limits.start() {
            0 => Ok(String::new()),
            _ if n == 0 => Err(Problem::Length { n }),
            _ => Err(Problem::Invisible),
        };
    }
    if limits.contains(&n) {
        Ok(trimmed.to_owned())
    } else {
        Err(Problem::Length { n })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: std::ops::RangeInclusive<usize> = 1..=40;

    #[test]
    fn ordinary_names_and_texts_pass_trimmed() {
        for name in [
            "Anna",
            "  Jan de Vries ",
            "José",
            "Zoë",
            "محمد",
            "李雷",
            "A",
            "🙂",
            "1",
        ] {
            assert_eq!(check(name, Kind::Name, NAME), Ok(name.trim().to_owned()));
        }
        let card = "Eerst wachten\nen dan:\tbellen";
        assert_eq!(check(card, Kind::Text, 1..=280), Ok(card.to_owned()));
        // A sentence may mix directions with the marks that make it read right.
        let mixed = "Zij zei \u{2067}مرحبا\u{2069} tegen mij";
        assert_eq!(check(mixed, Kind::Text, 1..=280), Ok(mixed.to_owned()));
    }

    #[test]
    fn a_name_needs_something_visible() {
        for name in [
            "\u{200B}",
            "\u{200B}\u{200C}\u{200D}",
            "\u{2060}",
            "\u{FEFF}",
            "\u{00AD}",
            "\u{034F}",
            "\u{0301}\u{0301}",
            "\u{3164}",
            "\u{2800}",
            "\u{180E}",
            " \u{200B} ",
        ] {
            assert_eq!(
                check(name, Kind::Name, NAME),
                Err(Problem::Invisible),
                "{name:?}"
            );
        }
        assert_eq!(
            check("   ", Kind::Name, NAME),
            Err(Problem::Length { n: 0 })
        );
        assert_eq!(check("", Kind::Name, NAME), Err(Problem::Length { n: 0 }));
        // A visible letter with joiners around it is a name.
        assert!(check("\u{200D}a\u{200D}", Kind::Name, NAME).is_ok());
        // An emoji built with a joiner is visible.
        assert!(check("👩\u{200D}⚕\u{FE0F}", Kind::Name, NAME).is_ok());
    }

    #[test]
    fn names_refuse_direction_controls_and_every_control_character() {
        for c in ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}'] {
            let name = format!("Anna{c}nee");
            assert_eq!(check(&name, Kind::Name, NAME), Err(Problem::Direction));
        }
        for c in ['\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}'] {
            let name = format!("{c}Anna");
            assert_eq!(check(&name, Kind::Name, NAME), Err(Problem::Direction));
        }
        for c in [
            '\0', '\u{7}', '\t', '\n', '\r', '\u{1B}', '\u{7F}', '\u{85}',
        ] {
            let name = format!("An{c}na");
            assert_eq!(check(&name, Kind::Name, NAME), Err(Problem::Control));
        }
    }

    #[test]
    fn texts_allow_line_breaks_but_no_other_control_character() {
        assert!(check("a\r\nb\tc", Kind::Text, 1..=10).is_ok());
        for c in ['\0', '\u{8}', '\u{1B}', '\u{7F}', '\u{9B}'] {
            let text = format!("a{c}b");
            assert_eq!(check(&text, Kind::Text, 1..=10), Err(Problem::Control));
        }
        // An override in a card is kept (the screens isolate it), not refused.
        assert!(check("a\u{202E}b", Kind::Text, 1..=10).is_ok());
    }

    #[test]
    fn an_optional_text_with_nothing_visible_is_empty() {
        assert_eq!(check("\u{200B}", Kind::Text, 0..=100), Ok(String::new()));
        assert_eq!(check("  ", Kind::Text, 0..=100), Ok(String::new()));
        assert_eq!(
            check("\u{200B}", Kind::Text, 1..=100),
            Err(Problem::Invisible)
        );
    }

    #[test]
    fn lengths_count_characters_after_trimming() {
        assert!(check(&"ë".repeat(40), Kind::Name, NAME).is_ok());
        assert_eq!(
            check(&"ë".repeat(41), Kind::Name, NAME),
            Err(Problem::Length { n: 41 })
        );
        assert!(check(&format!("  {}  ", "x".repeat(40)), Kind::Name, NAME).is_ok());
    }
}
