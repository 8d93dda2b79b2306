//! What each role may see of a session: the views, the patches of what changed, and each
//! person's own data. One function per kind of entity, used by the welcome and every delta
//! alike: no role ever receives a token, a voter's identity, the author of an anonymous card
//! or report, or a hidden round's totals before it closes (except the facilitator's own).

use super::changes::{Changed, Part, YourChange};
use super::conduct::Report;
use super::floor::{self, People};
use super::method::Lesson;
use super::state::{Moment, Session, id};
use std::collections::BTreeMap;
use tafel_protocol::{
    Answer, AnswerCounts, CheckView, ConsentCounts, Coverage, CriterionView, ExperimentView,
    LessonOf, PartyStatus, PartyView, ReadinessAnswers, ReflectionEntry, ReflectionView,
    ReplayLinkView, Stage, Stake, TableView, YourAnswers, YourConsent, YourReflection,
};
use tafel_protocol::{
    Balance, CardStatus, CardTotal, CardView, FloorView, Millis, ParticipantView, Patch,
    PersonFloor, Perspective, PerspectiveFloor, QueueEntry, QueueReason, ReportStatus, ReportView,
    Role, RoundStatus, RoundView, RuleView, RulesView, SessionView, TurnView, View, You, YouPatch,
    YourFloor, YourLastTurn, YourReport, YourVotes, YourWarning,
};
use tafel_protocol::{
    FloorPreset, HandKind, InvitationStatus, InvitationView, SessionStatus, Suggestion,
    SuggestionReason, TurnKind, YourInvitation, floor_limits,
};

impl Session {
    /// The floor as `role` may see it at `now`.
    pub fn floor_view(&self, role: Role, now: Millis, online: &[u32]) -> FloorView {
        let fl = &self.floor;
        self.with_people(online, |people| {
            // Who waits after a violation is the facilitator's business (and the person's own).
            let places: Vec<_> = fl
                .queue(people, now)
                .into_iter()
                .filter(|pl| role == Role::Facilitator || pl.reason != QueueReason::OnHold)
                .collect();
            let waiting = places.len() as u32;
            let share = fl.share(people);
            let queue = places
                .into_iter()
                .take(tafel_protocol::floor_limits::QUEUE_SHOWN)
                .map(|pl| {
                    let kind = match pl.hand {
                        Some(HandKind::Response) => TurnKind::Response,
                        Some(HandKind::Hand) => TurnKind::Hand,
                        None => TurnKind::Round,
                    };
                    QueueEntry {
                        participant: id('p', pl.p),
                        hand: pl.hand,
                        raised_at: pl.raised_at,
                        reason: pl.reason,
                        limit_ms: fl.limit_of(kind, pl.p, &share),
                        ready_at: pl.ready_at,
                    }
                })
                .collect();
            let show_balance = match role {
                Role::Facilitator => true,
                Role::Projector => fl.settings.show_balance,
                // Afterwards, what the big screen could have shown.
                Role::Replay => true,
                Role::Participant => false,
            };
            FloorView {
                now,
                settings: fl.settings,
                paused: fl.paused_since.is_some(),
                turn: fl.running().map(|t| TurnView {
                    id: id('t', fl.turns.len() - 1),
                    speaker: id('p', t.speaker),
                    kind: t.kind,
                    started_at: t.started_at,
                    limit_ms: t.limit_ms,
                    elapsed_ms: fl.elapsed(t, now),
                    overtime: fl.overtime(now),
                    ended_at: None,
                    how: None,
                }),
                previous: fl.turns.iter().enumerate().rev().find_map(|(i, t)| {
                    let (at, how) = t.ended?;
                    Some(TurnView {
                        id: id('t', i),
                        speaker: id('p', t.speaker),
                        kind: t.kind,
                        started_at: t.started_at,
                        limit_ms: t.limit_ms,
                        elapsed_ms: fl.elapsed(t, at),
                        overtime: fl.elapsed(t, at) >= t.limit_ms,
                        ended_at: Some(at),
                        how: Some(how),
                    })
                }),
                queue,
                waiting,
                spoken_ms: fl.stats.iter().map(|s| s.floor_ms).sum(),
                turns: fl.turns.len() as u32,
                balance: show_balance.then(|| self.balance(people, role == Role::Facilitator)),
                preset: FloorPreset::of(&fl.settings),
                share_limits: fl.share_limits(&share),
                invitations: if role == Role::Facilitator {
                    self.invitations_view()
                } else {
                    Vec::new()
                },
                suggestions: if role == Role::Facilitator {
                    self.suggestions(people, &share)
                } else {
                    Vec::new()
                },
            }
        })
    }

