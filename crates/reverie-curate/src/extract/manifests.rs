//! Project facts from the manifests the agent read or wrote: the scripts of a `package.json`
//! (what `bun run verify` really runs), and the dependencies with their versions of a
//! `package.json`, `mix.exs`, `Cargo.toml` or `pyproject.toml` — what the project is built on,
//! as the files say, not as an agent-written summary claims.
//!
//! A manifest is seen through the Read results (line-number prefixes removed), the files
//! written and the edits made, in order: the newest value of each script or dependency wins.
//! Partial reads and edit fragments are read line by line (`"name": "value"`), the section a
//! line is in known from the `"scripts": {` above it, or guessed from the value (a version
//! range is a dependency, a command line a script).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use reverie_core::curation::EntryKind;

use super::calls::{Status, calls};
use super::util::{Ctx, cut, strip_tags};
use crate::candidate::Candidate;

/// Where project facts from manifests go.
pub(crate) const PROJECT: &str = "/project.md";
/// Most dependencies listed per manifest.
const MAX_DEPS: usize = 24;

/// What a line of a manifest says.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Script,
    Dependency,
    PackageManager,
}

/// One value, where it was seen.
#[derive(Debug, Clone)]
struct Value {
    value: String,
    session: usize,
    event: usize,
    /// Where in the file it was first seen (files list what matters most first).
    order: usize,
}

/// Every manifest value of every session: (manifest, kind, name) → newest value.
type Seen = BTreeMap<(String, Kind, String), Value>;

/// The manifest kind of a file, by its name.
pub(crate) fn manifest(path: &str) -> Option<&'static str> {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    match name {
        "package.json" => Some("package.json"),
        "mix.exs" => Some("mix.exs"),
        "Cargo.toml" => Some("Cargo.toml"),
        "pyproject.toml" => Some("pyproject.toml"),
        _ => None,
    }
}

/// The text of a Read result without its line-number prefixes (`     1→`, `     1\t`).
pub(crate) fn read_text(output: &str) -> String {
    static PREFIX: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^\s*\d+(?:→|\t)").expect("a valid regex"));
    PREFIX.replace_all(&strip_tags(output), "").into_owned()
}

/// The scripts of the project's own manifests (the shallowest), newest value by name: what
/// a user means by `test:env`.
pub(crate) fn scripts(ctxs: &[Ctx]) -> BTreeMap<String, String> {
    let seen = seen(ctxs);
    let top = seen
        .keys()
        .filter(|(_, k, _)| *k == Kind::Script)
        .map(|(m, _, _)| m.matches('/').count())
        .min();
    seen.into_iter()
        .filter(|((m, k, _), _)| *k == Kind::Script && Some(m.matches('/').count()) == top)
        .map(|((_, _, n), v)| (n, v.value))
        .collect()
}

/// The facts of every session's manifests.
pub(crate) fn extract(ctxs: &[Ctx]) -> Vec<Candidate> {
    candidates(ctxs, &seen(ctxs))
}

