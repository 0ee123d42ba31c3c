//! The memory tool against a store: snapshot the store, run the pure command logic of
//! `reverie_core::memtool`, write its effects back — all inside one transaction, so a command
//! sees a consistent store and its changes land whole (one revision) or not at all. A command
//! on one file, a `create`, and a `delete` or `rename` of a file take a snapshot of what point
//! reads find around their paths instead of every memory's row, so their cost does not grow
//! with the store; anything unusual reads the whole tree.

use reverie_core::id::{IdKind, new_id};
use reverie_core::memtool::{
    Around, Command, Effects, Nearby, Snapshot, SnapshotFile, Step, Vfs, execute, path_probe,
    single_file_path,
};
use reverie_core::{Actor, Error, Result};

use super::apply::{Create, Plan, Update, apply};
use super::{Record, SqlStore};
use crate::backend::Backend;
use crate::dao::{Dao, Seek};
use crate::params::ToolOutcome;
use crate::rows::{MemoryRow, StoreRow, text};

async fn snapshot<C: Dao + ?Sized>(
    conn: &mut C,
    store_id: &str,
    max_memories: i64,
) -> Result<Snapshot> {
    let files = conn
        .all_memories(store_id)
        .await?
        .into_iter()
        .map(|r| SnapshotFile {
            memory_id: r.id,
            path: r.path,
            size: r.content_size_bytes as u64,
        })
        .collect();
    Ok(Snapshot {
        files,
        dirs: conn.tool_dirs(store_id).await?,
        max_memories,
    })
}

/// For a command on one file (`view`, `str_replace`, `insert`), a snapshot of that file alone,
/// when the tree would show it at the path named (`memtool::single_file_path` says when): the
/// answer and effects are then the same as on the whole store, at the cost of a few point reads
/// instead of reading every memory's row.
async fn single_file<C: Dao + ?Sized>(
    conn: &mut C,
    store_id: &str,
    command: &Command,
    max_memories: i64,
) -> Result<Option<(Snapshot, String)>> {
    let Some(path) = single_file_path(command) else {
        return Ok(None);
    };
    // The file and every proper prefix of its path, in one read.
    let mut wanted: Vec<&str> = path
        .match_indices('/')
        .skip(1)
        .map(|(i, _)| &path[..i])
        .collect();
    wanted.push(&path);
    let mut rows = conn.memories_at_paths(store_id, &wanted).await?;
    if rows.len() != 1 || rows[0].path != path {
        return Ok(None);
    }
    if conn.tool_dirs(store_id).await?.contains(&path) {
        return Ok(None);
    }
    let row = rows.remove(0);
    let content = text(row.content.clone().unwrap_or_default())?;
    let snapshot = Snapshot {
        files: vec![SnapshotFile {
            memory_id: row.id,
            path: row.path,
            size: row.content_size_bytes as u64,
        }],
        dirs: Vec::new(),
        max_memories,
    };
    Ok(Some((snapshot, content)))
}

/// Tool-made directories beyond which a create, delete or rename reads the whole tree
/// instead: each costs a point read.
const MAX_PROBED_DIRS: usize = 32;

/// For a `create`, or a `delete` or `rename` of a file, the part of the tree it can run on
/// instead of the whole store's, read with point reads around its paths
/// (`memtool::PathProbe::snapshot` says why the answer is then the same); `None` when they
/// cannot tell.
async fn around_paths<C: Dao + ?Sized>(
    conn: &mut C,
    store: &StoreRow,
    command: &Command,
) -> Result<Option<Snapshot>> {
    let Some(probe) = path_probe(command) else {
        return Ok(None);
    };
    let tool_dirs = conn.tool_dirs(&store.id).await?;
    if tool_dirs.len() > MAX_PROBED_DIRS {
        return Ok(None);
    }
    let snap = |r: MemoryRow| SnapshotFile {
        memory_id: r.id,
        path: r.path,
        size: r.content_size_bytes as u64,
    };
    let mut around = Around {
        memory_count: store.memory_count,
        max_memories: store.max_memories,
        ..Around::default()
    };
    for t in &probe.targets {
        let mut near = Nearby::default();
        for row in conn.memories_at_paths(&store.id, &t.taken_paths()).await? {
            if row.path == t.path {
                near.at_path = Some(snap(row));
            } else {
                near.at_parent = true;
            }
        }
        near.below = !below(conn, &store.id, &t.path, 1).await?.is_empty();
        if let Some(folder) = t.neighbourhood() {
            near.neighbour = below(conn, &store.id, folder, 2)
                .await?
                .into_iter()
                .find(|r| r.path != t.path)
                .map(snap);
        }
        around.targets.push(near);
    }
    for d in tool_dirs {
        let in_use = !below(conn, &store.id, &d, 1).await?.is_empty();
        around.tool_dirs.push((d, in_use));
    }
    Ok(probe.snapshot(around))
}

/// Up to `limit` memories below the folder `path`, without content. They sort from `path/` up
/// to `path0` ('0' follows '/'), paths using the C collation on both backends.
async fn below<C: Dao + ?Sized>(
    conn: &mut C,
    store_id: &str,
    path: &str,
    limit: i64,
) -> Result<Vec<MemoryRow>> {
    conn.memories_page(
        store_id,
        &format!("{path}0"),
        &Seek::From(format!("{path}/")),
        limit,
        false,
    )
    .await
}