    /// Whether the session has ended: nobody can take the floor any more.
    fn ended(&self) -> bool {
        self.fields.status == SessionStatus::Ended
    }

    /// The latest invitations, for the facilitator. Once the session has ended, one still open
    /// can no longer be taken: it has lapsed.
    fn invitations_view(&self) -> Vec<InvitationView> {
        let all = &self.floor.invitations;
        all[all.len().saturating_sub(floor_limits::INVITATIONS_SHOWN)..]
            .iter()
            .map(|i| InvitationView {
                participant: id('p', i.p),
                at: i.at,
                by: i.by,
                status: match i.status {
                    InvitationStatus::Open if self.ended() => InvitationStatus::Lapsed,
                    status => status,
                },
            })
            .collect()
    }

    /// Whom the console suggests inviting: people present, not speaking, with no hand up and
    /// no open invitation, under the fair share; those who have not spoken first, then the
    /// only ones present of a perspective that is behind, then the least floor time.
    fn suggestions(&self, people: &People<'_>, share: &floor::Share) -> Vec<Suggestion> {
        let fl = &self.floor;
        if share.total <= 0 || self.ended() {
            return Vec::new();
        }
        let behind = fl.behind(people, share);
        let speaker = fl.running().map(|t| t.speaker);
        let present = |p: usize| (people.online)(p);
        let mut out: Vec<(u8, i64, usize, Suggestion)> = share
            .counted
            .iter()
            .copied()
            .filter(|p| {
                present(*p)
                    && Some(*p) != speaker
                    && fl.hand_of(*p).is_none()
                    && fl.invitation_of(*p).is_none()
                    && (fl.floor_ms(*p) as f64) < share.fair
            })
            .map(|p| {
                let perspective = (people.perspective)(p);
                let alone = share
                    .counted
                    .iter()
                    .filter(|q| present(**q) && (people.perspective)(**q) == perspective)
                    .count()
                    == 1;
                let reason = if fl.turns_of(p) == 0 {
                    SuggestionReason::NotSpokenYet
                } else if alone && behind.contains(&perspective) {
                    SuggestionReason::OnlyOfPerspective
                } else {
                    SuggestionReason::UnderShare
                };
                let rank = match reason {
                    SuggestionReason::NotSpokenYet => 0,
                    SuggestionReason::OnlyOfPerspective => 1,
                    SuggestionReason::UnderShare => 2,
                };
                let suggestion = Suggestion {
                    participant: id('p', p),
                    reason,
                    share: fl.floor_ms(p) as f64 / share.total as f64,
                };
                (rank, fl.floor_ms(p), p, suggestion)
            })
            .collect();
        out.sort_by_key(|(rank, ms, p, _)| (*rank, *ms, *p));
        out.into_iter()
            .take(floor_limits::SUGGESTIONS_SHOWN)
            .map(|(.., s)| s)
            .collect()
    }

