//! The model curator: the deterministic curator's candidates as hints, the sessions in chunks,
//! one request per chunk, every answer judged ([`super::answer`]) before the dream's stages see
//! it. The dream's token and cost limits are checked before each request is sent, answers are
//! kept by request digest so that an attempt after a conflict pays nothing for the same
//! request again, and every exchange is recorded so that the dream can be replayed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use reverie_core::curation::{CuratorRun, Exchange};
use reverie_core::dream::error_kind;

use super::{ModelClient, ModelError, ModelErrorKind, ModelReply, ModelRequest, StopReason, Usage};
use crate::curator::{Curator, CuratorError, Extraction, Known};
use crate::input::DreamInput;

/// A curator that asks a model.
#[derive(Debug)]
pub struct ModelCurator {
    client: Arc<dyn ModelClient>,
    /// Replies by request digest, kept across the attempts of a dream.
    cache: Mutex<HashMap<String, ModelReply>>,
    /// What each dream has paid for, over all its attempts: an answer reused after a
    /// conflict was paid once, and still counts.
    paid: Mutex<HashMap<String, Usage>>,
    /// Bytes of session lines per request.
    chunk_bytes: usize,
}

impl ModelCurator {
    pub fn new(client: Arc<dyn ModelClient>) -> ModelCurator {
        ModelCurator {
            client,
            cache: Mutex::new(HashMap::new()),
            paid: Mutex::new(HashMap::new()),
            chunk_bytes: super::prompt::CHUNK_BYTES,
        }
    }

    /// Requests of at most `bytes` of session lines each (at least 1,000), for a model with a
    /// small context window.
    pub fn with_chunk_bytes(mut self, bytes: usize) -> ModelCurator {
        self.chunk_bytes = bytes.max(1_000);
        self
    }
}

fn failed(e: ModelError) -> CuratorError {
    let kind = match e.kind {
        ModelErrorKind::NotConfigured => error_kind::MODEL_UNAVAILABLE,
        _ => error_kind::MODEL_FAILED,
    };
    CuratorError::new(kind, format!("the model: {e}; nothing was written"))
}

#[async_trait]
impl Curator for ModelCurator {
    fn name(&self) -> &str {
        self.client.name()
    }

