//! Unit tests of the memory tool on an in-memory tree. The differential test against the SDK
//! itself lives in `reverie-store`'s integration tests.

use super::*;

/// A tiny store: runs commands, applying effects to a list of files, as the store would.
struct Mem {
    files: Vec<(String, String, String)>, // id, path, content
    dirs: Vec<String>,
    next: usize,
}

impl Mem {
    fn new() -> Self {
        Mem {
            files: Vec::new(),
            dirs: Vec::new(),
            next: 0,
        }
    }

    fn run(&mut self, json: serde_json::Value) -> (bool, String) {
        let cmd = Command::from_value(json).unwrap();
        let mut vfs = Vfs::new(&self.snapshot());
        loop {
            match execute(&vfs, &cmd) {
                Step::NeedContent(id) => {
                    let c = self.files.iter().find(|f| f.0 == id).unwrap().2.clone();
                    vfs.load(&id, c);
                }
                Step::Done { result, effects } => {
                    self.apply(effects);
                    return (result.is_error, result.content);
                }
            }
        }
    }

    fn apply(&mut self, fx: Effects) {
        self.files.retain(|f| !fx.deletes.contains(&f.0));
        for (id, path, content) in fx.updates {
            let f = self.files.iter_mut().find(|f| f.0 == id).unwrap();
            if let Some(p) = path {
                f.1 = p;
            }
            if let Some(c) = content {
                f.2 = c;
            }
        }
        for (path, content) in fx.creates {
            self.next += 1;
            self.files
                .push((format!("mem_{}", self.next), path, content));
        }
        if let Some(d) = fx.dirs {
            self.dirs = d.into_iter().collect();
        }
    }

    fn paths(&self) -> Vec<String> {
        let mut p: Vec<String> = self.files.iter().map(|f| f.1.clone()).collect();
        p.sort();
        p
    }
}

use serde_json::json;

#[test]
fn create_view_edit_round() {
    let mut m = Mem::new();
    assert_eq!(
        m.run(json!({"command": "create", "path": "/memories/notes/a.md", "file_text": "hello\nworld\n"})),
        (false, "File created successfully at: /memories/notes/a.md".into())
    );
    assert_eq!(m.paths(), vec!["/notes/a.md"]);
    assert_eq!(
        m.run(json!({"command": "view", "path": "/memories/notes/a.md"})),
        (false, "Here's the content of /memories/notes/a.md with line numbers:\n     1\thello\n     2\tworld\n     3\t".into())
    );
    let (err, out) = m.run(json!({"command": "str_replace", "path": "/memories/notes/a.md", "old_str": "world", "new_str": "there"}));
    assert!(!err);
    assert_eq!(
        out,
        "The memory file has been edited. Here is the snippet showing the change (with line numbers):\n     1\thello\n     2\tthere\n     3\t"
    );
    assert_eq!(
        m.run(json!({"command": "view", "path": "/memories"})),
        (false, "Here're the files and directories up to 2 levels deep in /memories, excluding hidden items:\n4K\t/memories\n4K\t/memories/notes/\n12B\t/memories/notes/a.md".into())
    );
}

#[test]
fn rename_keeps_the_memory_id_and_empty_dirs_survive_deletes() {
    let mut m = Mem::new();
    m.run(json!({"command": "create", "path": "/memories/a/b/c.md", "file_text": "x"}));
    let id = m.files[0].0.clone();
    assert_eq!(
        m.run(json!({"command": "rename", "old_path": "/memories/a", "new_path": "/memories/z/y"})),
        (
            false,
            "Successfully renamed /memories/a to /memories/z/y".into()
        )
    );
    assert_eq!(m.files[0].0, id);
    assert_eq!(m.paths(), vec!["/z/y/b/c.md"]);
    m.run(json!({"command": "delete", "path": "/memories/z/y/b/c.md"}));
    assert!(m.files.is_empty());
    assert_eq!(m.dirs, vec!["/z/y/b".to_string()]);
    assert_eq!(
        m.run(json!({"command": "view", "path": "/memories/z"})).1,
        "Here're the files and directories up to 2 levels deep in /memories/z, excluding hidden items:\n4K\t/memories/z\n4K\t/memories/z/y/\n4K\t/memories/z/y/b/"
    );
}

