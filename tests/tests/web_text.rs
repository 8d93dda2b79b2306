//! The words on the screens: `web/i18n.js` holds every string in Dutch and in English, with the
//! same keys and the same {placeholders}, and every key the screens ask for exists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn web() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../web"))
}

/// The strings of one language's object (`const nl = { … };`): key → text.
fn strings(source: &str, language: &str) -> BTreeMap<String, String> {
    let start = source
        .find(&format!("const {language} = {{"))
        .unwrap_or_else(|| panic!("no `const {language}` in i18n.js"));
    let body = &source[start..];
    let body = &body[..body.find("\n};").expect("the object ends")];
    let mut out = BTreeMap::new();
    for line in body.lines().skip(1) {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let (key, text) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("{language}: not `key: 'text',`: {line}"));
        let key = key.trim_matches('\'').to_owned();
        assert!(
            out.insert(key.clone(), text.to_owned()).is_none(),
            "{language}: {key} twice"
        );
    }
    out
}

/// The `{name}`s in a text.
fn placeholders(text: &str) -> BTreeSet<&str> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .collect()
}

#[test]
fn both_languages_have_the_same_keys_and_placeholders() {
    let source = std::fs::read_to_string(web().join("i18n.js")).unwrap();
    let nl = strings(&source, "nl");
    let en = strings(&source, "en");
    assert!(nl.len() > 100, "only {} Dutch strings found", nl.len());
    let only_nl: Vec<_> = nl.keys().filter(|k| !en.contains_key(*k)).collect();
    let only_en: Vec<_> = en.keys().filter(|k| !nl.contains_key(*k)).collect();
    assert!(
        only_nl.is_empty() && only_en.is_empty(),
        "only in Dutch: {only_nl:?}; only in English: {only_en:?}"
    );
    for (key, text) in &nl {
        assert_eq!(
            placeholders(text),
            placeholders(&en[key]),
            "{key}: the placeholders differ"
        );
    }
}

#[test]
fn every_key_the_screens_ask_for_exists() {
    let source = std::fs::read_to_string(web().join("i18n.js")).unwrap();
    let nl = strings(&source, "nl");
    let mut files = vec![web().to_path_buf()];
    let mut asked = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "js") {
            continue;
        }
        let code = std::fs::read_to_string(&path).unwrap();
        // Literal keys only: `t('name')` or `t('name', …)`, where `t` is a name of its own
        // (not the end of `takeToken('…')`). Keys built at run time are not checked here.
        for (at, _) in code.match_indices("t('") {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                continue;
            }
            let rest = &code[at + 3..];
            let Some((key, _)) = rest.split_once('\'') else {
                continue;
            };
            if key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
            {
                asked += 1;
                assert!(
                    nl.contains_key(key),
                    "{} asks for {key:?}, which i18n.js lacks",
                    path.display()
                );
            }
        }
    }
    assert!(asked > 100, "only {asked} keys found in the screens");
}
