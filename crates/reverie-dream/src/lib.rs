//! The dream runner: the stages of `reverie-curate` between reading a store and committing to
//! it.
//!
//! [`Runner::run`] claims a pending dream, reads the store at one revision and the dream's
//! sessions (orient), runs the pure pipeline (gather, consolidate, budget, guard), and commits
//! the result in one transaction (commit). When the store moved meanwhile where the result
//! writes, the commit is refused and the runner dreams again on the new state — a write made
//! during a dream is never lost — up to [`MAX_ATTEMPTS`] times, then fails with `conflict`.
//! A runner says it is alive while it works; a dream whose runner died is failed as
//! `runner_lost` by the next runner that looks, and the store is left exactly as it was.

pub mod curve;
pub mod drift;
pub mod review;
pub mod schedule;

use std::sync::Arc;
use std::time::Duration;

use reverie_core::curation::guard_digest;
use reverie_core::dream::{Dream, DreamError, DreamStatus, NewDream, error_kind};
use reverie_core::{Error, Result};
use reverie_curate::{Curator, DreamInput, MemoryText, Serving, SessionInput, StoreSnapshot};
use reverie_store::{DreamResult, DreamWrite, Store};

/// Times a dream is computed again when the store keeps moving under it.
pub const MAX_ATTEMPTS: usize = 5;

/// How long a runner may stay silent before its dream is taken for lost.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// Events read from the store at a time: each page is condensed to what the curator reads
/// before the next is loaded, so a page of raw events is all a dream holds beyond that.
const PAGE: i64 = 2_000;

/// Where a run's time went, for benchmarks (the last attempt's stages).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Reading the store and the sessions.
    pub orient: Duration,
    /// The pure pipeline: gather, consolidate, budget, guard.
    pub pipeline: Duration,
    /// The commit transaction.
    pub commit: Duration,
    /// How many times the dream was computed (more than one when the store moved).
    pub attempts: usize,
}

/// Chooses the curator for a dream from the model it names (`reverie-model` resolves names to
/// providers; the runner only asks).
pub trait CuratorSource: Send + Sync + std::fmt::Debug {
    /// The curator for `model`, or why none can serve it.
    fn curator(&self, model: &str) -> std::result::Result<Arc<dyn Curator>, String>;

    /// Whether a dream whose model no provider serves is dreamed by the deterministic
    /// curator instead (recorded on the dream), rather than refused.
    fn falls_back(&self) -> bool;

    /// The model of a dream that names none (a scheduled dream of a store whose policy names
    /// none).
    fn default_model(&self) -> String {
        reverie_core::dream::DETERMINISTIC_MODEL.to_string()
    }
}

/// One curator for every dream, whatever model it names (tests, benchmarks, the demo).
#[derive(Debug, Clone)]
pub struct Fixed(pub Arc<dyn Curator>);

impl CuratorSource for Fixed {
    fn curator(&self, _model: &str) -> std::result::Result<Arc<dyn Curator>, String> {
        Ok(self.0.clone())
    }

    fn falls_back(&self) -> bool {
        true
    }
}

/// Runs dreams against a store with a curator.
#[derive(Debug, Clone)]
pub struct Runner {
    store: Arc<dyn Store>,
    curators: Arc<dyn CuratorSource>,
    /// `host:pid`, recorded on the dreams this runner runs.
    name: String,
    lease: Duration,
}

impl Runner {
    /// A runner that dreams every dream with `curator`.
    pub fn new(store: Arc<dyn Store>, curator: Arc<dyn Curator>) -> Runner {
        Runner::with_curators(store, Arc::new(Fixed(curator)))
    }

    /// A runner that chooses each dream's curator from the model it names.
    pub fn with_curators(store: Arc<dyn Store>, curators: Arc<dyn CuratorSource>) -> Runner {
        Runner {
            store,
            curators,
            name: runner_name(),
            lease: DEFAULT_LEASE,
        }
    }

    /// This runner's name (`host:pid`).
    /// The store this runner dreams in.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The model of a dream that names none.
    pub fn default_model(&self) -> String {
        self.curators.default_model()
    }

    /// Validates and records a new pending dream. A model no provider serves is refused here
    /// (naming how to configure one) unless the curators fall back.
    pub async fn create(&self, new: NewDream) -> Result<Dream> {
        let valid = new.validate()?;
        if let Err(why) = self.curators.curator(&valid.model.id)
            && !self.curators.falls_back()
        {
            return Err(Error::invalid("model", why));
        }
        self.recover().await?;
        self.store.create_dream(valid).await
    }

