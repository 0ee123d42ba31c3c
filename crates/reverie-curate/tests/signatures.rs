//! Error signatures on real failed tool calls (`tests/data/signatures.tsv` names them by
//! transcript and tool-use id in `../shared/data/transcripts`): the same error in another
//! session, on another branch, from another file has one signature; different errors have
//! different ones.

use std::collections::BTreeMap;
use std::path::PathBuf;

use reverie_curate::signature::{Volatile, of_call};
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The call `id` of a transcript: its tool, input, output, and the branch and folder it ran in.
fn call(file: &str, id: &str) -> (String, Value, String, Volatile) {
    let path = repo().join("../shared/data/transcripts").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut found: Option<(String, Value, Option<String>, Option<String>)> = None;
    let mut output = None;
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(blocks) = v["message"]["content"].as_array() else {
            continue;
        };
        for b in blocks {
            if b["type"] == "tool_use" && b["id"] == id {
                found = Some((
                    b["name"].as_str().unwrap().to_string(),
                    b["input"].clone(),
                    v["gitBranch"].as_str().map(str::to_string),
                    v["cwd"].as_str().map(str::to_string),
                ));
            }
            if b["type"] == "tool_result" && b["tool_use_id"] == id {
                output = Some(match &b["content"] {
                    Value::String(s) => s.clone(),
                    Value::Array(parts) => parts
                        .iter()
                        .filter_map(|p| p["text"].as_str())
                        .collect::<Vec<_>>()
                        .join("\n"),
                    _ => String::new(),
                });
            }
        }
    }
    let (tool, input, branch, cwd) = found.unwrap_or_else(|| panic!("{file}: no call {id}"));
    let output = output.unwrap_or_else(|| panic!("{file}: no result for {id}"));
    let v = Volatile::new(branch.as_deref(), cwd.as_deref());
    (tool, input, output, v)
}

#[test]
fn the_same_error_again_has_one_signature_different_errors_have_different_ones() {
    let table =
        std::fs::read_to_string(repo().join("crates/reverie-curate/tests/data/signatures.tsv"))
            .unwrap();
    let mut groups: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 3, "{line}");
        let (tool, input, output, v) = call(cols[1], cols[2]);
        let sig = of_call(&tool, Some(&input), &output, &v).key();
        groups
            .entry(cols[0].to_string())
            .or_default()
            .push((format!("{}:{}", cols[1], cols[2]), sig));
    }
    assert!(groups.len() >= 6, "{groups:#?}");
    let mut by_signature: BTreeMap<&str, &str> = BTreeMap::new();
    for (group, calls) in &groups {
        let first = &calls[0].1;
        for (at, sig) in calls {
            assert_eq!(sig, first, "{group}: {at} has another signature");
        }
        if let Some(other) = by_signature.insert(first, group) {
            panic!("{group} and {other} have the same signature: {first}");
        }
        // What varies from run to run is a placeholder, not part of the signature.
        assert!(
            !first.contains("/Users/") && !first.contains("spotter-dov"),
            "{group}: {first}"
        );
    }
}
