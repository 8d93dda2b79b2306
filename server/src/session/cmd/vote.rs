//! `vote` and `unvote`: a person places or takes back one vote, within the round's budget and
//! its maximum per card. The vote is recorded under the voter's pseudonym, append-only.

use super::{Actor, Ctx, Outcome, card, person};
use crate::error::refuse;
use crate::session::changes::Part;
use crate::session::doc::{self, VoteRecord};
use tafel_protocol::{AckResult, CardStatus, ErrorCode};

pub(super) fn apply(
    cx: &mut Ctx<'_, '_>,
    actor: Actor,
    round: &str,
    card_id: &str,
    delta: i64,
) -> Outcome {
    let me = person(actor)?;
    let r = super::round(cx.s, round)?;
    let c = card(cx.s, card_id)?;
    let rd = &cx.s.rounds[r];
    if !rd.is_open() {
        return Err(refuse(ErrorCode::RoundClosed, "this round is closed"));
    }
    if !rd.cards.contains(&c) {
        return Err(refuse(
            ErrorCode::UnknownCard,
            "this card is not in the round",
        ));
    }
    let mine = rd
        .by_voter
        .get(&me)
        .and_then(|m| m.get(&c))
        .copied()
        .unwrap_or(0);
    if delta > 0 {
        if cx.s.cards[c].status != CardStatus::Visible {
            return Err(refuse(
                ErrorCode::CardUnavailable,
                "this card is no longer on the board",
            ));
        }
        if rd.used_by(me) >= rd.budget {
            return Err(refuse(
                ErrorCode::OverBudget,
                format!("you have used all {} votes", rd.budget),
            ));
        }
        if mine >= rd.max_per_card {
            return Err(refuse(
                ErrorCode::CardLimit,
                format!("at most {} votes per card", rd.max_per_card),
            ));
        }
    } else if mine == 0 {
        return Err(refuse(
            ErrorCode::NoVote,
            "you have no vote on this card to take back",
        ));
    }
    let record = VoteRecord {
        round: r,
        card: c,
        voter: &cx.s.pseudonyms[me],
        delta,
        at: cx.now,
    };
    doc::put_vote(cx.tx, cx.o, cx.s.vote_records, &record)?;
    cx.s.vote_records += 1;
    let voters = cx.s.rounds[r].by_voter.len();
    cx.s.rounds[r].tally(me, c, delta);
    // Whoever does not see the totals sees the round change only when the number of people
    // who voted does (someone's first vote, or their last taken back).
    if cx.s.rounds[r].by_voter.len() == voters {
        cx.changed.tally(r);
    } else {
        cx.changed.entity(Part::Rounds, r);
    }
    cx.changed.your_votes(me, r);
    Ok(AckResult::default())
}
