//! The core as replay and reports will use it: open a stored document, with no actor, and ask
//! for the state and each role's view.

use super::{Moment, Record};
use tafel_protocol::Role;

/// Sessions stored by the code before the core was split out (see `tests/fixtures/README.md`)
/// open and show every role exactly what they showed then.
#[test]
fn stored_sessions_open_and_show_every_role_what_they_showed_before() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    for name in ["named", "anonymous"] {
        let bytes = std::fs::read(format!("{fixtures}/{name}.automerge")).unwrap();
        let seen: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{fixtures}/{name}.json")).unwrap(),
        )
        .unwrap();
        let record = Record::open(&bytes, &[], [7; 32]).unwrap();
        let at = Moment {
            now: seen["now"].as_i64().unwrap(),
            online: &[0, 1, 0, 1],
            public_url: "http://x",
        };
        for role in [Role::Facilitator, Role::Participant, Role::Projector] {
            let view = serde_json::to_value(record.view(role, &at)).unwrap();
            shows(
                &view,
                &seen[format!("{role:?}")],
                &format!("{name}: {role:?}'s view"),
            );
        }
        for p in 0..4 {
            let s = &record.state;
            let you = serde_json::to_value(s.you(s.participants[p].role, Some(p))).unwrap();
            let what = format!("{name}: p{}'s own data", p + 1);
            shows(&you, &seen[format!("you{p}")], &what);
        }
        let messages: Vec<_> = super::doc::messages(&record.doc)
            .into_iter()
            .map(|m| serde_json::json!([m.cmd, m.by, m.id, m.ack]))
            .collect();
        assert_eq!(serde_json::Value::from(messages), seen["messages"]);
        assert_eq!(
            record.seq(),
            seen["messages"].as_array().unwrap().len() as u64
        );
    }
}

/// Whether `now` shows everything `then` did, the same: every field `then` had is in `now`
/// with the same value (lists entry by entry). Fields added since may be there too; a view
/// keeps no field it once had, nor changes one.
fn shows(now: &serde_json::Value, then: &serde_json::Value, what: &str) {
    use serde_json::Value;
    match (now, then) {
        (Value::Object(now), Value::Object(then)) => {
            for (key, value) in then {
                let got = now
                    .get(key)
                    .unwrap_or_else(|| panic!("{what}: {key} is gone"));
                shows(got, value, &format!("{what}.{key}"));
            }
        }
        (Value::Array(now), Value::Array(then)) => {
            assert_eq!(now.len(), then.len(), "{what}: another number of entries");
            for (i, (n, t)) in now.iter().zip(then).enumerate() {
                shows(n, t, &format!("{what}[{i}]"));
            }
        }
        _ => assert_eq!(now, then, "{what}"),
    }
}

/// The core needs no runtime: no tokio, axum, storage, metrics or room in any of its files.
#[test]
fn the_core_uses_no_runtime_network_storage_or_metrics() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src/session");
    let mut files = vec![std::path::PathBuf::from(root)];
    let mut checked = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // This file names them to ban them.
        if path.ends_with("session/tests.rs") {
            continue;
        }
        let crates = ["tokio", "axum", "tracing"].map(|c| format!("{c}::"));
        let modules = [
            "storage",
            "metrics",
            "room",
            "registry",
            "connection",
            "http",
        ]
        .map(|m| format!("crate::{m}"));
        for banned in crates.iter().chain(&modules) {
            assert!(
                !text.contains(banned.as_str()),
                "{} uses {banned}",
                path.display()
            );
        }
        checked += 1;
    }
    assert!(checked > 15, "only {checked} files checked");
}