/// Runs the command, loading content as it asks for it.
async fn run<C: Dao + ?Sized>(
    conn: &mut C,
    store_id: &str,
    snapshot: &Snapshot,
    loaded: Option<String>,
    command: &Command,
) -> Result<(reverie_core::memtool::ToolResult, Effects)> {
    let mut vfs = Vfs::new(snapshot);
    // A one-file snapshot comes with its content, read with it.
    if let (Some(content), [file]) = (loaded, snapshot.files.as_slice()) {
        vfs.load(&file.memory_id, content);
    }
    // Each command reads at most one file; the bound only guards against a logic error.
    for _ in 0..4 {
        match execute(&vfs, command) {
            Step::Done { result, effects } => return Ok((result, effects)),
            Step::NeedContent(id) => {
                let row = conn.memory(store_id, &id, true).await?.ok_or_else(|| {
                    Error::storage(format!("memory {id} vanished inside a transaction"))
                })?;
                vfs.load(&id, text(row.content.unwrap_or_default())?);
            }
        }
    }
    Err(Error::storage(
        "the memory tool asked for content more than once",
    ))
}

fn summary(command: &Command) -> String {
    match command {
        Command::View { path, .. } => format!("memory tool: view {path}"),
        Command::Create { path, .. } => format!("memory tool: create {path}"),
        Command::StrReplace { path, .. } => format!("memory tool: str_replace {path}"),
        Command::Insert { path, .. } => format!("memory tool: insert {path}"),
        Command::Delete { path } => format!("memory tool: delete {path}"),
        Command::Rename { old_path, new_path } => {
            format!("memory tool: rename {old_path} -> {new_path}")
        }
    }
    .chars()
    .map(|c| if c.is_control() { ' ' } else { c })
    .collect()
}

impl<B: Backend> SqlStore<B> {
    pub(crate) async fn memory_tool_impl(
        &self,
        store_id: &str,
        command: &Command,
        actor: &Actor,
    ) -> Result<ToolOutcome> {
        if command.is_read_only() {
            let mut conn = self.read().await?;
            let store = self.require_store(&mut conn, store_id).await?;
            let (snap, loaded) =
                match single_file(&mut *conn, store_id, command, store.max_memories).await? {
                    Some((one, content)) => (one, Some(content)),
                    None => (
                        snapshot(&mut *conn, store_id, store.max_memories).await?,
                        None,
                    ),
                };
            let (result, _) = run(&mut *conn, store_id, &snap, loaded, command).await?;
            return Ok(ToolOutcome {
                is_error: result.is_error,
                content: result.content,
                revision: None,
            });
        }
        let record = Record {
            actor,
            summary: summary(command),
        };
        let mut w = self.begin_write(store_id, false, 0, Some(record)).await?;
        let max = w.store.max_memories;
        let one = match single_file(&mut *w.tx, store_id, command, max).await? {
            // An edit in place touches its file only; anything else would mean the one-file
            // tree was not the store's, so the whole tree answers instead.
            Some((snap, content)) => Some(
                run(&mut *w.tx, store_id, &snap, Some(content), command).await?,
            )
            .filter(|(_, e)| e.creates.is_empty() && e.deletes.is_empty() && e.dirs.is_none()),
            None => match around_paths(&mut *w.tx, &w.store, command).await? {
                Some(snap) => Some(run(&mut *w.tx, store_id, &snap, None, command).await?),
                None => None,
            },
        };
        let (result, effects) = match one {
            Some(done) => done,
            None => {
                let snap = snapshot(&mut *w.tx, store_id, max).await?;
                run(&mut *w.tx, store_id, &snap, None, command).await?
            }
        };
        if effects.is_empty() {
            // Dropping the transaction rolls the revision bump back.
            return Ok(ToolOutcome {
                is_error: result.is_error,
                content: result.content,
                revision: None,
            });
        }
        let mut plan = Plan::default();
        for id in &effects.deletes {
            let row: MemoryRow =
                w.tx.memory(store_id, id, false)
                    .await?
                    .expect("snapshot rows exist in the transaction");
            plan.deletes.push(row);
        }
        for (id, path, content) in effects.updates {
            let row =
                w.tx.memory(store_id, &id, true)
                    .await?
                    .expect("snapshot rows exist in the transaction");
            let content = match content {
                Some(c) => c,
                None => text(row.content.clone().unwrap_or_default())?,
            };
            let path = path.unwrap_or_else(|| row.path.clone());
            plan.updates.push(Update { row, path, content });
        }
        for (path, content) in effects.creates {
            plan.creates.push(Create {
                memory_id: new_id(IdKind::Memory),
                path,
                content,
            });
        }
        if let Some(dirs) = &effects.dirs {
            w.tx.set_tool_dirs(store_id, dirs).await?;
        }
        apply(&mut w, plan, actor).await?;
        let revision = self.finish(w, actor, None).await?;
        Ok(ToolOutcome {
            is_error: result.is_error,
            content: result.content,
            revision: Some(revision),
        })
    }
}
