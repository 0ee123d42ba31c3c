//! The store seen as the reference's directory tree, with the POSIX calls the reference makes
//! (`lstat`, `mkdir`, `open(O_CREAT|O_EXCL)`, `unlink`, `rename`, `rmtree`) and the errno each
//! returns, checked in the order the Linux kernel checks them.
//!
//! Files are memories; directories are the prefixes of memory paths plus the empty directories
//! the tool made (kept beside the store, as a filesystem would keep them). Every node remembers
//! the memory it came from, so that after a command the tree can be compared with the snapshot
//! it was built from and the difference written back as memory versions — a rename stays a
//! rename and keeps the memory's id.

use std::collections::{BTreeMap, BTreeSet};

use super::names::{decode_segment, encode_segment, is_canonical};
use super::python::Errno;

/// Longest file name, in bytes, the reference's filesystem accepts (Linux `NAME_MAX`).
pub const NAME_MAX: usize = 255;
/// `st_size` of a directory on the reference's filesystem (one ext4 block).
pub const DIR_SIZE: u64 = 4096;

/// A path below `/memories`, as tool names.
pub type Components = Vec<String>;

/// One memory as the snapshot holds it (content is loaded on demand).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    pub memory_id: String,
    pub path: String,
    pub size: u64,
}

/// What the tool needs of a store to run one command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub files: Vec<SnapshotFile>,
    /// Empty directories the tool made, as memory-path prefixes without the trailing `/`.
    pub dirs: Vec<String>,
    pub max_memories: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileNode {
    pub memory_id: Option<String>,
    pub size: u64,
    /// Loaded content, or `None` until a command reads it.
    pub content: Option<String>,
    pub dirty: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Dir,
    File(FileNode),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Dir,
    File,
}

/// The tree: tool-name paths to nodes, and each node's stored segment.
#[derive(Debug, Clone)]
pub struct Vfs {
    nodes: BTreeMap<Components, Node>,
    /// The memory-path segment of each node's last component.
    segs: BTreeMap<Components, String>,
    initial: BTreeMap<String, String>,
    initial_dirs: BTreeSet<String>,
    pub(crate) max_memories: i64,
}

/// Changes a command made, in the store's terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    pub creates: Vec<(String, String)>,
    /// `(memory_id, new path if moved, new content if changed)`.
    pub updates: Vec<(String, Option<String>, Option<String>)>,
    pub deletes: Vec<String>,
    /// The complete set of tool-made empty directories after the command, when it changed.
    pub dirs: Option<BTreeSet<String>>,
}

impl Effects {
    /// True when the command changed nothing.
    pub fn is_empty(&self) -> bool {
        self.creates.is_empty()
            && self.updates.is_empty()
            && self.deletes.is_empty()
            && self.dirs.is_none()
    }
}

fn split_store_path(path: &str) -> Vec<&str> {
    path.trim_start_matches('/').split('/').collect()
}

impl Vfs {
    /// Builds the tree of a snapshot. Paths whose tool names collide with another node (a
    /// non-canonical `%41` beside a canonical `%2541`, or a file where a directory must be) are
    /// left out, canonical and earlier paths first.
    pub fn new(snapshot: &Snapshot) -> Self {
        let mut vfs = Vfs {
            nodes: BTreeMap::new(),
            segs: BTreeMap::new(),
            initial: BTreeMap::new(),
            initial_dirs: snapshot.dirs.iter().cloned().collect(),
            max_memories: snapshot.max_memories,
        };
        let mut files: Vec<&SnapshotFile> = snapshot.files.iter().collect();
        files.sort_by_key(|f| {
            (
                !split_store_path(&f.path).iter().all(|s| is_canonical(s)),
                f.path.clone(),
            )
        });
        let mut dirs: Vec<&String> = snapshot.dirs.iter().collect();
        dirs.sort();
        for dir in dirs {
            vfs.insert_chain(dir, None);
        }
        for f in files {
            let node = FileNode {
                memory_id: Some(f.memory_id.clone()),
                size: f.size,
                content: None,
                dirty: false,
            };
            if vfs.insert_chain(&f.path, Some(node)) {
                vfs.initial.insert(f.memory_id.clone(), f.path.clone());
            }
        }
        // Compare later against what this tree would store, not against the raw rows, so that
        // a read-only command never reports a change.
        vfs.initial_dirs = vfs.explicit_dirs();
        vfs
    }

