//! Ground rules and their violations: the facilitator edits the rules, everyone answers whether
//! they agree, anyone reports a violation, and the facilitator confirms or dismisses it.
//! Reporting cannot be used to harass: one open report per reporter per person, and a rate
//! limit per reporter.

use super::{Actor, CmdError, Ctx, Outcome, existing, facilitator, person, text_of};
use crate::error::{Refusal, refuse};
use crate::session::changes::Part;
use crate::session::conduct::Report;
use crate::session::doc::{self, RuleChange};
use crate::session::state::id;
use tafel_protocol::{AckResult, Consequence, ErrorCode, ReportStatus, floor_limits};

/// A rule in force.
fn active_rule(cx: &Ctx<'_, '_>, rule: &str) -> Result<usize, Refusal> {
    let r = existing('g', rule, cx.s.rules.len(), ErrorCode::UnknownRule, "rule")?;
    if cx.s.rules[r].removed {
        return Err(refuse(ErrorCode::UnknownRule, "this rule was taken out"));
    }
    Ok(r)
}

/// After any change to the rules: a new version, so everyone answers again.
fn new_version(cx: &mut Ctx<'_, '_>, index: usize, change: RuleChange<'_>) -> Result<(), CmdError> {
    let version = cx.s.rules_version + 1;
    doc::put_rule_change(cx.tx, cx.o, index, change, version)?;
    cx.s.rules_version = version;
    cx.changed.whole(Part::Rules);
    // Whoever answered the old version now sees no answer.
    for p in cx.s.agreements.keys() {
        cx.changed.your_floor(*p);
    }
    Ok(())
}

pub(super) fn set_rule(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    rule: Option<&str>,
    text: &str,
) -> Outcome {
    facilitator(actor)?;
    let text = text_of(text, floor_limits::RULE_CHARS, "a rule")?;
    match rule {
        None => {
            if cx.s.rules.iter().filter(|r| !r.removed).count() >= floor_limits::MAX_RULES {
                return Err(refuse(
                    ErrorCode::Invalid,
                    format!("at most {} ground rules", floor_limits::MAX_RULES),
                ));
            }
            let index = cx.s.rules.len();
            new_version(cx, index, RuleChange::Added(&text))?;
            cx.s.rules.push(crate::session::conduct::Rule {
                text,
                removed: false,
            });
            Ok(AckResult {
                rule: Some(id('g', index)),
                ..AckResult::default()
            })
        }
        Some(rule) => {
            let r = active_rule(cx, rule)?;
            if cx.s.rules[r].text != text {
                new_version(cx, r, RuleChange::Text(&text))?;
                cx.s.rules[r].text = text;
            }
            Ok(AckResult::default())
        }
    }
}

pub(super) fn remove_rule(cx: &mut Ctx<'_, '_>, actor: Actor, rule: &str) -> Outcome {
    facilitator(actor)?;
    let r = active_rule(cx, rule)?;
    new_version(cx, r, RuleChange::Removed)?;
    cx.s.rules[r].removed = true;
    Ok(AckResult::default())
}

pub(super) fn agree(cx: &mut Ctx<'_, '_>, actor: Actor, yes: bool) -> Outcome {
    let me = person(actor)?;
    let version = cx.s.rules_version;
    if cx.s.agreements.get(&me) == Some(&(version, yes)) {
        return Ok(AckResult::default());
    }
    doc::put_agreement(
        cx.tx,
        cx.s.agreement_records,
        &cx.s.pseudonyms[me],
        yes,
        version,
        cx.now,
    )?;
    cx.s.agreement_records += 1;
    cx.s.agreements.insert(me, (version, yes));
    cx.changed.whole(Part::Rules);
    cx.changed.your_floor(me);
    Ok(AckResult::default())
}

pub(super) fn flag(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    rule: &str,
    about: Option<&str>,
    note: Option<&str>,
    anonymous: bool,
) -> Outcome {
    let me = person(actor)?;
    let rule = active_rule(cx, rule)?;
    let about = match about {
        Some(pid) => Some(existing(
            'p',
            pid,
            cx.s.participants.len(),
            ErrorCode::UnknownParticipant,
            "participant",
        )?),
        None => None,
    };
    let note = match note {
        Some(n) => Some(text_of(n, floor_limits::NOTE_CHARS, "a note")?).filter(|n| !n.is_empty()),
        None => None,
    };
    let mine = || cx.s.reports.iter().filter(|r| r.reporter == me);
    if about.is_some() && mine().any(|r| r.about == about && r.status == ReportStatus::Open) {
        return Err(refuse(
            ErrorCode::ReportLimit,
            "you already have an open report about this person",
        ));
    }
    let since = cx.now - floor_limits::REPORT_WINDOW_MS;
    if mine().filter(|r| r.at > since).count() >= floor_limits::REPORTS_PER_WINDOW {
        return Err(refuse(
            ErrorCode::ReportLimit,
            format!(
                "at most {} reports per {} minutes",
                floor_limits::REPORTS_PER_WINDOW,
                floor_limits::REPORT_WINDOW_MS / 60_000
            ),
        ));
    }
    let report = Report {
        rule,
        about,
        note,
        reporter: me,
        anonymous,
        at: cx.now,
        status: ReportStatus::Open,
        resolved_at: None,
        consequence: None,
    };
    let index = cx.s.reports.len();
    doc::put_report(cx.tx, index, &report, &cx.s.pseudonyms[me])?;
    cx.s.put_report(index, report);
    cx.changed.entity(Part::Reports, index);
    cx.changed.your_floor(me);
    Ok(AckResult {
        report: Some(id('x', index)),
        ..AckResult::default()
    })
}

pub(super) fn decide(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    report: &str,
    confirm: bool,
    consequence: Option<Consequence>,
) -> Outcome {
    facilitator(actor)?;
    let index = existing(
        'x',
        report,
        cx.s.reports.len(),
        ErrorCode::UnknownReport,
        "report",
    )?;
    let mut r = cx.s.reports[index].clone();
    if r.status != ReportStatus::Open {
        return Err(refuse(
            ErrorCode::ReportClosed,
            "this report was already decided",
        ));
    }
    if let Some(c) = consequence {
        if r.about.is_none() {
            return Err(refuse(
                ErrorCode::Invalid,
                "a consequence needs a report about someone",
            ));
        }
        if let Consequence::HandWait { minutes } = c
            && !floor_limits::HAND_WAIT_MINUTES.contains(&minutes)
        {
            return Err(refuse(
                ErrorCode::Invalid,
                "a hand can wait 1 to 60 minutes",
            ));
        }
    }
    r.status = if confirm {
        ReportStatus::Confirmed
    } else {
        ReportStatus::Dismissed
    };
    r.resolved_at = Some(cx.now);
    r.consequence = consequence;
    doc::put_report_decision(cx.tx, index, &r)?;
    let (reporter, about) = (r.reporter, r.about);
    cx.s.put_report(index, r);
    cx.changed.entity(Part::Reports, index);
    cx.changed.your_floor(reporter);
    if confirm {
        // Counts per rule and per person, and perhaps a hand on hold.
        cx.changed.whole(Part::Rules);
        cx.changed.whole(Part::Floor);
        if let Some(p) = about {
            cx.changed.your_floor(p);
        }
    }
    Ok(AckResult::default())
}