#[test]
fn failures_keep_the_references_side_effects() {
    let mut m = Mem::new();
    m.run(json!({"command": "create", "path": "/memories/f", "file_text": "x"}));
    let long = "x".repeat(300);
    assert_eq!(
        m.run(
            json!({"command": "create", "path": format!("/memories/d/{long}"), "file_text": "x"})
        ),
        (true, "OSError(36, 'File name too long')".into())
    );
    assert_eq!(
        m.dirs,
        vec!["/d".to_string()],
        "the parent made before the failure stays"
    );
    assert_eq!(
        m.run(json!({"command": "rename", "old_path": "/memories/f", "new_path": "/memories/f/k"})),
        (true, "NotADirectoryError(20, 'Not a directory')".into())
    );
    assert_eq!(
        m.run(
            json!({"command": "rename", "old_path": "/memories/d", "new_path": "/memories/d/sub/x"})
        ),
        (true, "OSError(22, 'Invalid argument')".into())
    );
    assert_eq!(
        m.run(json!({"command": "view", "path": "/memories/a\u{0}"})),
        (true, "ValueError('embedded null byte')".into())
    );
}

#[test]
fn hostile_names_are_stored_encoded_and_shown_decoded() {
    let mut m = Mem::new();
    m.run(json!({"command": "create", "path": "/memories/a\nb", "file_text": "x"}));
    m.run(json!({"command": "create", "path": "/memories/e\u{301}", "file_text": "y"}));
    assert_eq!(m.paths(), vec!["/a%0Ab", "/e%CC%81"]);
    assert_eq!(
        m.run(json!({"command": "view", "path": "/memories"})).1,
        "Here're the files and directories up to 2 levels deep in /memories, excluding hidden items:\n4K\t/memories\n1B\t/memories/a\nb\n1B\t/memories/e\u{301}"
    );
}

#[test]
fn reverie_refusals_change_nothing() {
    let mut m = Mem::new();
    let deep = format!("/memories{}", "/d".repeat(21));
    let (err, out) = m.run(json!({"command": "create", "path": deep, "file_text": "x"}));
    assert!(err);
    assert!(
        out.contains("cannot be stored") && out.contains("21 segments"),
        "{out}"
    );
    assert!(
        m.files.is_empty() && m.dirs.is_empty(),
        "no directory was left behind"
    );
    let (err, out) = m.run(
        json!({"command": "create", "path": "/memories/big", "file_text": "x".repeat(102_401)}),
    );
    assert!(err && out.contains("102401 bytes"), "{out}");
    for i in 0..5 {
        assert!(
            !m.run(json!({"command": "create", "path": format!("/memories/{i}"), "file_text": ""}))
                .0
        );
    }
    let (err, out) = m.run(json!({"command": "create", "path": "/memories/6", "file_text": ""}));
    assert!(err && out.contains("full (5 memories)"), "{out}");
    assert_eq!(m.files.len(), 5);
}

