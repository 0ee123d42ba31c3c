//! The memory tool's command parser (`Command::parse`, `Command::from_value`) and its commands
//! run on an in-memory store. Inputs: arbitrary JSON values (keys drawn from the command
//! fields, values of every type, numbers at the `i64`/`u64` edges, nested 4 deep), arbitrary
//! strings, and valid commands mutated one way each — a required field dropped, a field of
//! the wrong type, an unknown command name, an unknown field, a duplicated key, `command`
//! missing or not a string. Checked: parsing never panics; a parsed command serializes back to
//! itself; each mutation gives exactly the documented outcome (unknown fields are ignored, as
//! the SDK's models allow extra fields; everything else is refused with an `invalid memory tool
//! command` error naming the missing field, the unknown variant or the bad type). Then
//! sequences of near-valid commands (hostile names, `.`/`..`, long names, deep paths, big
//! texts, extreme `view_range` and `insert_line`) run against a model store: no panic, the
//! content loading loop ends, the same command on the same tree gives the same answer, `view`
//! changes nothing, a `create` or `delete` the point-read probe vouches for answers the same on the
//! tree built from what is around its path, and after every command the store holds only valid, distinct paths,
//! contents within the limit and no more memories than allowed.

use std::collections::BTreeSet;

use proptest::prelude::*;
use reverie_core::content::MAX_CONTENT_BYTES;
use reverie_core::memtool::{
    Around, Command, Effects, Snapshot, SnapshotFile, Step, Vfs, decode_segment, execute,
    path_probe, single_file_path,
};
use reverie_core::path::validate_path;
use serde_json::{Map, Value, json};

const KEYS: &[&str] = &[
    "command",
    "path",
    "view_range",
    "file_text",
    "old_str",
    "new_str",
    "insert_line",
    "insert_text",
    "old_path",
    "new_path",
];
const COMMANDS: &[&str] = &[
    "view",
    "create",
    "str_replace",
    "insert",
    "delete",
    "rename",
];

/// Any JSON value, with the command keys and names over-represented.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![i64::MIN, i64::MAX, -1, 0, 1, 999_999, 1_000_000])
            .prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(COMMANDS).prop_map(Value::from),
        "/memories[/a-z.]{0,12}".prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![3 => prop::sample::select(KEYS).prop_map(str::to_string), 1 => ".{0,8}"],
                    inner
                ),
                0..8
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A tool path: `/memories` then names that collide often, some hostile.
fn tool_path() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec![
        "a",
        "b",
        "notes.md",
        ".hidden",
        "é",
        "e\u{301}",
        "%41",
        "%2541",
        "a\nb",
        "x\u{200b}",
        "..",
        ".",
        "",
        "日本語",
        "a b",
    ])
    .prop_map(str::to_string);
    let name = prop_oneof![
        12 => prop::sample::select(vec!["a", "b", "c"]).prop_map(str::to_string),
        8 => name,
        1 => (250usize..300).prop_map(|n| "n".repeat(n)),
    ];
    prop_oneof![
        12 => prop::collection::vec(name.clone(), 1..3).prop_map(|v| format!("/memories/{}", v.join("/"))),
        2 => prop::collection::vec(name, 0..5).prop_map(|v| format!("/memories/{}", v.join("/"))),
        1 => Just("/memories".to_string()),
        1 => (1usize..24).prop_map(|n| format!("/memories{}", "/d".repeat(n))),
        1 => prop::sample::select(vec!["/x", "memories/a", "/memoriesfoo", "/memories/../x", "/memories/a\u{0}", ""]).prop_map(str::to_string),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "", "a", "hello\nworld\n", "a\na\na", "line\r\nline", "\n\n", "日本語\n", "aa", "b",
            "hello", "world", "one\ntwo\nthree\nfour\nfive\nsix\n",  "two\nthree", "\n",
        ])
        .prop_map(str::to_string),
        2 => "\\PC{0,20}",
        1 => prop_oneof![
            Just("x".repeat(MAX_CONTENT_BYTES + 1)),
            Just("y\n".repeat(MAX_CONTENT_BYTES / 4)),
            "[a\n]{0,64}",
        ],
    ]
}

fn number() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => -1i64..8,
        1 => prop::sample::select(vec![i64::MIN, i64::MIN + 1, i64::MAX, i64::MAX - 1, -1, 999_999, 1_000_000]),
    ]
}

/// A valid command.
fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (
            tool_path(),
            prop::option::of(prop::collection::vec(number(), 0..4))
        )
            .prop_map(|(path, view_range)| Command::View { path, view_range }),
        (tool_path(), text()).prop_map(|(path, file_text)| Command::Create { path, file_text }),
        (tool_path(), text(), text()).prop_map(|(path, old_str, new_str)| Command::StrReplace {
            path,
            old_str,
            new_str
        }),
        (tool_path(), number(), text()).prop_map(|(path, insert_line, insert_text)| {
            Command::Insert {
                path,
                insert_line,
                insert_text,
            }
        }),
        tool_path().prop_map(|path| Command::Delete { path }),
        (tool_path(), tool_path())
            .prop_map(|(old_path, new_path)| Command::Rename { old_path, new_path }),
    ]
}