    /// Fails running dreams whose runner is gone: silent for longer than the lease, or a
    /// process of this host that no longer exists.
    pub async fn recover(&self) -> Result<Vec<Dream>> {
        let host = host_name();
        let now = reverie_core::Timestamp::now().micros();
        let lease = self.lease.as_micros() as i64;
        let mut failed = Vec::new();
        for r in self.store.running_dreams().await? {
            let silent = r.heartbeat_at.is_none_or(|t| now - t.micros() > lease);
            let dead_here = r
                .runner
                .as_deref()
                .and_then(|n| n.rsplit_once(':'))
                .is_some_and(|(h, pid)| h == host && !process_alive(pid));
            if !silent && !dead_here {
                continue;
            }
            let d = self
                .store
                .fail_dream(
                    &r.dream.id,
                    r.runner.as_deref(),
                    DreamError {
                        kind: error_kind::RUNNER_LOST.to_string(),
                        message: format!(
                            "the process running it ({}) stopped without finishing; the store is as it was",
                            r.runner.as_deref().unwrap_or("unknown")
                        ),
                    },
                )
                .await?;
            failed.push(d);
        }
        Ok(failed)
    }

    /// Runs a pending dream to its end: completed (applied or proposed), failed, or canceled.
    pub async fn run(&self, dream_id: &str) -> Result<Dream> {
        Ok(self.run_timed(dream_id).await?.0)
    }

    /// [`Self::run`], also telling where the time went.
    pub async fn run_timed(&self, dream_id: &str) -> Result<(Dream, Timings)> {
        let mut timings = Timings::default();
        let d = self.run_inner(dream_id, &mut timings).await?;
        Ok((d, timings))
    }

    async fn run_inner(&self, dream_id: &str, timings: &mut Timings) -> Result<Dream> {
        let dream = self.store.claim_dream(dream_id, &self.name).await?;
        let heartbeat = self.heartbeat(dream_id);
        // The curator is chosen once per dream, so that its answers are kept across attempts.
        let outcome = match self.choose(&dream.model.id) {
            Ok(chosen) => self.attempts(&dream, &chosen, timings).await,
            Err(why) => Err(Failed::Pipeline(reverie_curate::Failure::new(
                error_kind::MODEL_UNAVAILABLE,
                why,
            ))),
        };
        heartbeat.abort();
        match outcome {
            Ok(d) => Ok(d),
            Err(e) => {
                let current = self.store.get_dream(dream_id).await?;
                if current.status.is_final() {
                    return Ok(current);
                }
                let (kind, message) = match &e {
                    Failed::Pipeline(f) => (f.kind.to_string(), f.message.clone()),
                    Failed::Store(Error::Conflict(m)) => {
                        (error_kind::CONFLICT.to_string(), m.clone())
                    }
                    Failed::Store(e @ Error::StoreFull { .. }) => (
                        error_kind::STORE_FULL.to_string(),
                        format!(
                            "{e}; raise the store's max_memories, or dream into a new store \
                             (output create_new)"
                        ),
                    ),
                    Failed::Store(e) => (error_kind::INTERNAL.to_string(), e.to_string()),
                };
                self.store
                    .fail_dream(dream_id, Some(&self.name), DreamError { kind, message })
                    .await
            }
        }
    }

    /// The dream's curator: the one its model names, or the deterministic one with a note
    /// saying why when no provider serves the model and the curators fall back.
    fn choose(&self, model: &str) -> std::result::Result<Chosen, String> {
        match self.curators.curator(model) {
            Ok(curator) => Ok(Chosen {
                curator,
                fallback: None,
            }),
            Err(why) if self.curators.falls_back() => Ok(Chosen {
                curator: Arc::new(reverie_curate::Deterministic),
                fallback: Some(reverie_core::curation::CuratorRun {
                    curator: reverie_core::dream::DETERMINISTIC_MODEL.to_string(),
                    requested: Some(model.to_string()),
                    note: Some(format!("{why}; the deterministic curator ran instead")),
                    ..Default::default()
                }),
            }),
            Err(why) => Err(why),
        }
    }