    /// Inserts the directories leading to `path` and the node itself; false on a collision.
    fn insert_chain(&mut self, path: &str, file: Option<FileNode>) -> bool {
        let segs = split_store_path(path);
        let names: Components = segs.iter().map(|s| decode_segment(s)).collect();
        for i in 1..names.len() {
            match self.nodes.get(&names[..i]) {
                Some(Node::File(_)) => return false,
                Some(Node::Dir)
                    if self.segs.get(&names[..i]).map(String::as_str) != Some(segs[i - 1]) =>
                {
                    return false;
                }
                _ => {}
            }
        }
        if let Some(existing) = self.nodes.get(&names) {
            let same_seg = self.segs.get(&names).map(String::as_str) == segs.last().copied();
            return file.is_none() && matches!(existing, Node::Dir) && same_seg;
        }
        for i in 1..names.len() {
            if !self.nodes.contains_key(&names[..i]) {
                self.nodes.insert(names[..i].to_vec(), Node::Dir);
                self.segs
                    .insert(names[..i].to_vec(), segs[i - 1].to_string());
            }
        }
        let last = segs.last().map(|s| s.to_string()).unwrap_or_default();
        self.nodes
            .insert(names.clone(), file.map_or(Node::Dir, Node::File));
        self.segs.insert(names, last);
        true
    }

    pub(crate) fn kind(&self, p: &[String]) -> Option<Kind> {
        if p.is_empty() {
            return Some(Kind::Dir);
        }
        self.nodes.get(p).map(|n| match n {
            Node::Dir => Kind::Dir,
            Node::File(_) => Kind::File,
        })
    }

    pub(crate) fn file(&self, p: &[String]) -> Option<&FileNode> {
        match self.nodes.get(p) {
            Some(Node::File(f)) => Some(f),
            _ => None,
        }
    }

    pub(crate) fn file_mut(&mut self, p: &[String]) -> Option<&mut FileNode> {
        match self.nodes.get_mut(p) {
            Some(Node::File(f)) => Some(f),
            _ => None,
        }
    }

    /// Sets the content of the file with this memory id, read from the store.
    pub fn load(&mut self, memory_id: &str, content: String) {
        for node in self.nodes.values_mut() {
            if let Node::File(f) = node
                && f.memory_id.as_deref() == Some(memory_id)
            {
                f.content = Some(content);
                return;
            }
        }
    }

    /// The kernel's path walk: every component before the last must be an existing directory;
    /// names longer than `NAME_MAX` fail as they are reached. Returns the kind of the last
    /// component, or `None` when it does not exist.
    pub(crate) fn lookup(&self, p: &[String]) -> Result<Option<Kind>, Errno> {
        for i in 0..p.len() {
            match self.kind(&p[..i]) {
                Some(Kind::Dir) => {}
                Some(Kind::File) => return Err(Errno::NotDir),
                None => return Err(Errno::NoEnt),
            }
            if p[i].len() > NAME_MAX {
                return Err(Errno::NameTooLong);
            }
        }
        Ok(self.kind(p))
    }

    /// `stat`/`lstat` (there are no symlinks).
    pub(crate) fn stat(&self, p: &[String]) -> Result<Kind, Errno> {
        self.lookup(p)?.ok_or(Errno::NoEnt)
    }

    /// The parent walk of `rename`: the parent must resolve to a directory.
    fn parent_dir(&self, p: &[String]) -> Result<(), Errno> {
        match self.lookup(&p[..p.len() - 1])? {
            Some(Kind::Dir) => Ok(()),
            Some(Kind::File) => Err(Errno::NotDir),
            None => Err(Errno::NoEnt),
        }
    }

    /// `mkdir`.
    pub(crate) fn mkdir(&mut self, p: &[String]) -> Result<(), Errno> {
        if self.lookup(p)?.is_some() {
            return Err(Errno::Exist);
        }
        self.nodes.insert(p.to_vec(), Node::Dir);
        self.segs
            .insert(p.to_vec(), encode_segment(&p[p.len() - 1]));
        Ok(())
    }

    /// `open(O_CREAT | O_EXCL | O_WRONLY)` and a write of `content`.
    pub(crate) fn create_file(&mut self, p: &[String], content: String) -> Result<(), Errno> {
        if self.lookup(p)?.is_some() {
            return Err(Errno::Exist);
        }
        let node = FileNode {
            memory_id: None,
            size: content.len() as u64,
            content: Some(content),
            dirty: true,
        };
        self.nodes.insert(p.to_vec(), Node::File(node));
        self.segs
            .insert(p.to_vec(), encode_segment(&p[p.len() - 1]));
        Ok(())
    }

    /// Replaces a file's content (the reference's atomic write).
    pub(crate) fn write_file(&mut self, p: &[String], content: String) {
        if let Some(f) = self.file_mut(p) {
            f.size = content.len() as u64;
            f.content = Some(content);
            f.dirty = true;
        }
    }

    /// `unlink`.
    pub(crate) fn unlink(&mut self, p: &[String]) -> Result<(), Errno> {
        match self.lookup(p)? {
            Some(Kind::File) => {
                self.nodes.remove(p);
                self.segs.remove(p);
                Ok(())
            }
            Some(Kind::Dir) => Err(Errno::IsDir),
            None => Err(Errno::NoEnt),
        }
    }