    async fn extract(&self, input: &DreamInput, known: &Known) -> Result<Extraction, CuratorError> {
        let hints = crate::extract::extract(input, known);
        let chunks = super::prompt::chunks(
            input,
            known,
            &known.fixed,
            &known.sections,
            &hints,
            self.chunk_bytes,
        );
        let policy = &input.store.policy.model;
        let price = self.client.price();

        // The whole dream's input is known before anything is sent: refuse it whole when it
        // cannot fit, rather than pay for part of it.
        let estimate: u64 = chunks
            .iter()
            .map(|c| super::prompt::estimate_tokens(&c.request))
            .sum();
        if estimate > policy.input_limit() {
            return Err(CuratorError::new(
                error_kind::MODEL_BUDGET,
                format!(
                    "the sessions need about {estimate} input tokens in {} requests, over the \
                     policy's {} (model.max_input_tokens); nothing was sent or written",
                    chunks.len(),
                    policy.input_limit()
                ),
            ));
        }
        if let (Some(p), Some(max)) = (price, policy.max_cost_usd) {
            let least = p.cost(&Usage {
                input_tokens: estimate as i64,
                ..Usage::default()
            });
            if least > max.0 {
                return Err(CuratorError::new(
                    error_kind::MODEL_BUDGET,
                    format!(
                        "the sessions' input alone would cost about ${least:.4}, over the \
                         policy's ${:.4} (model.max_cost_usd); nothing was sent or written",
                        max.0
                    ),
                ));
            }
        }

        let terms: Vec<&str> = known.terms.iter().map(String::as_str).collect();
        let mut run = CuratorRun {
            curator: self.client.name().to_string(),
            ..CuratorRun::default()
        };
        let mut out = Extraction::default();
        // Every event the dream's requests have shown so far: an answer may cite what an
        // earlier part of a long session showed (the error its fix rests on).
        let mut events = std::collections::BTreeMap::new();
        for chunk in &chunks {
            // What the earlier requests proposed goes with the next, so that a session read
            // in several parts is not noted once per part (and can be corrected later).
            let (request, proposed) = super::prompt::with_proposed(&chunk.request, &out.candidates);
            let mut shown = chunk.shown.clone();
            events.extend(shown.events.clone());
            shown.events = events.clone();
            shown.proposed = proposed;
            let digest = request.digest();
            let cached = self
                .cache
                .lock()
                .expect("the cache's lock")
                .get(&digest)
                .cloned();
            let (reply, was_cached) = match cached {
                Some(r) => (r, true),
                None => {
                    let r = self.client.complete(&request).await.map_err(failed)?;
                    self.cache
                        .lock()
                        .expect("the cache's lock")
                        .insert(digest.clone(), r.clone());
                    (r, false)
                }
            };
            run.requests += 1;
            if was_cached {
                run.cached += 1;
            } else {
                let mut paid = self.paid.lock().expect("the usage's lock");
                add_usage(
                    paid.entry(input.dream_id.clone()).or_default(),
                    &reply.usage,
                );
            }
            run.exchanges.push(Exchange {
                digest,
                request: serde_json::to_value(&request).expect("requests serialize"),
                reply: serde_json::to_value(&reply).expect("replies serialize"),
                cached: was_cached,
            });
            run.usage = self
                .paid
                .lock()
                .expect("the usage's lock")
                .get(&input.dream_id)
                .cloned()
                .unwrap_or_default();
            let spent_in = (run.usage.input_tokens
                + run.usage.cache_creation_input_tokens
                + run.usage.cache_read_input_tokens) as u64;
            if spent_in > policy.input_limit() {
                return Err(CuratorError::new(
                    error_kind::MODEL_BUDGET,
                    format!(
                        "the model read {spent_in} input tokens, over the policy's {} \
                         (model.max_input_tokens); nothing was written",
                        policy.input_limit()
                    ),
                ));
            }
            if run.usage.output_tokens as u64 > policy.output_limit() {
                return Err(CuratorError::new(
                    error_kind::MODEL_BUDGET,
                    format!(
                        "the model wrote {} output tokens, over the policy's {} \
                         (model.max_output_tokens); nothing was written",
                        run.usage.output_tokens,
                        policy.output_limit()
                    ),
                ));
            }
            if let (Some(p), Some(max)) = (price, policy.max_cost_usd) {
                let cost = p.cost(&run.usage);
                if cost > max.0 {
                    return Err(CuratorError::new(
                        error_kind::MODEL_BUDGET,
                        format!(
                            "the dream has cost ${cost:.4}, over the policy's ${:.4} \
                             (model.max_cost_usd); nothing was written",
                            max.0
                        ),
                    ));
                }
            }
            match reply.stop {
                StopReason::MaxTokens => {
                    return Err(CuratorError::new(
                        error_kind::MODEL_FAILED,
                        format!(
                            "the model's answer was cut at {} output tokens (max_tokens); \
                             nothing was written",
                            request.max_tokens
                        ),
                    ));
                }
                StopReason::Refusal => {
                    return Err(CuratorError::new(
                        error_kind::MODEL_FAILED,
                        "the model declined to answer (a refusal); nothing was written",
                    ));
                }
                StopReason::Complete | StopReason::Other => {}
            }
            let judged = super::answer::judge(
                &reply.output,
                &shown,
                &hints,
                &out.candidates,
                input,
                &terms,
            )
            .map_err(|e| {
                CuratorError::new(
                    error_kind::MODEL_FAILED,
                    format!("the model's answer: {e}; nothing was written"),
                )
            })?;
            for (k, c) in judged.revised {
                out.candidates[k] = c;
            }
            let mut gone = judged.withdrawn;
            gone.sort_unstable();
            gone.dedup();
            for k in gone.into_iter().rev() {
                out.candidates.remove(k);
            }
            out.candidates.extend(judged.candidates);
            out.archive.extend(judged.archive);
            run.rejected.extend(judged.rejected);
        }
        run.cost_usd = price.map(|p| p.cost(&run.usage));
        out.run = Some(run);
        Ok(out)
    }

    async fn merge(&self, _texts: &[&str]) -> Result<Option<String>, CuratorError> {
        // The model merges through its operations, where the guard can judge each one.
        Ok(None)
    }
}

fn add_usage(total: &mut Usage, u: &Usage) {
    total.input_tokens += u.input_tokens;
    total.output_tokens += u.output_tokens;
    total.cache_creation_input_tokens += u.cache_creation_input_tokens;
    total.cache_read_input_tokens += u.cache_read_input_tokens;
}

/// A model that answers from a dream's recorded exchanges, by request digest: the dream runs
/// again exactly as it did, without a model. A request the record does not hold (the input
/// changed) is an error naming it.
#[derive(Debug, Clone)]
pub struct Replay {
    name: String,
    replies: HashMap<String, ModelReply>,
}

impl Replay {
    /// From the exchanges of a dream's changeset; `name` is the curator that ran.
    pub fn new(name: &str, exchanges: &[Exchange]) -> Result<Replay, String> {
        let mut replies = HashMap::new();
        for (i, x) in exchanges.iter().enumerate() {
            let reply: ModelReply = serde_json::from_value(x.reply.clone())
                .map_err(|e| format!("exchange {}: its reply cannot be read: {e}", i + 1))?;
            replies.insert(x.digest.clone(), reply);
        }
        Ok(Replay {
            name: name.to_string(),
            replies,
        })
    }
}

#[async_trait]
impl ModelClient for Replay {
    fn name(&self) -> &str {
        &self.name
    }

    fn price(&self) -> Option<super::Price> {
        None
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelReply, ModelError> {
        // Nothing is spent on a replay: the recorded answer, at no cost.
        let reply = self
            .replies
            .get(&request.digest())
            .cloned()
            .map(|r| ModelReply {
                usage: Usage::default(),
                ..r
            });
        reply.ok_or_else(|| {
            ModelError::new(
                ModelErrorKind::NotConfigured,
                format!(
                    "the recorded exchanges hold no reply to request {} (the sessions or the \
                     store are not what the recorded dream read)",
                    &request.digest()[..12]
                ),
            )
        })
    }
}