    /// The balance figures over everyone counted.
    fn balance(&self, people: &People<'_>, per_person: bool) -> Balance {
        let fl = &self.floor;
        let counted = fl.counted(people);
        let times: Vec<i64> = counted.iter().map(|p| fl.floor_ms(*p)).collect();
        let total: i64 = times.iter().sum();
        let behind = fl.behind(people, &fl.share(people));
        let mut per_perspective: BTreeMap<Perspective, PerspectiveFloor> = BTreeMap::new();
        for p in &counted {
            let perspective = self.participants[*p].perspective;
            let e = per_perspective
                .entry(perspective)
                .or_insert(PerspectiveFloor {
                    perspective,
                    people: 0,
                    floor_ms: 0,
                    turns: 0,
                    behind: behind.contains(&perspective),
                });
            e.people += 1;
            e.floor_ms += fl.floor_ms(*p);
            e.turns += fl.turns_of(*p);
        }
        Balance {
            figure: floor::balance(&times),
            top_share: (total > 0).then(|| *times.iter().max().unwrap_or(&0) as f64 / total as f64),
            people: counted.len() as u32,
            silent: counted.iter().filter(|p| fl.turns_of(**p) == 0).count() as u32,
            per_person: if per_person {
                counted
                    .iter()
                    .map(|p| PersonFloor {
                        participant: id('p', *p),
                        floor_ms: fl.floor_ms(*p),
                        turns: fl.turns_of(*p),
                        violations: self.confirmed(|r| r.about == Some(*p)),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            per_perspective: per_perspective.into_values().collect(),
        }
    }

    fn confirmed(&self, which: impl Fn(&Report) -> bool) -> u32 {
        self.reports
            .iter()
            .filter(|r| r.status == ReportStatus::Confirmed && which(r))
            .count() as u32
    }

    /// The ground rules in force, with counts.
    pub fn rules_view(&self) -> RulesView {
        let answers = || {
            self.agreements
                .values()
                .filter(|(v, _)| *v == self.rules_version)
        };
        RulesView {
            rules: self
                .rules
                .iter()
                .enumerate()
                .filter(|(_, r)| !r.removed)
                .map(|(i, r)| RuleView {
                    id: id('g', i),
                    text: r.text.clone(),
                    violations: self.confirmed(|x| x.rule == i),
                })
                .collect(),
            version: self.rules_version,
            agreed: answers().filter(|(_, yes)| *yes).count() as u32,
            disagreed: answers().filter(|(_, yes)| !*yes).count() as u32,
        }
    }

    /// A report, as the facilitator sees it.
    pub fn report_view(&self, index: usize) -> ReportView {
        let r = &self.reports[index];
        ReportView {
            id: id('x', index),
            rule: id('g', r.rule),
            about: r.about.map(|p| id('p', p)),
            note: r.note.clone(),
            reporter: (!r.anonymous).then(|| id('p', r.reporter)),
            status: r.status,
            at: r.at,
            resolved_at: r.resolved_at,
            consequence: r.consequence,
        }
    }

    /// One person's own floor and ground-rule data.
    pub fn your_floor(&self, me: usize) -> YourFloor {
        let fl = &self.floor;
        YourFloor {
            hand: fl.hand_of(me).map(|h| h.kind),
            passed: fl.passed.contains(&me),
            floor_ms: fl.floor_ms(me),
            turns: fl.turns_of(me),
            responses_used: fl.responses_in(me, self.fields.phase),
            hand_wait_until: self.holds.get(&me).copied(),
            last_turn: fl.stats(me).last_turn.and_then(|i| {
                let turn = &fl.turns[i];
                let (at, how) = turn.ended?;
                Some(YourLastTurn {
                    turn: id('t', i),
                    how,
                    used_ms: (at - turn.started_at - turn.paused_ms).max(0),
                    ended_at: at,
                })
            }),
            invitation: fl
                .invitation_of(me)
                .filter(|_| !self.ended())
                .map(|i| YourInvitation { at: i.at, by: i.by }),
            agreed: self
                .agreements
                .get(&me)
                .filter(|(v, _)| *v == self.rules_version)
                .map(|(_, yes)| *yes),
            warnings: self
                .reports
                .iter()
                .filter(|r| r.about == Some(me) && r.status == ReportStatus::Confirmed)
                .filter_map(|r| {
                    Some(YourWarning {
                        rule: id('g', r.rule),
                        at: r.resolved_at?,
                        hand_wait_minutes: match r.consequence? {
                            tafel_protocol::Consequence::Warning => None,
                            tafel_protocol::Consequence::HandWait { minutes } => Some(minutes),
                        },
                    })
                })
                .collect(),
            reports: self
                .reports
                .iter()
                .enumerate()
                .filter(|(_, r)| r.reporter == me)
                .map(|(i, r)| YourReport {
                    id: id('x', i),
                    rule: id('g', r.rule),
                    status: r.status,
                })
                .collect(),
        }
    }

    /// The session as everyone sees it.
    pub fn session_view(&self, public_url: &str) -> SessionView {
        let f = &self.fields;
        SessionView {
            code: f.code.clone(),
            title: f.title.clone(),
            problem: f.problem.clone(),
            language: f.language,
            anonymous_cards: f.anonymous_cards,
            phase: f.phase,
            status: f.status,
            created_at: f.created_at,
            join_url: format!("{public_url}/j/{}", f.code),
            display: self.method.display,
            share_report: self.method.share_report,
        }
    }

    /// A participant as everyone sees them.
    pub fn participant_view(&self, index: usize, online: bool) -> ParticipantView {
        let p = &self.participants[index];
        ParticipantView {
            id: id('p', index),
            name: p.name.clone(),
            perspective: p.perspective,
            role: p.role,
            joined_at: p.joined_at,
            online,
        }
    }

    /// A card as `role` may see it.
    pub fn card_view(&self, index: usize, role: Role) -> CardView {
        let c = &self.cards[index];
        let text_visible = match c.status {
            CardStatus::Visible => true,
            CardStatus::Hidden | CardStatus::Merged => role == Role::Facilitator,
            CardStatus::Withdrawn => false,
        };
        CardView {
            id: id('k', index),
            kind: c.kind,
            phase: c.phase,
            status: c.status,
            text: text_visible.then(|| c.text.clone()),
            author: (!self.fields.anonymous_cards).then(|| id('p', c.author)),
            builds_on: c.builds_on.map(|b| id('k', b)),
            merged_into: c.merged_into.map(|m| id('k', m)),
            created_at: c.created_at,
            edited_at: c.edited_at,
            source: c.source.clone(),
            lesson_of: c.lesson_of.map(|l| match l {
                Lesson::Experiment(e) => LessonOf::Experiment(id('e', e)),
                Lesson::Phase(p) => LessonOf::Phase(p),
            }),
        }
    }

    /// A round as `role` may see it: totals only once closed, when live, or for the
    /// facilitator; never who voted for what.
    pub fn round_view(&self, index: usize, role: Role) -> RoundView {
        let r = &self.rounds[index];
        let show_totals = self.shows_totals(index, role);
        RoundView {
            id: id('r', index),
            phase: r.phase,
            budget: r.budget,
            max_per_card: r.max_per_card,
            live: r.live,
            status: if r.is_open() {
                RoundStatus::Open
            } else {
                RoundStatus::Closed
            },
            cards: r.cards.iter().map(|c| id('k', *c)).collect(),
            voters: r.by_voter.len() as u32,
            opened_at: r.opened_at,
            closed_at: r.closed_at,
            results: show_totals.then(|| {
                r.ranking()
                    .into_iter()
                    .map(|(c, votes)| CardTotal {
                        card: id('k', c),
                        votes,
                    })
                    .collect()
            }),
        }
    }

    /// Whether `role` sees a round's totals: always once it closed, while open only in a live
    /// round or as the facilitator.
    fn shows_totals(&self, index: usize, role: Role) -> bool {
        let r = &self.rounds[index];
        !r.is_open() || r.live || role == Role::Facilitator
    }

    /// Everything `role` may see at this moment: the patch of every part, so the welcome and
    /// the deltas after it come from the same functions.
    pub fn view(&self, role: Role, at: &Moment<'_>) -> View {
        let all = Changed::everything(|part| self.len(part));
        let p = self.patch(&all, role, at);
        View {
            session: p.session.expect("the whole view has the session"),
            participants: p.participants,
            cards: p.cards,
            rounds: p.rounds,
            floor: p.floor.expect("the whole view has the floor"),
            rules: p.rules.expect("the whole view has the rules"),
            reports: p.reports,
            checks: p.checks,
            parties: p.parties,
            table: p.table.unwrap_or_default(),
            criteria: p.criteria,
            experiments: p.experiments,
            reflections: p.reflections,
            replay_links: p.replay_links,
        }
    }

    /// How many entities a part has (none for a part sent whole).
    fn len(&self, part: Part) -> usize {
        match part {
            Part::Session | Part::Floor | Part::Rules | Part::Table => 0,
            Part::Participants => self.participants.len(),
            Part::Cards => self.cards.len(),
            Part::Rounds => self.rounds.len(),
            Part::Reports => self.reports.len(),
            Part::Checks => self.method.checks.len(),
            Part::Parties => self.method.parties.len(),
            Part::Criteria => self.method.criteria.len(),
            Part::Experiments => self.method.experiments.len(),
            Part::Reflections => self.method.reflections.len(),
            Part::ReplayLinks => self.method.replay_links.len(),
        }
    }

    /// What `role` may see of the parts that changed. A part this role may not see (the
    /// reports, for anyone but the facilitator) stays out: not even empty, which would tell
    /// that something happened.
    pub fn patch(&self, changed: &Changed, role: Role, at: &Moment<'_>) -> Patch {
        let mut patch = Patch::default();
        for (part, ids) in changed.parts() {
            let ids = ids.iter().copied();
            match part {
                Part::Session => patch.session = Some(self.session_view(at.public_url)),
                Part::Participants => {
                    patch.participants = ids
                        .map(|p| self.participant_view(p, at.is_online(p)))
                        .collect();
                }
                Part::Cards => patch.cards = ids.map(|c| self.card_view(c, role)).collect(),
                Part::Rounds => patch.rounds = ids.map(|r| self.round_view(r, role)).collect(),
                Part::Floor => patch.floor = Some(self.floor_view(role, at.now, at.online)),
                Part::Rules => patch.rules = Some(self.rules_view()),
                Part::Reports if role == Role::Facilitator => {
                    patch.reports = ids.map(|x| self.report_view(x)).collect();
                }
                Part::Reports => {}
                Part::Checks => patch.checks = ids.map(|q| self.check_view(q, role)).collect(),
                Part::Parties => patch.parties = ids.map(|s| self.party_view(s)).collect(),
                Part::Table => patch.table = Some(self.table_view(at)),
                Part::Criteria => patch.criteria = ids.map(|c| self.criterion_view(c)).collect(),
                Part::Experiments => {
                    patch.experiments = ids.map(|e| self.experiment_view(e)).collect();
                }
                Part::Reflections => {
                    patch.reflections = ids.map(|y| self.reflection_view(y)).collect();
                }
                Part::ReplayLinks if role == Role::Facilitator => {
                    patch.replay_links = ids.map(|l| self.replay_link_view(l)).collect();
                }
                Part::ReplayLinks => {}
            }
        }
        // A vote that did not change how many people voted reaches only the roles that see
        // the totals: to the others the round looks the same.
        let tallies: Vec<usize> = changed
            .tallies()
            .filter(|r| self.shows_totals(*r, role))
            .collect();
        if !tallies.is_empty() {
            patch
                .rounds
                .extend(tallies.into_iter().map(|r| self.round_view(r, role)));
            patch.rounds.sort_by_key(|r| r.opened_at);
        }
        patch
    }

    /// What changed in one person's own data.
    pub fn you_patch(&self, me: usize, change: &YourChange) -> YouPatch {
        YouPatch {
            new_cards: change.new_cards.iter().map(|c| id('k', *c)).collect(),
            votes: change
                .votes
                .iter()
                .map(|r| self.your_votes(*r, me))
                .collect(),
            floor: change.floor.then(|| self.your_floor(me)),
            readiness: change
                .answers
                .iter()
                .filter_map(|q| self.your_answers(*q, me))
                .collect(),
            consents: change
                .consents
                .iter()
                .filter_map(|c| self.your_consent(*c, me))
                .collect(),
            reflections: change
                .reflections
                .iter()
                .filter_map(|y| self.your_reflection(*y, me))
                .collect(),
        }
    }

    /// One person's answers to one readiness check, if they gave any.
    fn your_answers(&self, check: usize, me: usize) -> Option<YourAnswers> {
        let (answers, comment) = self.method.checks[check].answers.get(&me)?;
        Some(YourAnswers {
            check: id('q', check),
            answers: *answers,
            comment: comment.clone(),
        })
    }

    /// One person's answer about one criterion, if they gave one.
    fn your_consent(&self, criterion: usize, me: usize) -> Option<YourConsent> {
        let agree = *self.method.criteria[criterion].consents.get(&me)?;
        Some(YourConsent {
            criterion: id('c', criterion),
            agree,
        })
    }

    /// One person's reflection in one round, if they wrote one.
    fn your_reflection(&self, reflection: usize, me: usize) -> Option<YourReflection> {
        let e = self.method.reflections[reflection].entries.get(&me)?;
        Some(YourReflection {
            reflection: id('y', reflection),
            entry: ReflectionEntry {
                worked: e.worked.clone(),
                not_worked: e.not_worked.clone(),
                by: Some(id('p', me)),
            },
        })
    }

    /// A readiness check: counts for everyone; the comments, without names and in
    /// alphabetical order, for the facilitator.
    pub fn check_view(&self, index: usize, role: Role) -> CheckView {
        let c = &self.method.checks[index];
        let count = |pick: fn(&ReadinessAnswers) -> Option<Answer>| {
            let mut counts = AnswerCounts::default();
            for (answers, _) in c.answers.values() {
                match pick(answers) {
                    Some(Answer::Yes) => counts.yes += 1,
                    Some(Answer::NotSure) => counts.not_sure += 1,
                    Some(Answer::No) => counts.no += 1,
                    None => {}
                }
            }
            counts
        };
        let mut comments: Vec<String> = if role == Role::Facilitator {
            c.answers.values().filter_map(|(_, c)| c.clone()).collect()
        } else {
            Vec::new()
        };
        comments.sort();
        CheckView {
            id: id('q', index),
            stage: if c.is_open() {
                Stage::Open
            } else {
                Stage::Closed
            },
            opened_at: c.opened_at,
            closed_at: c.closed_at,
            answered: c
                .answers
                .values()
                .filter(|(a, _)| *a != ReadinessAnswers::default())
                .count() as u32,
            urgent: count(|a| a.urgent),
            complex: count(|a| a.complex),
            willing: count(|a| a.willing),
            comments,
            conclusion: c.conclusion,
            note: c.note.clone(),
        }
    }

    /// A replay link, as the facilitator sees it (never its token).
    pub fn replay_link_view(&self, index: usize) -> ReplayLinkView {
        let l = &self.method.replay_links[index];
        ReplayLinkView {
            id: id('l', index),
            made_at: l.made_at,
            revoked_at: l.revoked_at,
        }
    }

    /// A party, as everyone sees it.
    pub fn party_view(&self, index: usize) -> PartyView {
        let p = &self.method.parties[index];
        PartyView {
            id: id('s', index),
            name: p.name.clone(),
            perspective: p.perspective,
            stake: p.stake,
            status: p.status,
            at: p.at,
        }
    }

    /// Who is at the table now: per perspective, the participants connected against the
    /// listed parties, and the needed or affected perspectives nobody present speaks for.
    pub fn table_view(&self, at: &Moment<'_>) -> TableView {
        fn row(
            rows: &mut BTreeMap<Perspective, Coverage>,
            perspective: Perspective,
        ) -> &mut Coverage {
            rows.entry(perspective).or_insert(Coverage {
                perspective,
                present: 0,
                parties: 0,
                needed: false,
                affected: false,
            })
        }
        let mut rows = BTreeMap::new();
        for (i, p) in self.participants.iter().enumerate() {
            if p.role == Role::Participant && at.is_online(i) {
                row(&mut rows, p.perspective).present += 1;
            }
        }
        for party in &self.method.parties {
            if party.status == PartyStatus::Listed {
                let r = row(&mut rows, party.perspective);
                r.parties += 1;
                r.needed |= matches!(party.stake, Stake::Needed | Stake::Both);
                r.affected |= matches!(party.stake, Stake::Affected | Stake::Both);
            }
        }
        let missing = rows
            .values()
            .filter(|r| (r.needed || r.affected) && r.present == 0)
            .map(|r| r.perspective)
            .collect();
        TableView {
            coverage: rows.into_values().collect(),
            missing,
        }
    }

    /// A criterion, as everyone sees it: consent counts, never who gave them.
    pub fn criterion_view(&self, index: usize) -> CriterionView {
        let c = &self.method.criteria[index];
        CriterionView {
            id: id('c', index),
            text: c.text.clone(),
            target: c.target,
            unit: c.unit.clone(),
            status: c.status,
            at: c.at,
            consent: c.asked.then(|| ConsentCounts {
                agree: c.consents.values().filter(|a| **a).count() as u32,
                object: c.consents.values().filter(|a| !**a).count() as u32,
            }),
            assessment: c.assessment,
            assessment_note: c.assessment_note.clone(),
        }
    }

    /// An experiment, as everyone sees it.
    pub fn experiment_view(&self, index: usize) -> ExperimentView {
        let e = &self.method.experiments[index];
        ExperimentView {
            id: id('e', index),
            title: e.title.clone(),
            from_card: e.from_card.map(|k| id('k', k)),
            prediction: e.prediction.clone(),
            measure: e.measure.clone(),
            owners: e.owners.iter().map(|p| id('p', *p)).collect(),
            owner_party: e.owner_party.clone(),
            start: e.start.clone(),
            review: e.review.clone(),
            stop_criterion: e.stop_criterion.clone(),
            status: e.status,
            outcome: e.outcome,
            observed: e.observed.clone(),
            decision: e.decision,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }

    /// A reflection round, as everyone sees it: with names, or, when the session's cards are
    /// anonymous, without, in alphabetical order (not the order they were written in).
    pub fn reflection_view(&self, index: usize) -> ReflectionView {
        let r = &self.method.reflections[index];
        let anonymous = self.fields.anonymous_cards;
        let mut entries: Vec<ReflectionEntry> = r
            .entries
            .iter()
            .map(|(p, e)| ReflectionEntry {
                worked: e.worked.clone(),
                not_worked: e.not_worked.clone(),
                by: (!anonymous).then(|| id('p', *p)),
            })
            .collect();
        if anonymous {
            entries.sort_by(|a, b| (&a.worked, &a.not_worked).cmp(&(&b.worked, &b.not_worked)));
        }
        ReflectionView {
            id: id('y', index),
            phase: r.phase,
            stage: if r.is_open() {
                Stage::Open
            } else {
                Stage::Closed
            },
            opened_at: r.opened_at,
            closed_at: r.closed_at,
            entries,
        }
    }

    /// One person's votes in one round.
    fn your_votes(&self, round: usize, me: usize) -> YourVotes {
        let r = &self.rounds[round];
        YourVotes {
            round: id('r', round),
            cards: r
                .by_voter
                .get(&me)
                .map(|m| m.iter().map(|(c, n)| (id('k', *c), *n)).collect())
                .unwrap_or_default(),
            remaining: r.budget.saturating_sub(r.used_by(me)),
        }
    }

    /// A client's own data.
    pub fn you(&self, role: Role, participant: Option<usize>) -> You {
        let Some(me) = participant else {
            return You {
                id: None,
                role,
                cards: Vec::new(),
                votes: Vec::new(),
                floor: None,
                readiness: Vec::new(),
                consents: Vec::new(),
                reflections: Vec::new(),
            };
        };
        You {
            id: Some(id('p', me)),
            role,
            cards: self.own_cards[me].iter().map(|c| id('k', *c)).collect(),
            votes: (0..self.rounds.len())
                .filter(|r| self.rounds[*r].is_open() || self.rounds[*r].by_voter.contains_key(&me))
                .map(|r| self.your_votes(r, me))
                .collect(),
            floor: Some(self.your_floor(me)),
            readiness: (0..self.method.checks.len())
                .filter_map(|q| self.your_answers(q, me))
                .collect(),
            consents: (0..self.method.criteria.len())
                .filter_map(|c| self.your_consent(c, me))
                .collect(),
            reflections: (0..self.method.reflections.len())
                .filter_map(|y| self.your_reflection(y, me))
                .collect(),
        }
    }
}
