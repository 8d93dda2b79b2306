//! Ground rules, the group's agreement to them, and reported violations.

use tafel_protocol::{Consequence, Language, Millis, ReportStatus};

/// A ground rule.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Rule {
    /// Its text.
    pub text: String,
    /// Taken out by the facilitator (its violations stay on record).
    pub removed: bool,
}

/// A reported violation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    /// The rule's index.
    pub rule: usize,
    /// About whom.
    pub about: Option<usize>,
    /// The reporter's note.
    pub note: Option<String>,
    /// The reporter (stored as a pseudonym in the document).
    pub reporter: usize,
    /// Whether the facilitator may see the reporter.
    pub anonymous: bool,
    /// When it was made.
    pub at: Millis,
    /// Open, confirmed or dismissed.
    pub status: ReportStatus,
    /// When the facilitator decided.
    pub resolved_at: Option<Millis>,
    /// What followed a confirmation.
    pub consequence: Option<Consequence>,
}

impl Report {
    /// Until when this report holds its subject's hand, if it does.
    pub fn hold(&self) -> Option<(usize, Millis)> {
        match (self.status, self.consequence, self.about, self.resolved_at) {
            (
                ReportStatus::Confirmed,
                Some(Consequence::HandWait { minutes }),
                Some(p),
                Some(at),
            ) => Some((p, at + i64::from(minutes) * 60_000)),
            _ => None,
        }
    }
}

/// The ground rules a new session starts with, in its language. Our own wording; the
/// facilitator edits them with the group.
pub fn default_rules(language: Language) -> &'static [&'static str] {
    match language {
        Language::Nl => &[
            "We laten elkaar uitpraten.",
            "Iedereen krijgt een beurt. Wie al veel zei, geeft ruimte aan wie nog weinig zei.",
            "Kritiek gaat over ideeën, niet over mensen.",
            "Wat iemand hier persoonlijk vertelt, blijft in deze ruimte.",
            "De telefoon gebruiken we alleen voor deze sessie.",
            "We spreken voor onszelf: ‘ik vind’, niet ‘men vindt’.",
            "Elke stem weegt even zwaar, van cliënt tot bestuurder.",
            "Eerst doorvragen, dan pas oordelen.",
            "We houden het kort, zodat er tijd is voor iedereen.",
            "Een experiment dat mislukt, is ook een les. We delen het open.",
        ],
        Language::En => &[
            "We let each other finish.",
            "Everyone gets a turn. Whoever has said a lot makes room for those who have said little.",
            "We criticise ideas, not people.",
            "What someone shares here personally stays in this room.",
            "We use our phones only for this session.",
            "We speak for ourselves: ‘I think’, not ‘people think’.",
            "Every voice counts the same, from client to director.",
            "We ask further before we judge.",
            "We keep it short, so there is time for everyone.",
            "An experiment that fails is a lesson too. We share it openly.",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_rules_in_both_languages_within_the_length_limit() {
        for lang in [Language::Nl, Language::En] {
            let rules = default_rules(lang);
            assert_eq!(rules.len(), 10);
            for r in rules {
                assert!(tafel_protocol::floor_limits::RULE_CHARS.contains(&r.chars().count()));
            }
        }
    }

    #[test]
    fn only_a_confirmed_hand_wait_about_someone_holds_a_hand() {
        let mut r = Report {
            rule: 0,
            about: Some(3),
            note: None,
            reporter: 1,
            anonymous: false,
            at: 1_000,
            status: ReportStatus::Open,
            resolved_at: None,
            consequence: None,
        };
        assert_eq!(r.hold(), None);
        r.status = ReportStatus::Confirmed;
        r.resolved_at = Some(2_000);
        r.consequence = Some(Consequence::Warning);
        assert_eq!(r.hold(), None);
        r.consequence = Some(Consequence::HandWait { minutes: 5 });
        assert_eq!(r.hold(), Some((3, 302_000)));
    }
}
