//! Replay against the live record: after any number of changes, across checkpoints, the
//! replayed state and every role's view are what the room had then.

use super::*;
use crate::session::Replay;
use crate::session::replay::CHECKPOINT;

#[test]
fn the_replayed_state_at_any_change_is_the_live_one_across_checkpoints() {
    let mut r = Room::new(false);
    let start = r.record.seq() as usize;
    let mut states = vec![(r.record.state.clone(), r.now)];
    let mut views = Vec::new();
    let round = loop {
        // Cards, edits and withdrawals, then a round with votes: well past two checkpoints.
        let n = r.record.state.cards.len();
        let k = r.add(participant(1 + n % 3), &format!("kaart {n}"));
        states.push((r.record.state.clone(), r.now));
        if n.is_multiple_of(7) {
            r.ok(
                participant(1 + n % 3),
                C::EditCard {
                    kind: None,
                    card: k.clone(),
                    text: format!("kaart {n}, beter"),
                },
            );
            states.push((r.record.state.clone(), r.now));
        }
        if n.is_multiple_of(11) {
            r.ok(participant(1 + n % 3), C::WithdrawCard { card: k });
            states.push((r.record.state.clone(), r.now));
        }
        if states.len() > 2 * CHECKPOINT + 50 {
            break r
                .ok(
                    F,
                    C::OpenRound {
                        phase: None,
                        budget: 5,
                        max_per_card: 3,
                        live: false,
                    },
                )
                .round
                .unwrap();
        }
    };
    states.push((r.record.state.clone(), r.now));
    for p in 1..=3 {
        r.ok(
            participant(p),
            C::Vote {
                round: round.clone(),
                card: "k2".into(),
            },
        );
        states.push((r.record.state.clone(), r.now));
        for role in [Role::Facilitator, Role::Participant, Role::Projector] {
            views.push((
                start + states.len() - 1,
                role,
                r.record.view(role, &r.moment()),
            ));
        }
    }
    let doc = automerge::Automerge::load(&r.record.doc.save()).unwrap();
    let replay = Replay::new(&doc, [7; 32]).unwrap();
    assert_eq!(replay.len(), r.record.seq() as usize);
    for n in [
        start,
        start + 1,
        CHECKPOINT - 1,
        CHECKPOINT,
        CHECKPOINT + 1,
        2 * CHECKPOINT,
        replay.len(),
    ] {
        let (state, _) = &states[n - start];
        assert_eq!(&replay.state_after(n).unwrap(), state, "after change {n}");
    }
    // The hidden round's totals: only the facilitator saw them while it was open, and so in
    // the replay.
    for (n, role, view) in views {
        assert_eq!(
            replay.view_after(n, role, "http://x").unwrap(),
            view,
            "{role:?} after change {n}"
        );
    }
    let (_, at) = states[CHECKPOINT - start];
    assert_eq!(
        replay.changes_until(at),
        CHECKPOINT,
        "the moment of a change finds it"
    );
}