/// One way of breaking a valid command's JSON.
#[derive(Debug, Clone)]
enum Mutation {
    None,
    DropField(prop::sample::Index),
    WrongType(prop::sample::Index, Value),
    UnknownCommand(String),
    UnknownField(String, Value),
    DropCommand,
    CommandNotString(Value),
    DuplicateField(prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let wrong = prop_oneof![
        Just(Value::Null),
        Just(json!(true)),
        Just(json!(1.5)),
        Just(json!("7")),
        Just(json!([1, 2])),
        Just(json!({"a": 1})),
        Just(json!(u64::MAX)),
        Just(json!(["1", 2])),
    ];
    prop_oneof![
        2 => Just(Mutation::None),
        2 => any::<prop::sample::Index>().prop_map(Mutation::DropField),
        2 => (any::<prop::sample::Index>(), wrong.clone()).prop_map(|(i, v)| Mutation::WrongType(i, v)),
        2 => prop_oneof![
            prop::sample::select(vec!["View", "VIEW", "view ", " view", "", "delete_all", "str-replace", "strReplace", "undo_edit", "rm"]).prop_map(str::to_string),
            "[a-z_]{1,12}".prop_filter("not a command", |s| !COMMANDS.contains(&s.as_str())),
        ].prop_map(Mutation::UnknownCommand),
        1 => ("[a-z_]{1,10}".prop_filter("not a field", |s| !KEYS.contains(&s.as_str())), wrong)
            .prop_map(|(k, v)| Mutation::UnknownField(k, v)),
        1 => Just(Mutation::DropCommand),
        1 => prop_oneof![Just(Value::Null), Just(json!(1)), Just(json!(["view"])), Just(json!({"view": 1}))].prop_map(Mutation::CommandNotString),
        1 => any::<prop::sample::Index>().prop_map(Mutation::DuplicateField),
    ]
}

/// Whether `v` deserializes as a field of type `ty`.
fn fits(ty: &str, v: &Value) -> bool {
    match ty {
        "view_range" => {
            v.is_null()
                || v.as_array()
                    .is_some_and(|a| a.iter().all(|n| n.as_i64().is_some()))
        }
        "insert_line" => v.as_i64().is_some(),
        _ => v.is_string(),
    }
}

/// The JSON text of a command object, with `dup` written twice.
fn with_duplicate(obj: &Map<String, Value>, dup: &str) -> String {
    let mut parts: Vec<String> = obj
        .iter()
        .map(|(k, v)| format!("{}:{}", json!(k), v))
        .collect();
    parts.push(format!("{}:{}", json!(dup), obj[dup]));
    format!("{{{}}}", parts.join(","))
}

fn ok_or_fail(r: reverie_core::Result<Command>) -> Result<Command, String> {
    r.map_err(|e| {
        let msg = e.to_string();
        assert!(
            msg.starts_with("invalid memory tool command: "),
            "an error that names no command: {msg}"
        );
        msg
    })
}

/// A tiny store that runs commands and applies their effects, as the storage layer does.
struct Model {
    files: Vec<(String, String, String)>, // id, path, content
    dirs: Vec<String>,
    next: usize,
    max: i64,
}

impl Model {
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
            max_memories: self.max,
        }
    }

    /// `cmd` aimed at the file `i` holds (as the tool shows its path), and for `str_replace`
    /// at one of its lines.
    fn aim(&self, cmd: Command, i: prop::sample::Index) -> Command {
        let (_, path, content) = &self.files[i.index(self.files.len())];
        let names: Vec<String> = path[1..].split('/').map(decode_segment).collect();
        let shown = format!("/memories/{}", names.join("/"));
        match cmd {
            Command::View { view_range, .. } => Command::View {
                path: shown,
                view_range,
            },
            Command::Create { file_text, .. } => Command::Create {
                path: shown,
                file_text,
            },
            Command::StrReplace { new_str, .. } => {
                let lines: Vec<&str> = content.split('\n').collect();
                let old_str = lines[i.index(lines.len())].to_string();
                Command::StrReplace {
                    path: shown,
                    old_str,
                    new_str,
                }
            }
            Command::Insert {
                insert_line,
                insert_text,
                ..
            } => Command::Insert {
                path: shown,
                insert_line,
                insert_text,
            },
            Command::Delete { .. } => Command::Delete { path: shown },
            Command::Rename { new_path, .. } => Command::Rename {
                old_path: shown,
                new_path,
            },
        }
    }

    /// Runs a command; checks termination, determinism and that `view` changes nothing.
    fn run(&mut self, cmd: &Command) -> Result<(bool, String), TestCaseError> {
        let mut vfs = Vfs::new(&self.snapshot());
        let mut loads = 0;
        loop {
            match execute(&vfs, cmd) {
                Step::NeedContent(id) => {
                    loads += 1;
                    prop_assert!(loads <= self.files.len(), "loads {} for {:?}", loads, cmd);
                    let found = self.files.iter().find(|f| f.0 == id);
                    prop_assert!(found.is_some(), "asked for unknown memory {}", id);
                    let content = found.map(|f| f.2.clone()).unwrap_or_default();
                    vfs.load(&id, content);
                }
                Step::Done { result, effects } => {
                    self.check_path_probe(cmd, &result, &effects)?;
                    let again = execute(&vfs, cmd);
                    prop_assert_eq!(
                        &again,
                        &Step::Done {
                            result: result.clone(),
                            effects: effects.clone()
                        },
                        "{:?} ran twice differently",
                        cmd
                    );
                    if cmd.is_read_only() {
                        prop_assert!(effects.is_empty(), "{:?} changed {:?}", cmd, effects);
                    }
                    self.apply(effects)?;
                    return Ok((result.is_error, result.content));
                }
            }
        }
    }

    /// A create or delete the point-read probe vouches for answers the same on the tree it
    /// builds from what is around its path.
    fn check_path_probe(
        &self,
        cmd: &Command,
        result: &reverie_core::memtool::ToolResult,
        effects: &Effects,
    ) -> Result<(), TestCaseError> {
        let Some(probe) = path_probe(cmd) else {
            return Ok(());
        };
        let Some(part) = probe.snapshot(Around::of(&probe, &self.snapshot())) else {
            return Ok(());
        };
        let alone = execute(&Vfs::new(&part), cmd);
        prop_assert_eq!(
            alone,
            Step::Done {
                result: result.clone(),
                effects: effects.clone()
            },
            "{:?} answered differently on {:?}",
            cmd,
            part
        );
        Ok(())
    }

    fn apply(&mut self, fx: Effects) -> Result<(), TestCaseError> {
        for id in &fx.deletes {
            prop_assert!(
                self.files.iter().any(|f| &f.0 == id),
                "delete of unknown {}",
                id
            );
        }
        self.files.retain(|f| !fx.deletes.contains(&f.0));
        for (id, path, content) in fx.updates {
            let f = self.files.iter_mut().find(|f| f.0 == id);
            prop_assert!(f.is_some(), "update of unknown {}", id);
            if let Some(f) = f {
                if let Some(p) = path {
                    f.1 = p;
                }
                if let Some(c) = content {
                    f.2 = c;
                }
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
        // What a store can hold.
        let mut seen = BTreeSet::new();
        for (_, path, content) in &self.files {
            prop_assert!(validate_path(path).is_ok(), "stored {:?}", path);
            prop_assert!(seen.insert(path.clone()), "two memories at {:?}", path);
            prop_assert!(
                content.len() <= MAX_CONTENT_BYTES,
                "{} bytes at {:?}",
                content.len(),
                path
            );
        }
        prop_assert!(self.files.len() as i64 <= self.max);
        for d in &self.dirs {
            prop_assert!(validate_path(d).is_ok(), "dir {:?}", d);
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(crate::config(2000))]

    /// Any JSON value: no panic; a command parses from it only if it is an object naming one
    /// of the six commands, and serializes back to itself; a refusal names the command input.
    #[test]
    fn any_json_parses_or_is_refused(value in json_value()) {
        let text = value.to_string();
        let from_text = ok_or_fail(Command::parse(&text));
        let from_value = ok_or_fail(Command::from_value(value.clone()));
        // The same verdict (the text parser's messages add a position).
        prop_assert_eq!(from_text.as_ref().ok(), from_value.as_ref().ok());
        if let Ok(cmd) = from_value {
            prop_assert!(value.is_object(), "{}", text);
            let name = value.get("command").and_then(Value::as_str);
            prop_assert!(name.is_some_and(|n| COMMANDS.contains(&n)), "{}", text);
            let back = serde_json::to_value(&cmd).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(Command::from_value(back).ok(), Some(cmd.clone()));
            if let Some(p) = single_file_path(&cmd) {
                prop_assert!(validate_path(&p).is_ok(), "{:?}", p);
            }
        }
    }

    /// Any string: no panic, and a refusal names the command input.
    #[test]
    fn any_string_parses_or_is_refused(text in prop_oneof![any::<String>(), "\\{\"command\": ?\"[a-z_]{0,12}\".{0,40}"]) {
        let _ = ok_or_fail(Command::parse(&text));
    }

    /// A valid command, broken one way: exactly the documented outcome.
    #[test]
    fn near_valid_commands(cmd in command(), m in mutation()) {
        let Value::Object(mut obj) = serde_json::to_value(&cmd).map_err(|e| TestCaseError::fail(e.to_string()))? else {
            return Err(TestCaseError::fail("a command is an object"));
        };
        let fields: Vec<String> = obj.keys().filter(|k| *k != "command").cloned().collect();
        let mut text = None;
        // `Ok(Some(cmd))`: must parse as `cmd`; `Err(fragments)`: must fail naming one of them.
        let want: Result<Command, Vec<String>> = match &m {
            Mutation::None => Ok(cmd.clone()),
            Mutation::DropField(i) => {
                let f = &fields[i.index(fields.len())];
                obj.remove(f);
                if let (Command::View { path, .. }, "view_range") = (&cmd, f.as_str()) {
                    Ok(Command::View { path: path.clone(), view_range: None })
                } else {
                    Err(vec![format!("missing field `{f}`")])
                }
            }
            Mutation::WrongType(i, v) => {
                let f = fields[i.index(fields.len())].clone();
                obj.insert(f.clone(), v.clone());
                if fits(&f, v) {
                    let back = Command::from_value(Value::Object(obj.clone()));
                    prop_assert!(back.is_ok(), "{:?}", back);
                    back.map_err(|_| vec![])
                } else {
                    Err(vec!["invalid type".into(), "invalid value".into()])
                }
            }
            Mutation::UnknownCommand(name) => {
                obj.insert("command".into(), Value::from(name.as_str()));
                Err(vec![format!("unknown variant `{name}`")])
            }
            Mutation::UnknownField(k, v) => {
                obj.insert(k.clone(), v.clone());
                Ok(cmd.clone())
            }
            Mutation::DropCommand => {
                obj.remove("command");
                Err(vec!["missing field `command`".into()])
            }
            Mutation::CommandNotString(v) => {
                obj.insert("command".into(), v.clone());
                Err(vec!["invalid type".into(), "expected variant identifier".into(), "missing field `command`".into()])
            }
            Mutation::DuplicateField(i) => {
                let f = fields[i.index(fields.len())].clone();
                text = Some(with_duplicate(&obj, &f));
                Err(vec![format!("duplicate field `{f}`")])
            }
        };
        let text = text.unwrap_or_else(|| Value::Object(obj.clone()).to_string());
        let got = ok_or_fail(Command::parse(&text));
        if text.len() < 10_000 {
            // `from_value` agrees with `parse` (but for duplicates, which a `Value` cannot hold).
            if !matches!(m, Mutation::DuplicateField(_)) {
                let from_value = ok_or_fail(Command::from_value(Value::Object(obj)));
                prop_assert_eq!(got.as_ref().ok(), from_value.as_ref().ok());
            }
        }
        match (got, want) {
            (Ok(got), Ok(want)) => prop_assert_eq!(got, want),
            (Err(msg), Err(fragments)) => prop_assert!(
                fragments.iter().any(|f| msg.contains(f.as_str())),
                "{:?} names none of {:?} ({:?})", msg, fragments, m
            ),
            (got, want) => {
                return Err(TestCaseError::fail(format!("{m:?}: got {got:?}, want {want:?}")));
            }
        }
    }

}

proptest! {
    #![proptest_config(crate::config(600))]

    /// Sequences of commands on a model store (half of them aimed at a file it holds): no
    /// panic, loading ends, the same command on the same tree answers the same, `view` changes
    /// nothing, and the store only ever holds valid, distinct paths, contents within the
    /// limit, and at most its memory limit.
    #[test]
    fn command_sequences_keep_the_store_valid(
        seeds in prop::collection::vec((tool_path(), text()), 0..6),
        cmds in prop::collection::vec((command(), prop::option::of(any::<prop::sample::Index>())), 1..12),
        max in 2i64..8,
    ) {
        let mut m = Model { files: Vec::new(), dirs: Vec::new(), next: 0, max };
        for (path, file_text) in seeds {
            m.run(&Command::Create { path, file_text })?;
        }
        for (cmd, aim) in cmds {
            let cmd = match aim {
                Some(i) if !m.files.is_empty() => m.aim(cmd, i),
                _ => cmd,
            };
            let cmd = &cmd;
            let (is_error, out) = m.run(cmd)?;
            if let Some(p) = single_file_path(cmd) {
                prop_assert!(validate_path(&p).is_ok(), "{:?}", p);
            }
            if is_error {
                prop_assert!(!out.is_empty(), "{:?} failed without a word", cmd);
            }
        }
        // The root can always be listed.
        let (is_error, out) = m.run(&Command::View { path: "/memories".into(), view_range: None })?;
        prop_assert!(!is_error, "{}", out);
    }
}
