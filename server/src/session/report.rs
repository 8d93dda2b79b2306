//! The report of a session, made from what one role may see of it: the whole view of that
//! role, with everyone who took part counted as present. So the report can show nothing the
//! role could not see live; it also leaves out every card's author.

use tafel_protocol::{
    CardKind, CardStatus, LessonOf, PerspectiveCount, REPORT_SCHEMA, RankedCard, Report,
    ReportCard, ReportExperiment, ReportFloor, ReportLesson, ReportPhase, ReportRound, ReportRule,
    ReportRules, ReportSession, Role, View,
};

/// The report of `view`, as `role` may read it; `last_change_at` is the time of the session's
/// last change.
pub fn report(view: &View, role: Role, last_change_at: tafel_protocol::Millis) -> Report {
    let s = &view.session;
    let text_of = |id: &str| {
        view.cards
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.text.clone())
    };
    let name_of = |id: &str| {
        view.participants
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.name.clone())
    };
    let on_board = |c: &&tafel_protocol::CardView| c.status == CardStatus::Visible;
    let lessons: Vec<ReportLesson> = view
        .cards
        .iter()
        .filter(on_board)
        .filter(|c| c.kind == CardKind::Lesson)
        .map(|c| ReportLesson {
            card: c.id.clone(),
            text: c.text.clone().unwrap_or_default(),
            about: c.lesson_of.clone(),
        })
        .collect();
    let mut participants: Vec<PerspectiveCount> = Vec::new();
    for p in view
        .participants
        .iter()
        .filter(|p| p.role == Role::Participant)
    {
        match participants
            .iter_mut()
            .find(|c| c.perspective == p.perspective)
        {
            Some(c) => c.people += 1,
            None => participants.push(PerspectiveCount {
                perspective: p.perspective,
                people: 1,
            }),
        }
    }
    participants.sort_by_key(|c| c.perspective);
    let balance = view.floor.balance.clone();
    Report {
        schema: REPORT_SCHEMA.into(),
        role,
        session: ReportSession {
            code: s.code.clone(),
            title: s.title.clone(),
            problem: s.problem.clone(),
            language: s.language,
            status: s.status,
            phase: s.phase,
            created_at: s.created_at,
            last_change_at,
            anonymous_cards: s.anonymous_cards,
        },
        participants,
        readiness: view.checks.clone(),
        parties: view.parties.clone(),
        table: view.table.clone(),
        criteria: view.criteria.clone(),
        experiments: view
            .experiments
            .iter()
            .map(|e| ReportExperiment {
                idea: e.from_card.as_deref().and_then(text_of),
                owner_names: e.owners.iter().filter_map(|p| name_of(p)).collect(),
                lessons: lessons
                    .iter()
                    .filter(|l| l.about == Some(LessonOf::Experiment(e.id.clone())))
                    .map(|l| l.text.clone())
                    .collect(),
                experiment: e.clone(),
            })
            .collect(),
        lessons: lessons.clone(),
        rounds: view
            .rounds
            .iter()
            .map(|r| ReportRound {
                id: r.id.clone(),
                phase: r.phase,
                opened_at: r.opened_at,
                closed_at: r.closed_at,
                voters: r.voters,
                ranking: ranking(r.results.as_deref().unwrap_or_default(), &text_of),
            })
            .collect(),
        phases: (0..6u8)
            .map(|phase| ReportPhase {
                phase,
                cards: view
                    .cards
                    .iter()
                    .filter(on_board)
                    .filter(|c| c.phase == phase)
                    .map(|c| ReportCard {
                        id: c.id.clone(),
                        kind: c.kind,
                        text: c.text.clone().unwrap_or_default(),
                        builds_on: c.builds_on.clone(),
                        source: c.source.clone(),
                    })
                    .collect(),
            })
            .filter(|p| !p.cards.is_empty())
            .collect(),
        rules: ReportRules {
            version: view.rules.version,
            agreed: view.rules.agreed,
            disagreed: view.rules.disagreed,
            rules: view
                .rules
                .rules
                .iter()
                .map(|r| ReportRule {
                    text: r.text.clone(),
                    violations: r.violations,
                })
                .collect(),
        },
        floor: ReportFloor {
            turns: view.floor.turns,
            spoken_ms: view.floor.spoken_ms,
            figure: balance.as_ref().and_then(|b| b.figure),
            per_perspective: balance
                .as_ref()
                .map(|b| b.per_perspective.clone())
                .unwrap_or_default(),
            per_person: balance.map(|b| b.per_person).unwrap_or_default(),
        },
        reflections: view.reflections.clone(),
    }
}

/// Ranks a round's totals (already highest first): tied cards share a rank, and the next
/// rank counts every card above it (1, 2, 2, 4).
fn ranking(
    results: &[tafel_protocol::CardTotal],
    text_of: &impl Fn(&str) -> Option<String>,
) -> Vec<RankedCard> {
    results
        .iter()
        .map(|t| RankedCard {
            card: t.card.clone(),
            text: text_of(&t.card),
            votes: t.votes,
            rank: 1 + results.iter().filter(|o| o.votes > t.votes).count() as u32,
        })
        .collect()
}

/// The cards and vote results as CSV (RFC 4180: every field quoted, quotes doubled): one row
/// per card on the board, then one row per card in each round.
pub fn csv(report: &Report) -> String {
    let mut out = String::from("what,phase,card,kind,text,builds_on,round,votes,rank\r\n");
    let field = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let kind = |k: CardKind| {
        serde_json::to_value(k)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    for p in &report.phases {
        for c in &p.cards {
            out += &[
                field("card"),
                field(&p.phase.to_string()),
                field(&c.id),
                field(&kind(c.kind)),
                field(&c.text),
                field(c.builds_on.as_deref().unwrap_or("")),
                field(""),
                field(""),
                field(""),
            ]
            .join(",");
            out += "\r\n";
        }
    }
    for r in &report.rounds {
        for c in &r.ranking {
            out += &[
                field("vote"),
                field(&r.phase.to_string()),
                field(&c.card),
                field(""),
                field(c.text.as_deref().unwrap_or("")),
                field(""),
                field(&r.id),
                field(&c.votes.to_string()),
                field(&c.rank.to_string()),
            ]
            .join(",");
            out += "\r\n";
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tafel_protocol::CardTotal;

    #[test]
    fn tied_cards_share_a_rank() {
        let totals = |v: &[u32]| -> Vec<CardTotal> {
            v.iter()
                .enumerate()
                .map(|(i, votes)| CardTotal {
                    card: format!("k{}", i + 1),
                    votes: *votes,
                })
                .collect()
        };
        let ranks: Vec<u32> = ranking(&totals(&[5, 3, 3, 1]), &|_| None)
            .into_iter()
            .map(|r| r.rank)
            .collect();
        assert_eq!(ranks, [1, 2, 2, 4]);
    }
}
