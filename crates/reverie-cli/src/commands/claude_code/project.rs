//! Which store a Claude Code project's sessions go to: one store per project, keyed by the
//! project's identity rather than its path — the git repository's root commit when there is
//! one (so that the worktrees of one repository share a store, and a moved or renamed folder
//! keeps its memory), its remote's URL when it has no commit yet, the folder's path otherwise.
//! The configuration's `[claude_code]` changes that: `key = "path"` keys every project by its
//! folder, and `[claude_code.projects]` names folders (with everything under them) as
//! projects of their own.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use reverie_model::config::{ClaudeCodeConfig, ProjectKey};

/// A project as reverie keys it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// `git:<root commit>`, `git-remote:<url>`, `path:<folder>`, or `name:<name>` for a
    /// folder the configuration names.
    pub identity: String,
    /// The folder the project is in (the repository's top level, or the folder itself).
    pub root: PathBuf,
    /// The store's name: `cc-` and 12 hex digits of the identity, so that a moved or renamed
    /// folder finds its store again.
    pub store_name: String,
    /// The folder's name, for the store's description.
    pub label: String,
}

/// The metadata key a project's store records its identity under.
pub const IDENTITY_KEY: &str = "claude_code_project";

/// `git -C dir ARGS`'s first line of output, when git runs and succeeds.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(first.to_string())
}

/// The main folder of the repository `root` is a worktree of (where Claude Code keeps the
/// memory all its worktrees share); `root` itself outside git or for the main worktree.
pub fn main_worktree(root: &Path) -> PathBuf {
    git(
        root,
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    )
    .map(PathBuf::from)
    .filter(|d| d.file_name().is_some_and(|n| n == ".git"))
    .and_then(|d| d.parent().map(Path::to_path_buf))
    .unwrap_or_else(|| root.to_path_buf())
}

/// How projects are keyed, from the configuration file's `[claude_code]` (read once per
/// process). A configuration that cannot be read leaves the defaults, and says why.
pub fn rules() -> &'static (ClaudeCodeConfig, Option<String>) {
    static RULES: std::sync::OnceLock<(ClaudeCodeConfig, Option<String>)> =
        std::sync::OnceLock::new();
    RULES.get_or_init(|| match reverie_model::Config::load() {
        Ok(c) => (c.claude_code, None),
        Err(e) => (
            ClaudeCodeConfig::default(),
            Some(format!(
                "the configuration could not be read, defaults used: {e}"
            )),
        ),
    })
}

/// The project `cwd` belongs to, as the configuration keys it.
pub fn identify(cwd: &Path) -> Project {
    identify_with(cwd, &rules().0)
}

/// A project named by the configuration: `name:` and the name; its folder is the one named.
fn named(folder: &Path, name: &str) -> Project {
    project(format!("name:{name}"), folder.to_path_buf())
}

/// The project `cwd` belongs to under `rules`: a folder the rules name (the longest that
/// holds `cwd`), else the repository or the path as `rules.key` says.
pub fn identify_with(cwd: &Path, rules: &ClaudeCodeConfig) -> Project {
    let absolute = std::path::absolute(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let canonical = std::fs::canonicalize(cwd).unwrap_or_else(|_| absolute.clone());
    if let Some((folder, name)) = rules
        .projects
        .iter()
        .filter(|(f, _)| absolute.starts_with(f) || canonical.starts_with(f))
        .max_by_key(|(f, _)| f.as_os_str().len())
    {
        return named(folder, name);
    }
    if rules.key == ProjectKey::Path {
        return project(format!("path:{}", canonical.display()), canonical);
    }
    let top = git(cwd, &["rev-parse", "--show-toplevel"]).map(PathBuf::from);
    let identity = top.as_ref().and_then(|top| {
        // The oldest root commit: a repository with several roots (merged histories) keeps
        // the same one as long as history is not rewritten.
        let roots = git(
            top,
            &[
                "rev-list",
                "--max-parents=0",
                "--date-order",
                "--reverse",
                "HEAD",
            ],
        )
        .map(|c| format!("git:{c}"));
        roots.or_else(|| {
            git(top, &["config", "--get", "remote.origin.url"]).map(|u| format!("git-remote:{u}"))
        })
    });
    let root = top.unwrap_or_else(|| cwd.to_path_buf());
    let identity = identity.unwrap_or_else(|| {
        let canonical = std::fs::canonicalize(&root).unwrap_or_else(|_| root.clone());
        format!("path:{}", canonical.display())
    });
    project(identity, root)
}

/// A project from its identity and folder.
fn project(identity: String, root: PathBuf) -> Project {
    let label: String = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "root".into())
        .chars()
        .filter(|c| !c.is_control())
        .take(80)
        .collect();
    let hash = blake3::hash(identity.as_bytes()).to_hex();
    Project {
        store_name: format!("cc-{}", &hash[..12]),
        label,
        identity,
        root,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use reverie_testkit::git as sh;

    #[test]
    fn worktrees_and_moves_keep_the_identity_a_plain_folder_has_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("app");
        std::fs::create_dir_all(&repo).unwrap();
        sh(
            &repo,
            "git init -q && git commit -q --allow-empty -m one && git commit -q --allow-empty -m two",
        );
        let first = identify(&repo.join("."));
        assert!(first.identity.starts_with("git:"), "{first:?}");
        assert_eq!(first.label, "app");
        assert_eq!(first.store_name.len(), "cc-".len() + 12, "{first:?}");
        // A worktree of the same repository, elsewhere.
        sh(&repo, "git worktree add -q ../feature 2>/dev/null");
        let wt = identify(&dir.path().join("feature"));
        assert_eq!(wt.identity, first.identity);
        // The repository moved.
        std::fs::rename(&repo, dir.path().join("moved")).unwrap();
        let moved = identify(&dir.path().join("moved"));
        assert_eq!(moved.identity, first.identity);
        assert_eq!(moved.store_name, first.store_name);
        // A subfolder belongs to its repository.
        std::fs::create_dir_all(dir.path().join("moved/src")).unwrap();
        assert_eq!(
            identify(&dir.path().join("moved/src")).identity,
            first.identity
        );
        // A folder outside any repository: its path.
        let plain = dir.path().join("notes");
        std::fs::create_dir_all(&plain).unwrap();
        let p = identify(&plain);
        assert!(p.identity.starts_with("path:"), "{p:?}");
        assert_ne!(p.store_name, first.store_name);

        // Keyed by path: a worktree is a project of its own.
        let by_path = ClaudeCodeConfig {
            key: ProjectKey::Path,
            ..ClaudeCodeConfig::default()
        };
        let a = identify_with(&dir.path().join("moved"), &by_path);
        let b = identify_with(&dir.path().join("feature"), &by_path);
        assert!(
            a.identity.starts_with("path:") && a.identity != b.identity,
            "{a:?} {b:?}"
        );
        // A folder the configuration names, with everything under it, whatever the key.
        let named = ClaudeCodeConfig {
            key: ProjectKey::Repository,
            projects: [
                (dir.path().join("moved"), "app".to_string()),
                (dir.path().join("moved/src"), "app-src".to_string()),
            ]
            .into(),
        };
        let top = identify_with(&dir.path().join("moved"), &named);
        assert_eq!(top.identity, "name:app");
        let deeper = identify_with(&dir.path().join("moved/src"), &named);
        assert_eq!(deeper.identity, "name:app-src", "the longest folder wins");
        assert_eq!(
            identify_with(&plain, &named).identity,
            p.identity,
            "other folders as before"
        );
    }
}