/// Regression (found by `tests/fuzz`): serde reads an internally tagged enum from an array,
/// so `["delete", "/memories/a"]` parsed as a `delete` of `/memories/a`. Only an object is a
/// command.
#[test]
fn only_objects_are_commands() {
    for text in [
        r#"["delete", "/memories/a"]"#,
        r#" ["view","view"]"#,
        "\n[\"create\", \"/memories/a\", \"x\"]",
    ] {
        let msg = Command::parse(text).unwrap_err().to_string();
        assert_eq!(
            msg,
            "invalid memory tool command: must be a JSON object, not an array"
        );
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(Command::from_value(value).unwrap_err().to_string(), msg);
    }
    assert_eq!(
        Command::parse(r#"{"command": "delete", "path": "/memories/a"}"#).unwrap(),
        Command::Delete {
            path: "/memories/a".into()
        }
    );
}

/// Regression (found by `tests/fuzz`): a `str_replace` whose `old_str` occurs many times
/// listed the line of each occurrence by counting from the start of the file every time,
/// quadratic in the file's length: `""` in a 100 KB memory (100,001 occurrences) took minutes.
/// This test returning at all is the assertion.
#[test]
fn many_occurrences_are_listed_in_linear_time() {
    let mut m = Mem::new();
    let content = "a\n".repeat(51_200);
    m.run(json!({"command": "create", "path": "/memories/big", "file_text": content}));
    for old_str in ["", "a", "\n"] {
        let (err, out) = m.run(
            json!({"command": "str_replace", "path": "/memories/big", "old_str": old_str, "new_str": "b"}),
        );
        assert!(err);
        let lines = out
            .split("in lines: ")
            .nth(1)
            .and_then(|rest| rest.split(". Please").next())
            .unwrap();
        let numbers: Vec<usize> = lines.split(", ").map(|n| n.parse().unwrap()).collect();
        let want = match old_str {
            // Each character and the end.
            "" => 102_401,
            _ => 51_200,
        };
        assert_eq!(numbers.len(), want, "{old_str:?}");
        assert!(numbers.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(numbers[0], 1);
        assert_eq!(
            *numbers.last().unwrap(),
            51_201_usize.min(51_200 + usize::from(old_str.is_empty()))
        );
    }
}

impl Mem {
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            files: self
                .files
                .iter()
                .map(|(id, p, c)| SnapshotFile {
                    memory_id: id.clone(),
                    path: p.clone(),
                    size: c.len() as u64,
                })
                .collect(),
            dirs: self.dirs.clone(),
            max_memories: 5,
        }
    }
}

/// Whether the path probe vouches for `cmd` on `m` (`None`: it does not apply), and if so,
/// that the tree it builds answers exactly as `m`'s whole tree does.
fn probe_holds(m: &Mem, cmd: serde_json::Value) -> Option<bool> {
    let cmd = Command::from_value(cmd).unwrap();
    let probe = path_probe(&cmd)?;
    let whole = m.snapshot();
    let part = probe.snapshot(Around::of(&probe, &whole));
    if let Some(part) = &part {
        assert!(part.files.len() <= 2, "{part:?}");
        assert_eq!(
            execute(&Vfs::new(part), &cmd),
            execute(&Vfs::new(&whole), &cmd),
            "{cmd:?}"
        );
    }
    Some(part.is_some())
}