    async fn attempts(
        &self,
        dream: &Dream,
        chosen: &Chosen,
        timings: &mut Timings,
    ) -> std::result::Result<Dream, Failed> {
        let mut last = None;
        for _ in 0..MAX_ATTEMPTS {
            timings.attempts += 1;
            let started = std::time::Instant::now();
            if self.store.get_dream(&dream.id).await?.status == DreamStatus::Canceled {
                return Ok(self.store.get_dream(&dream.id).await?);
            }
            let (input, digest) = self.orient(dream).await?;
            self.store
                .set_dream_base(&dream.id, &self.name, input.store.revision)
                .await?;
            timings.orient = started.elapsed();
            let started = std::time::Instant::now();
            // A dream canceled while its curator works (a model request can take minutes)
            // stops there: the pipeline's future is dropped, and with it the request in
            // flight.
            let mut output = tokio::select! {
                out = reverie_curate::dream(&input, chosen.curator.as_ref()) => {
                    out.map_err(Failed::Pipeline)?
                }
                () = self.canceled(&dream.id) => {
                    return Ok(self.store.get_dream(&dream.id).await?);
                }
            };
            if output.changeset.curator.is_none() {
                output.changeset.curator = chosen.fallback.clone();
            }
            timings.pipeline = started.elapsed();
            let result = result_of(input.store.revision, digest, output);
            let started = std::time::Instant::now();
            let committed = self.store.finish_dream(&dream.id, &self.name, result).await;
            timings.commit = started.elapsed();
            match committed {
                Ok(d) => return Ok(d),
                Err(Error::Conflict(m)) => {
                    let now = self.store.get_dream(&dream.id).await?;
                    if now.status.is_final() {
                        return Ok(now);
                    }
                    tracing::info!(dream = %dream.id, "the store moved under the dream ({m}); dreaming again");
                    last = Some(m);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Failed::Store(Error::Conflict(format!(
            "the store kept changing under the dream ({} attempts); the last conflict: {}",
            MAX_ATTEMPTS,
            last.unwrap_or_default()
        ))))
    }

    /// Reads what the dream needs: the store at one revision, and its sessions.
    async fn orient(&self, dream: &Dream) -> Result<(DreamInput, String)> {
        let state = self.store.store_state(dream.store_id()).await?;
        let digest = guard_digest(&state.policy, &state.entries);
        let mut sessions = Vec::new();
        for id in dream.session_ids() {
            let session = self.store.get_session(id).await?;
            let mut events = Vec::new();
            let mut condenser = reverie_curate::input::Condenser::new();
            let mut after = -1;
            loop {
                let page = self.store.session_events(id, after, PAGE).await?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                let n = page.len();
                // Each page condensed as it arrives: the dream holds what the curator reads.
                events.extend(page.into_iter().filter_map(|e| condenser.condense(e)));
                if n < PAGE as usize {
                    break;
                }
            }
            events.shrink_to_fit();
            sessions.push(SessionInput { session, events });
        }
        // In time order; sessions that started together in the order of their own names, not
        // of their ids (which depend on when they were ingested), so that the same sessions
        // make the same requests to a model curator — the key of its cache and of a replay.
        sessions.sort_by(|a, b| {
            let key = |s: &SessionInput| {
                (
                    s.session.started_at,
                    s.session.source_session_id.clone(),
                    s.session.source_path.clone(),
                    s.session.id.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        // Entries served by recall or context in these sessions, for the outcome counters.
        let ids: Vec<String> = sessions.iter().map(|s| s.session.id.clone()).collect();
        let servings = self
            .store
            .servings_in(&ids)
            .await?
            .into_iter()
            .map(|(session_id, entry_id)| Serving {
                session_id,
                entry_id,
            })
            .collect();
        let input = DreamInput {
            dream_id: dream.id.clone(),
            store: snapshot(state),
            sessions,
            servings,
            instructions: dream.instructions.clone(),
        };
        Ok((input, digest))
    }

    /// Resolves when the dream is canceled, polling once a second; never otherwise.
    async fn canceled(&self, dream_id: &str) {
        loop {
            tokio::time::sleep(CANCEL_POLL).await;
            match self.store.get_dream(dream_id).await {
                Ok(d) if d.status == DreamStatus::Canceled => return,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(dream = %dream_id, "cannot read the dream's status: {e}");
                }
            }
        }
    }

    /// Says the runner is alive every third of the lease until aborted.
    fn heartbeat(&self, dream_id: &str) -> tokio::task::JoinHandle<()> {
        let store = self.store.clone();
        let (id, name, every) = (dream_id.to_string(), self.name.clone(), self.lease / 3);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match store.heartbeat_dream(&id, &name).await {
                    Ok(DreamStatus::Running) => {}
                    _ => break,
                }
            }
        })
    }
}

/// How often a dream whose curator is still working checks whether it was canceled.
const CANCEL_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// A dream's curator, and the record of a fallback.
struct Chosen {
    curator: Arc<dyn Curator>,
    fallback: Option<reverie_core::curation::CuratorRun>,
}

/// Why an attempt failed.
#[derive(Debug, thiserror::Error)]
enum Failed {
    #[error(transparent)]
    Pipeline(reverie_curate::Failure),
    #[error(transparent)]
    Store(#[from] Error),
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

fn runner_name() -> String {
    format!("{}:{}", host_name(), std::process::id())
}

/// Whether a process of this host exists (Linux's /proc; elsewhere assumed alive, and the
/// lease decides).
fn process_alive(pid: &str) -> bool {
    if !std::path::Path::new("/proc/self").exists() {
        return true;
    }
    pid.parse::<u32>()
        .is_ok_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists())
}

/// The store as a dream reads it.
pub(crate) fn snapshot(state: reverie_store::StoreState) -> StoreSnapshot {
    StoreSnapshot {
        store_id: state.store.id.clone(),
        revision: state.store.revision,
        memories: state
            .memories
            .into_iter()
            .map(|m| MemoryText {
                id: m.id,
                path: m.path,
                content: m.content.unwrap_or_default(),
            })
            .collect(),
        entries: state.entries,
        policy: state.policy,
    }
}

/// The store's form of a dream's output, computed from `base_revision` under `guard_digest`.
pub(crate) fn result_of(
    base_revision: i64,
    guard_digest: String,
    output: reverie_curate::pipeline::DreamOutput,
) -> DreamResult {
    DreamResult {
        base_revision,
        guard_digest,
        writes: output
            .writes
            .into_iter()
            .map(|w| DreamWrite {
                memory_id: w.memory_id,
                path: w.path,
                content: w.content,
            })
            .collect(),
        entries: output.entries,
        changeset: output.changeset,
    }
}