/// Every manifest value of every session.
fn seen(ctxs: &[Ctx]) -> Seen {
    let mut seen = Seen::new();
    for (si, ctx) in ctxs.iter().enumerate() {
        for c in calls(ctx) {
            if c.status != Status::Ok {
                continue;
            }
            let Some(file) = c.file() else { continue };
            let Some(kind) = manifest(file) else { continue };
            let text = match c.tool {
                "Read" => read_text(c.output),
                "Write" => c.field("content").unwrap_or("").to_string(),
                "Edit" => c.field("new_string").unwrap_or("").to_string(),
                "MultiEdit" => c
                    .input
                    .and_then(|i| i.get("edits"))
                    .and_then(serde_json::Value::as_array)
                    .map(|edits| {
                        edits
                            .iter()
                            .filter_map(|e| e.get("new_string").and_then(serde_json::Value::as_str))
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default(),
                _ => continue,
            };
            let rel = ctx.volatile.generalize(file);
            for (n, (k, name, value)) in parse(kind, &text).into_iter().enumerate() {
                let key = (rel.clone(), k, name);
                let order = seen.get(&key).map_or(n, |v| v.order);
                seen.insert(
                    key,
                    Value {
                        value,
                        session: si,
                        event: c.at,
                        order,
                    },
                );
            }
        }
    }
    seen
}

/// The scripts, dependencies and package manager a manifest's text names.
fn parse(kind: &str, text: &str) -> Vec<(Kind, String, String)> {
    match kind {
        "package.json" => parse_package_json(text),
        "mix.exs" => {
            static DEP: LazyLock<Regex> =
                LazyLock::new(|| Regex::new(r#"\{:(\w+),\s*"([^"]+)""#).expect("a valid regex"));
            text.lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .flat_map(|l| DEP.captures_iter(l).collect::<Vec<_>>())
                .map(|c| (Kind::Dependency, c[1].to_string(), c[2].to_string()))
                .collect()
        }
        "Cargo.toml" | "pyproject.toml" => parse_toml_deps(text),
        _ => Vec::new(),
    }
}

fn parse_package_json(text: &str) -> Vec<(Kind, String, String)> {
    static PAIR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"^\s*"([^"]+)"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,?\s*$"#).expect("a valid regex")
    });
    static OPEN: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"^\s*"([^"]+)"\s*:\s*\{\s*$"#).expect("a valid regex"));
    let mut out = Vec::new();
    let mut section: Option<String> = None;
    for line in text.lines() {
        if let Some(c) = OPEN.captures(line) {
            section = Some(c[1].to_string());
            continue;
        }
        if line.trim_start().starts_with('}') {
            section = None;
            continue;
        }
        let Some(c) = PAIR.captures(line) else {
            continue;
        };
        let (name, value) = (c[1].to_string(), c[2].replace("\\\"", "\""));
        let kind = match section.as_deref() {
            Some("scripts") => Some(Kind::Script),
            Some("dependencies" | "devDependencies" | "peerDependencies") => Some(Kind::Dependency),
            Some(_) => None,
            None if name == "packageManager" => Some(Kind::PackageManager),
            None if is_version(&value) && !is_metadata(&name) => Some(Kind::Dependency),
            None if value.contains(' ') && !is_metadata(&name) && !value.ends_with('.') => {
                Some(Kind::Script)
            }
            None => None,
        };
        if let Some(kind) = kind {
            out.push((kind, name, value));
        }
    }
    out
}

/// A version or range (`15.5.2`, `^1.2.5`, `workspace:*`, `>= 0.1.0`).
fn is_version(v: &str) -> bool {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:[\^~>=<]*\s*v?\d+(?:\.[\w*+-]+)*|workspace:[\^~*]?[\w.*-]*|\*|latest)$")
            .expect("a valid regex")
    });
    RE.is_match(v.trim())
}

/// Fields of a package.json that are neither scripts nor dependencies.
fn is_metadata(name: &str) -> bool {
    matches!(
        name,
        "name"
            | "version"
            | "description"
            | "main"
            | "module"
            | "types"
            | "typings"
            | "type"
            | "license"
            | "homepage"
            | "author"
            | "private"
            | "url"
            | "directory"
            | "bugs"
            | "default"
            | "import"
            | "require"
            | "source"
            | "node"
            | "bun"
            | "engines"
            | "$schema"
            | "repository"
            | "bin"
            | "browser"
            | "exports"
            | "files"
    ) || name.starts_with('.')
        || name.starts_with('@') && !name.contains('/')
}

fn parse_toml_deps(text: &str) -> Vec<(Kind, String, String)> {
    static PLAIN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"^\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"([^"]+)"|\{[^}]*version\s*=\s*"([^"]+)")"#)
            .expect("a valid regex")
    });
    static LIST: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"^\s*"([A-Za-z0-9_.-]+)\s*([<>=!~^][^";]*)?[^"]*",?\s*$"#)
            .expect("a valid regex")
    });
    let mut out = Vec::new();
    let mut in_deps = false;
    let mut in_list = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') {
            continue;
        }
        if t.starts_with('[') {
            in_deps = t.contains("dependencies");
            in_list = false;
            continue;
        }
        if t.starts_with("dependencies = [") || t.starts_with("dependencies=[") {
            in_list = true;
            continue;
        }
        if in_list {
            if t.starts_with(']') {
                in_list = false;
            } else if let Some(c) = LIST.captures(line) {
                let v = c.get(2).map_or("*", |m| m.as_str()).trim().to_string();
                out.push((Kind::Dependency, c[1].to_string(), v));
            }
            continue;
        }
        if in_deps && let Some(c) = PLAIN.captures(line) {
            let v = c.get(2).or(c.get(3)).map_or("", |m| m.as_str()).to_string();
            out.push((Kind::Dependency, c[1].to_string(), v));
        }
    }
    out
}

