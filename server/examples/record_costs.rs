//! What one room's record costs, without sockets or storage:
//!
//! ```sh
//! cargo run --release -p tafel-server --example record_costs
//! ```
//!
//! Applies 10,000 `add_card` commands to a session's document (as the room does, one change
//! each, saving a chunk every 20 changes as a batch would), then times a snapshot (the
//! document, its checkpoint, and both as a room stores them), loading it,
//! reading the change messages, hydrating the state, and replaying the stored chunks — one
//! `load_incremental` call for all of them, as the room does on load.

use std::time::Instant;
use tafel_protocol::{CardKind, Command, CreateSession, Role};
use tafel_server::session::cmd::Actor;
use tafel_server::session::{Changed, Moment, Record, doc};

const CARDS: usize = 10_000;
const BATCH: usize = 20;

fn main() {
    let req = CreateSession {
        title: "Meting".into(),
        problem: String::new(),
        language: Default::default(),
        anonymous_cards: false,
        facilitator_name: Some("F".into()),
    };
    let mut record = Record::create(&req, "K7QM2X".into(), 1, [1; 32]).unwrap();
    let base = record.doc.save();
    let actor = Actor {
        role: Role::Facilitator,
        participant: Some(0),
    };

    let started = Instant::now();
    let mut chunks = Vec::new();
    let mut heads = record.heads();
    for i in 0..CARDS {
        let cmd = Command::AddCard {
            text: format!("kaart {i} met wat tekst"),
            kind: CardKind::Idea,
            builds_on: None,
            source: None,
            lesson_of: None,
        };
        let moment = Moment {
            now: i as i64,
            online: &[],
            public_url: "http://x",
        };
        record
            .command(
                actor,
                &format!("c{i}"),
                &cmd,
                &moment,
                &mut Changed::default(),
            )
            .unwrap();
        if i % BATCH == BATCH - 1 {
            chunks.push(record.doc.save_after(&heads));
            heads = record.heads();
        }
    }
    let took = started.elapsed();
    println!(
        "apply {CARDS} add_card: {took:?} ({:.0} changes/s)",
        CARDS as f64 / took.as_secs_f64()
    );

    let t = Instant::now();
    let snapshot = record.doc.save();
    println!("snapshot: {:?} ({} bytes)", t.elapsed(), snapshot.len());
    let t = Instant::now();
    let checkpoint = record.checkpoint(&record.heads());
    println!(
        "its checkpoint: {:?} ({} bytes)",
        t.elapsed(),
        checkpoint.len()
    );
    let t = Instant::now();
    let stored = record.snapshot_bytes();
    println!(
        "both, as a room stores them (side by side on two threads): {:?} ({} bytes)",
        t.elapsed(),
        stored.len()
    );
    let t = Instant::now();
    let loaded = automerge::Automerge::load(&snapshot).unwrap();
    println!("load snapshot: {:?}", t.elapsed());
    let t = Instant::now();
    let messages = doc::messages(&loaded);
    println!("read {} change messages: {:?}", messages.len(), t.elapsed());
    let t = Instant::now();
    let hydrated = Record::from_doc(loaded.clone(), [1; 32]).unwrap();
    println!(
        "hydrate {} cards: {:?}",
        hydrated.state.cards.len(),
        t.elapsed()
    );

    let t = Instant::now();
    let changes = loaded.get_changes(&[]);
    let ops: usize = changes.iter().map(|c| c.decode().operations.len()).sum();
    println!(
        "decode the ops of {} changes ({ops} ops): {:?}",
        changes.len(),
        t.elapsed()
    );

    let t = Instant::now();
    let replay = tafel_server::session::Replay::new(&loaded, [1; 32]).unwrap();
    println!(
        "open a replay of {} changes: {:?}",
        replay.len(),
        t.elapsed()
    );
    let mut times: Vec<_> = (1..=200)
        .map(|i| {
            let n = i * replay.len() / 200;
            let t = Instant::now();
            let view = replay
                .view_after(n, tafel_protocol::Role::Replay, "http://x")
                .unwrap();
            std::hint::black_box(serde_json::to_string(&view).unwrap());
            t.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "the view at a moment of it (200 moments, encoded): p50 {:?}, p99 {:?}",
        times[100], times[197]
    );

    let t = Instant::now();
    let mut replayed = automerge::Automerge::load(&base).unwrap();
    replayed.load_incremental(&chunks.concat()).unwrap();
    println!(
        "replay {} stored chunks in one call: {:?}",
        chunks.len(),
        t.elapsed()
    );
    let t = Instant::now();
    let mut one_by_one = automerge::Automerge::load(&base).unwrap();
    for chunk in &chunks {
        one_by_one.load_incremental(chunk).unwrap();
    }
    println!("replay the same chunks one by one: {:?}", t.elapsed());
}