    fn subtree(&self, p: &[String]) -> Vec<Components> {
        self.nodes
            .range(p.to_vec()..)
            .take_while(|(k, _)| k.starts_with(p))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// `shutil.rmtree`: the directory and everything below it.
    pub(crate) fn rmtree(&mut self, p: &[String]) {
        for k in self.subtree(p) {
            self.nodes.remove(&k);
            self.segs.remove(&k);
        }
    }

    /// `rename(2)`.
    pub(crate) fn rename(&mut self, old: &[String], new: &[String]) -> Result<(), Errno> {
        self.parent_dir(old)?;
        self.parent_dir(new)?;
        if old[old.len() - 1].len() > NAME_MAX {
            return Err(Errno::NameTooLong);
        }
        let Some(old_kind) = self.kind(old) else {
            return Err(Errno::NoEnt);
        };
        if new[new.len() - 1].len() > NAME_MAX {
            return Err(Errno::NameTooLong);
        }
        if old == new {
            return Ok(());
        }
        if old_kind == Kind::Dir && new.starts_with(old) {
            return Err(Errno::Inval);
        }
        match (old_kind, self.kind(new)) {
            (_, None) => {}
            (Kind::File, Some(Kind::File)) => {
                self.unlink(new)?;
            }
            (Kind::File, Some(Kind::Dir)) => return Err(Errno::IsDir),
            (Kind::Dir, Some(Kind::File)) => return Err(Errno::NotDir),
            (Kind::Dir, Some(Kind::Dir)) => {
                if self.subtree(new).len() > 1 {
                    return Err(Errno::NotEmpty);
                }
                self.rmtree(new);
            }
        }
        for k in self.subtree(old) {
            let node = self.nodes.remove(&k).expect("subtree keys exist");
            let seg = self.segs.remove(&k).expect("every node has a segment");
            let mut moved = new.to_vec();
            moved.extend_from_slice(&k[old.len()..]);
            let seg = if k.len() == old.len() {
                encode_segment(&new[new.len() - 1])
            } else {
                seg
            };
            self.nodes.insert(moved.clone(), node);
            self.segs.insert(moved, seg);
        }
        Ok(())
    }

    /// Direct children of a directory, in name order.
    pub(crate) fn children(&self, p: &[String]) -> Vec<(String, Kind, u64)> {
        self.nodes
            .range(p.to_vec()..)
            .take_while(|(k, _)| k.starts_with(p))
            .filter(|(k, _)| k.len() == p.len() + 1)
            .map(|(k, n)| match n {
                Node::Dir => (k[p.len()].clone(), Kind::Dir, DIR_SIZE),
                Node::File(f) => (k[p.len()].clone(), Kind::File, f.size),
            })
            .collect()
    }

    /// The memory path a node is (or would be) stored at.
    pub(crate) fn store_path(&self, p: &[String]) -> String {
        let mut path = String::new();
        for i in 1..=p.len() {
            path.push('/');
            match self.segs.get(&p[..i]) {
                Some(seg) => path.push_str(seg),
                None => path.push_str(&encode_segment(&p[i - 1])),
            }
        }
        path
    }

    /// Files in the tree.
    pub(crate) fn file_count(&self) -> usize {
        self.nodes
            .values()
            .filter(|n| matches!(n, Node::File(_)))
            .count()
    }

    /// The difference between the snapshot and the tree, as store changes.
    pub fn effects(&self) -> Effects {
        let mut fx = Effects::default();
        let mut seen = BTreeSet::new();
        for (k, node) in &self.nodes {
            let Node::File(f) = node else { continue };
            let path = self.store_path(k);
            match &f.memory_id {
                None => fx
                    .creates
                    .push((path, f.content.clone().unwrap_or_default())),
                Some(id) => {
                    seen.insert(id.clone());
                    let moved = self.initial.get(id) != Some(&path);
                    let content = if f.dirty { f.content.clone() } else { None };
                    if moved || content.is_some() {
                        fx.updates
                            .push((id.clone(), moved.then_some(path), content));
                    }
                }
            }
        }
        fx.deletes = self
            .initial
            .keys()
            .filter(|id| !seen.contains(*id))
            .cloned()
            .collect();
        let dirs = self.explicit_dirs();
        if dirs != self.initial_dirs {
            fx.dirs = Some(dirs);
        }
        fx
    }

    /// Empty directories: the ones nothing below implies, which must be kept beside the store.
    fn explicit_dirs(&self) -> BTreeSet<String> {
        let mut implied = BTreeSet::new();
        for k in self.nodes.keys() {
            for i in 1..k.len() {
                implied.insert(k[..i].to_vec());
            }
        }
        self.nodes
            .iter()
            .filter(|(k, n)| matches!(n, Node::Dir) && !implied.contains(*k))
            .map(|(k, _)| self.store_path(k))
            .collect()
    }
}

impl Vfs {
    /// Every node strictly below `p`.
    pub(crate) fn descendants(&self, p: &[String]) -> Vec<Components> {
        self.subtree(p)
            .into_iter()
            .filter(|k| k.len() > p.len())
            .collect()
    }
}
