//! What a room does per card on its hot path, without sockets or storage: the command on the
//! record, the batch's stored bytes, the delta per role and the author's own delta, encoded.
//! Made to be counted with callgrind, which is repeatable on a busy machine:
//!
//! ```sh
//! cargo build --release -p tafel-server --example command_costs
//! valgrind --tool=callgrind target/release/examples/command_costs 2000 4
//! ```
//!
//! Arguments: the number of cards (default 2,000), the cards per batch (default 4, what a
//! room of 50 sees at 200 cards a second with a 20 ms batch) and the cards the session holds
//! already (default 500); it has 50 participants online, as a busy room would.

use std::time::Instant;
use tafel_protocol::{CardKind, Command, CreateSession, Perspective, Role, ServerMessage};
use tafel_server::session::cmd::Actor;
use tafel_server::session::{Changed, Moment, Record};

fn main() {
    let mut args = std::env::args().skip(1);
    let cards: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let per_batch: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let before: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let req = CreateSession {
        title: "Meting".into(),
        problem: String::new(),
        language: Default::default(),
        anonymous_cards: false,
        facilitator_name: Some("F".into()),
    };
    let mut record = Record::create(&req, "K7QM2X".into(), 1, [1; 32]).unwrap();
    let mut online = vec![1u32];
    for i in 0..50 {
        let moment = Moment {
            now: i,
            online: &online,
            public_url: "http://x",
        };
        record
            .join(
                &format!("Deelnemer {i}"),
                Perspective::Medewerker,
                &moment,
                &mut Changed::default(),
            )
            .unwrap();
        online.push(1);
    }
    let card = |i: usize| Command::AddCard {
        text: format!(
            "#{}.5|{}|c{i}|een kaart met wat tekst erop, zoals in de meting",
            1.7e12 as i64 + i as i64,
            i % 50
        ),
        kind: CardKind::Idea,
        builds_on: None,
        source: None,
        lesson_of: None,
    };
    let actor = |i: usize| Actor {
        role: Role::Participant,
        participant: Some(1 + i % 50),
    };
    for i in 0..before {
        let moment = Moment {
            now: 1_000 + i as i64,
            online: &online,
            public_url: "http://x",
        };
        let id = format!("w{i}");
        record
            .command(actor(i), &id, &card(i), &moment, &mut Changed::default())
            .unwrap();
    }

    let started = Instant::now();
    let mut bytes = 0usize;
    let mut heads = record.heads();
    let mut changed = Changed::default();
    for i in 0..cards {
        let moment = Moment {
            now: 10_000 + i as i64,
            online: &online,
            public_url: "http://x",
        };
        let id = format!("a{i}");
        let answer = record
            .command(actor(i), &id, &card(i), &moment, &mut changed)
            .unwrap();
        bytes += serde_json::to_string(&answer.ack).unwrap().len();
        if i % per_batch == per_batch - 1 {
            bytes += record.doc.save_after(&heads).len();
            heads = record.heads();
            for role in [Role::Participant, Role::Projector, Role::Facilitator] {
                let patch = record.state.patch(&changed, role, &moment);
                let seq = record.seq();
                bytes += serde_json::to_string(&ServerMessage::Delta { seq, patch })
                    .unwrap()
                    .len();
            }
            for (p, change) in changed.you() {
                let you = record.state.you_patch(p, change);
                bytes += serde_json::to_string(&ServerMessage::YouDelta { you })
                    .unwrap()
                    .len();
            }
            changed = Changed::default();
        }
    }
    let took = started.elapsed();
    println!(
        "{cards} cards in batches of {per_batch}: {took:?}, {:.1} µs per card, {bytes} bytes out",
        took.as_secs_f64() * 1e6 / cards as f64
    );
}