/// The runner of a package.json's scripts (`bun run`), from its `packageManager` field.
fn runner(seen: &Seen, manifest: &str) -> String {
    let pm = seen
        .iter()
        .filter(|((m, k, _), _)| *k == Kind::PackageManager && (m == manifest || !m.contains('/')))
        .map(|(_, v)| v.value.split('@').next().unwrap_or("npm").to_string())
        .next();
    format!("{} run", pm.unwrap_or_else(|| "npm".into()))
}

fn candidates(ctxs: &[Ctx], seen: &Seen) -> Vec<Candidate> {
    let mut out = Vec::new();
    // Scripts: one entry each for the project's own manifest (the shallowest), one entry per
    // manifest for the others (a monorepo's packages repeat `build`, `test`, `lint`).
    let mut scripts: BTreeMap<&str, Vec<(&str, &Value)>> = BTreeMap::new();
    for ((m, k, name), v) in seen {
        if *k == Kind::Script && !v.value.contains("[REDACTED") {
            scripts
                .entry(m.as_str())
                .or_default()
                .push((name.as_str(), v));
        }
    }
    let top = scripts
        .keys()
        .map(|m| m.matches('/').count())
        .min()
        .unwrap_or(0);
    for (m, mut list) in scripts {
        list.sort_by_key(|(_, v)| v.order);
        let run = runner(seen, m);
        if m.matches('/').count() == top {
            for (name, v) in list {
                let text = format!(
                    "`{run} {name}` runs `{}` (scripts of `{m}`).",
                    cut(&v.value.replace('`', "'"), 200)
                );
                out.push(ctxs[v.session].candidate(
                    EntryKind::Fact,
                    text,
                    PROJECT,
                    vec!["Scripts".into()],
                    &[(v.event, format!("{name}: {}", v.value))],
                    "a script of the project's manifest, as the file says",
                ));
            }
            continue;
        }
        let Some(newest) = list
            .iter()
            .map(|(_, v)| *v)
            .max_by_key(|v| (v.session, v.event))
        else {
            continue;
        };
        let shown: Vec<String> = list
            .iter()
            .map(|(n, v)| format!("`{run} {n}` → `{}`", cut(&v.value.replace('`', "'"), 100)))
            .collect();
        let text = cut(&format!("Scripts of `{m}`: {}.", shown.join("; ")), 700);
        out.push(ctxs[newest.session].candidate(
            EntryKind::Fact,
            text,
            PROJECT,
            vec!["Scripts".into()],
            &[(newest.event, format!("scripts of {m}"))],
            "the scripts of a manifest, as the file says",
        ));
    }
    // Dependencies: one entry per manifest, in the file's order, and the stack they make.
    let mut deps: BTreeMap<&str, Vec<(&str, &Value)>> = BTreeMap::new();
    for ((m, k, name), v) in seen {
        if *k == Kind::Dependency && !v.value.contains("[REDACTED") {
            deps.entry(m.as_str()).or_default().push((name.as_str(), v));
        }
    }
    for (m, mut list) in deps {
        list.sort_by_key(|(_, v)| v.order);
        let newest = list
            .iter()
            .max_by_key(|(_, v)| (v.session, v.event))
            .map(|(_, v)| *v);
        let Some(newest) = newest else { continue };
        let shown: Vec<String> = list
            .iter()
            .take(MAX_DEPS)
            .map(|(n, v)| format!("{n} {}", v.value))
            .collect();
        let more = list.len().saturating_sub(MAX_DEPS);
        let text = format!(
            "Dependencies and versions of `{m}`: {}{}.",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
        let ctx = &ctxs[newest.session];
        let evidence = [(newest.event, format!("dependencies of {m}"))];
        out.push(ctx.candidate(
            EntryKind::Fact,
            text,
            PROJECT,
            vec!["Dependencies".into()],
            &evidence,
            "the project's dependencies, as its manifest says",
        ));
        if let Some(stack) = stack(m, &list) {
            out.push(ctx.candidate(
                EntryKind::Fact,
                stack,
                PROJECT,
                vec!["Stack".into()],
                &evidence,
                "the kinds of the project's main dependencies, as its manifest says",
            ));
        }
    }
    out
}

/// What the well-known dependencies of a manifest say the project is built on: its web
/// framework, its database, its test framework.
fn stack(manifest: &str, deps: &[(&str, &Value)]) -> Option<String> {
    const ROLES: &[(&str, &[&str])] = &[
        (
            "web framework",
            &[
                "phoenix",
                "rails",
                "django",
                "flask",
                "fastapi",
                "express",
                "next",
                "nuxt",
                "react",
                "vue",
                "svelte",
                "angular",
                "actix-web",
                "axum",
                "rocket",
                "spring",
                "laravel",
                "astro",
                "remix",
                "hono",
                "koa",
                "nestjs",
                "gin",
                "fiber",
                "sinatra",
                "starlette",
                "solid-js",
            ],
        ),
        (
            "database",
            &[
                "sqlite",
                "postgres",
                "postgrex",
                "pg",
                "mysql",
                "mariadb",
                "mongodb",
                "mongoose",
                "redis",
                "prisma",
                "ecto",
                "sqlx",
                "diesel",
                "typeorm",
                "drizzle",
                "sequelize",
                "clickhouse",
                "sqlalchemy",
                "duckdb",
                "rusqlite",
                "knex",
            ],
        ),
        (
            "tests",
            &[
                "jest",
                "vitest",
                "pytest",
                "mocha",
                "rspec",
                "playwright",
                "cypress",
                "proptest",
            ],
        ),
    ];
    let mut parts = Vec::new();
    for (role, names) in ROLES {
        let hits: Vec<String> = deps
            .iter()
            .map(|(n, v)| (n.trim_start_matches('@'), v))
            .filter(|(n, _)| {
                n.split(['_', '-', '/', '.']).any(|w| names.contains(&w)) || names.contains(n)
            })
            .take(4)
            .map(|(n, v)| format!("{n} {}", v.value))
            .collect();
        if !hits.is_empty() {
            parts.push(format!("{role}: {}", hits.join(", ")));
        }
    }
    (!parts.is_empty()).then(|| format!("Stack (from `{manifest}`): {}.", parts.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_json_lines_by_section_or_by_value() {
        let text = "{\n  \"name\": \"chkit\",\n  \"packageManager\": \"bun@1.3.5\",\n  \"scripts\": {\n    \"verify\": \"doppler run --project chx --config ci -- turbo run typecheck lint test build\",\n    \"test\": \"turbo run test\"\n  },\n  \"devDependencies\": {\n    \"turbo\": \"^2.8.9\"\n  }\n}";
        let got = parse_package_json(text);
        assert!(got.contains(&(
            Kind::PackageManager,
            "packageManager".into(),
            "bun@1.3.5".into()
        )));
        assert!(got.contains(&(Kind::Script, "test".into(), "turbo run test".into())));
        assert!(got.contains(&(Kind::Dependency, "turbo".into(), "^2.8.9".into())));
        assert!(!got.iter().any(|(_, n, _)| n == "name"));
        // An edit's fragment: no section header.
        let frag = "    \"deploy\": \"wrangler pages deploy dist --project-name=chkit-docs\",\n    \"next\": \"15.5.2\",";
        let got = parse_package_json(frag);
        assert_eq!(got[0].0, Kind::Script);
        assert_eq!(got[1], (Kind::Dependency, "next".into(), "15.5.2".into()));
    }

    #[test]
    fn read_results_lose_their_line_numbers() {
        assert_eq!(
            read_text("     1→{\n     2→  \"a\": 1\n"),
            "{\n  \"a\": 1\n"
        );
    }

    #[test]
    fn mix_and_toml_dependencies() {
        let mix = "  defp deps do\n    [\n      {:phoenix, \"~> 1.8.1\"},\n      {:ash_sqlite, \"~> 0.2\"},";
        let got = parse("mix.exs", mix);
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[1],
            (Kind::Dependency, "ash_sqlite".into(), "~> 0.2".into())
        );
        let cargo = "[package]\nname = \"x\"\n[dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\ntokio = \"1.4\"\n";
        let got = parse("Cargo.toml", cargo);
        assert_eq!(got.len(), 2, "{got:?}");
        let py = "[project]\ndependencies = [\n  \"fastapi>=0.110\",\n  \"uvicorn\",\n]\n";
        let got = parse("pyproject.toml", py);
        assert_eq!(
            got[0],
            (Kind::Dependency, "fastapi".into(), ">=0.110".into())
        );
    }
}