#[test]
fn creates_deletes_and_renames_on_ordinary_paths_need_only_point_reads() {
    let mut m = Mem::new();
    m.run(json!({"command": "create", "path": "/memories/a/b.md", "file_text": "x"}));
    m.run(json!({"command": "create", "path": "/memories/c.md", "file_text": "y"}));
    m.run(json!({"command": "create", "path": "/memories/e/f/g.md", "file_text": "z"}));
    m.run(json!({"command": "delete", "path": "/memories/e/f/g.md"}));
    assert_eq!(m.dirs, vec!["/e/f".to_string()]);
    let create = |p: &str| json!({"command": "create", "path": p, "file_text": "new"});
    let delete = |p: &str| json!({"command": "delete", "path": p});
    // Beside other files, in an existing folder, in a new one, through `.` and `..`.
    assert_eq!(probe_holds(&m, create("/memories/a/new.md")), Some(true));
    assert_eq!(
        probe_holds(&m, create("/memories/new/deep/n.md")),
        Some(true)
    );
    assert_eq!(
        probe_holds(&m, create("/memories/a/./x/../n.md")),
        Some(true)
    );
    // Into the folder the tool kept empty, and beside it: the kept folders come out the same.
    assert_eq!(probe_holds(&m, create("/memories/e/f/n.md")), Some(true));
    assert_eq!(probe_holds(&m, create("/memories/e/fg.md")), Some(true));
    // Onto a kept folder: refused the same way.
    assert_eq!(probe_holds(&m, create("/memories/e/f")), Some(true));
    // Taken: the file itself, a file where a folder must be, a folder of memories.
    assert_eq!(probe_holds(&m, create("/memories/a/b.md")), Some(false));
    assert_eq!(probe_holds(&m, create("/memories/c.md/n.md")), Some(false));
    assert_eq!(probe_holds(&m, create("/memories/a")), Some(false));
    // Deletes: the last file of a folder (which the tool then keeps), a file beside others.
    assert_eq!(probe_holds(&m, delete("/memories/a/b.md")), Some(true));
    assert_eq!(probe_holds(&m, delete("/memories/c.md")), Some(true));
    m.run(create("/memories/a/d.md"));
    assert_eq!(probe_holds(&m, delete("/memories/a/b.md")), Some(true));
    // Not a file: a folder, nothing, a file under a file.
    assert_eq!(probe_holds(&m, delete("/memories/a")), Some(false));
    assert_eq!(probe_holds(&m, delete("/memories/zz.md")), Some(false));
    assert_eq!(probe_holds(&m, delete("/memories/c.md/x.md")), Some(false));
    // Renames of a file: within its folder, out of it (which the tool then keeps); onto a
    // taken path, into a file, of a folder: the whole tree.
    let rename = |a: &str, b: &str| json!({"command": "rename", "old_path": a, "new_path": b});
    assert_eq!(
        probe_holds(&m, rename("/memories/a/b.md", "/memories/a/z.md")),
        Some(true)
    );
    assert_eq!(
        probe_holds(&m, rename("/memories/c.md", "/memories/e/f/c.md")),
        Some(true)
    );
    assert_eq!(
        probe_holds(&m, rename("/memories/c.md", "/memories/n/c.md")),
        Some(true)
    );
    assert_eq!(
        probe_holds(&m, rename("/memories/c.md", "/memories/a/b.md")),
        Some(false)
    );
    assert_eq!(
        probe_holds(&m, rename("/memories/c.md", "/memories/c.md")),
        Some(false)
    );
    assert_eq!(
        probe_holds(&m, rename("/memories/a/b.md", "/memories/c.md/x")),
        Some(false)
    );
    assert_eq!(
        probe_holds(&m, rename("/memories/a", "/memories/q")),
        Some(false)
    );
    // Onto a kept empty folder: refused the same way.
    assert_eq!(
        probe_holds(&m, rename("/memories/c.md", "/memories/e/f")),
        Some(true)
    );
    // Names stored in another form, and paths the tool refuses, read the whole tree.
    assert_eq!(probe_holds(&m, create("/memories/%41.md")), None);
    assert_eq!(probe_holds(&m, create("/memories/a\u{0301}.md")), None);
    assert_eq!(probe_holds(&m, create("/memories")), None);
    assert_eq!(probe_holds(&m, delete("/memories")), None);
    assert_eq!(probe_holds(&m, create("/memories/../x.md")), None);
    assert_eq!(probe_holds(&m, create("/etc/x.md")), None);
    let view = json!({"command": "view", "path": "/memories/n.md"});
    assert_eq!(probe_holds(&m, view), None);
    // A full store: the whole tree decides (its count may differ from the store's).
    m.run(create("/memories/h.md"));
    m.run(create("/memories/i.md"));
    assert_eq!(m.files.len(), 5);
    assert_eq!(probe_holds(&m, create("/memories/k.md")), Some(false));
    assert_eq!(probe_holds(&m, delete("/memories/h.md")), Some(true));
    assert_eq!(
        probe_holds(&m, rename("/memories/h.md", "/memories/k.md")),
        Some(true)
    );
    assert_eq!(
        probe_holds(&m, rename("/memories/h.md", "/memories/%41.md")),
        None
    );
}
