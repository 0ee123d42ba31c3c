//! Which store a Claude Code project's sessions go to: one store per project, keyed by the
//! project's identity rather than its path — the git repository's root commit when there is
//! one (so that the worktrees of one repository share a store, and a moved or renamed folder
//! keeps its memory), its remote's URL when it has no commit yet, the folder's path otherwise.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A project as reverie keys it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// `git:<root commit>`, `git-remote:<url>` or `path:<folder>`.
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

/// The project `cwd` belongs to.
pub fn identify(cwd: &Path) -> Project {
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
    }
}
