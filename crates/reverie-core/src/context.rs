//! Context: what an agent should read at the start of a session, within a token budget.
//!
//! In order: every glossary entry whose term the query names (always, whatever the budget
//! pressure: a term the agent is asked about and misreads costs more than any budget saves),
//! the pinned entries, the index, then the entries most relevant to the query, best first,
//! while they fit. What did not fit is counted, never silently dropped from the report.
//!
//! Tokens are counted with OpenAI's `o200k_base` encoding times a safety factor. No tokenizer
//! of current Claude models can run offline; o200k is a close, public stand-in, and the factor
//! (default [`DEFAULT_SAFETY`]) covers the difference, so that a context counted to fit does
//! fit.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::search::Recalled;

/// Default safety factor on o200k counts.
pub const DEFAULT_SAFETY: f64 = 1.2;
/// Default budget, in tokens.
pub const DEFAULT_BUDGET: usize = 4000;

/// Counts tokens of a text.
pub trait TokenCounter {
    fn count(&self, text: &str) -> usize;
}

/// `o200k_base`, loaded once per process.
#[derive(Debug, Clone, Copy, Default)]
pub struct O200k;

impl TokenCounter for O200k {
    fn count(&self, text: &str) -> usize {
        static BPE: OnceLock<tiktoken_rs::CoreBPE> = OnceLock::new();
        BPE.get_or_init(|| tiktoken_rs::o200k_base().expect("the o200k ranks are built in"))
            .encode_ordinary(text)
            .len()
    }
}

/// What goes into a context, gathered by the caller from a store.
#[derive(Debug, Clone, Default)]
pub struct ContextInput {
    pub query: Option<String>,
    /// The index memory: its path and content.
    pub index: Option<(String, String)>,
    /// Pinned entries, in the order to show them.
    pub pinned: Vec<Recalled>,
    /// Glossary entries (`**term**: definition`), every one the store has.
    pub glossary: Vec<Recalled>,
    /// Entries relevant to the query, best first.
    pub relevant: Vec<Recalled>,
    /// The budget, in (safety-scaled) tokens.
    pub budget: usize,
    /// The factor o200k counts are multiplied by.
    pub safety: f64,
}

/// Which part of the context an item is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Glossary,
    Pinned,
    Index,
    Relevant,
}

/// One thing the context shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub part: Part,
    pub path: String,
    pub section: Vec<String>,
    pub text: String,
    /// The entry's id, when curation knows it.
    pub entry_id: Option<String>,
    /// Its (safety-scaled) tokens as rendered.
    pub tokens: usize,
}

/// A rendered context and its accounting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Context {
    /// The markdown the agent reads.
    pub text: String,
    /// Its tokens: o200k of `text` times the safety factor, rounded up.
    pub tokens: usize,
    pub budget: usize,
    pub safety: f64,
    pub items: Vec<Item>,
    /// Index lines left out to fit the budget.
    pub index_lines_left_out: usize,
    /// Relevant entries left out to fit the budget.
    pub relevant_left_out: usize,
    /// The glossary entries the query calls for (and pinned entries) alone exceed the budget:
    /// they are all there anyway.
    pub over_budget: bool,
}

impl ContextInput {
    pub fn validate(&self) -> Result<()> {
        if self.budget == 0 {
            return Err(Error::invalid("budget", "must be at least 1 token"));
        }
        if !(1.0..=4.0).contains(&self.safety) {
            return Err(Error::invalid(
                "safety",
                format!("must be between 1.0 and 4.0, got {}", self.safety),
            ));
        }
        if let Some(q) = &self.query
            && q.len() > crate::search::MAX_QUERY_BYTES
        {
            return Err(Error::invalid(
                "query",
                format!(
                    "is {} bytes, over the {} allowed",
                    q.len(),
                    crate::search::MAX_QUERY_BYTES
                ),
            ));
        }
        Ok(())
    }
}

/// Whether the query names `term`: its words appear in the query's words, in order and
/// adjacent, ignoring case.
pub fn names_term(query_words: &[String], term: &str) -> bool {
    let term = crate::search::words(term);
    !term.is_empty()
        && query_words
            .windows(term.len())
            .any(|w| w == term.as_slice())
}

/// Renders the context: glossary entries the query names, pinned entries, the index, the
/// relevant entries, each part under its heading, within the budget.
pub fn render(input: &ContextInput, counter: &dyn TokenCounter) -> Result<Context> {
    input.validate()?;
    let scaled = |n: usize| (n as f64 * input.safety).ceil() as usize;
    let cost = |text: &str| scaled(counter.count(text));

    let query_words = input
        .query
        .as_deref()
        .map(crate::search::words)
        .unwrap_or_default();
    let mut items: Vec<Item> = Vec::new();
    let mut shown: BTreeSet<(String, String)> = BTreeSet::new();
    let mut used = 0usize;
    let mut out = String::new();

    let heading = |title: &str| format!("## {title}\n\n");
    let line = |r: &Recalled| {
        let mut s = format!("- {}", r.text.replace('\n', "\n  "));
        s.push_str(&format!(" _({}", r.path));
        if !r.section.is_empty() {
            s.push_str(&format!(" § {}", r.section.join(" › ")));
        }
        s.push_str(")_\n");
        s
    };
    let push_part = |title: &str,
                     part: Part,
                     entries: &[&Recalled],
                     mandatory: bool,
                     out: &mut String,
                     used: &mut usize,
                     items: &mut Vec<Item>|
     -> usize {
        let mut left_out = 0;
        let head = heading(title);
        let head_cost = cost(&head);
        let mut started = false;
        for r in entries {
            let l = line(r);
            let c = cost(&l);
            let extra = if started { c } else { c + head_cost };
            if !mandatory && *used + extra > input.budget {
                left_out += 1;
                continue;
            }
            if !started {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&head);
                started = true;
            }
            out.push_str(&l);
            *used += extra;
            items.push(Item {
                part,
                path: r.path.clone(),
                section: r.section.clone(),
                text: r.text.clone(),
                entry_id: r.entry.as_ref().map(|e| e.id.clone()),
                tokens: c,
            });
        }
        left_out
    };

    // The glossary entries the query names: always.
    let glossary: Vec<&Recalled> = input
        .glossary
        .iter()
        .filter(|g| {
            crate::curation::glossary_term(&g.text).is_some_and(|t| names_term(&query_words, t))
        })
        .filter(|g| shown.insert((g.path.clone(), g.text.clone())))
        .collect();
    push_part(
        "Glossary",
        Part::Glossary,
        &glossary,
        true,
        &mut out,
        &mut used,
        &mut items,
    );
    // Pinned entries: always; a person said they must stay.
    let pinned: Vec<&Recalled> = input
        .pinned
        .iter()
        .filter(|p| shown.insert((p.path.clone(), p.text.clone())))
        .collect();
    push_part(
        "Pinned",
        Part::Pinned,
        &pinned,
        true,
        &mut out,
        &mut used,
        &mut items,
    );
    let over_budget = used > input.budget;

    // The index, line by line while it fits.
    let mut index_lines_left_out = 0;
    if let Some((path, content)) = &input.index {
        let head = heading(&format!("Index ({path})"));
        let mut body = String::new();
        let mut body_cost = 0;
        let head_cost = cost(&head);
        let mut first = true;
        for l in content.lines() {
            if l.trim().is_empty() {
                continue;
            }
            let l = format!("{l}\n");
            let c = cost(&l);
            let extra = if first { c + head_cost } else { c };
            if used + body_cost + extra > input.budget {
                index_lines_left_out += 1;
                continue;
            }
            body.push_str(&l);
            body_cost += extra;
            first = false;
        }
        if !body.is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&head);
            out.push_str(&body);
            used += body_cost;
            items.push(Item {
                part: Part::Index,
                path: path.clone(),
                section: Vec::new(),
                text: body.trim_end().to_string(),
                entry_id: None,
                tokens: body_cost - head_cost,
            });
        }
    }

    // The relevant entries, best first, while they fit.
    let relevant: Vec<&Recalled> = input
        .relevant
        .iter()
        .filter(|r| shown.insert((r.path.clone(), r.text.clone())))
        .collect();
    let title = match &input.query {
        Some(q) => format!("Relevant to {:?}", crate::path::shorten(q)),
        None => "Relevant".to_string(),
    };
    let mut relevant_left_out = push_part(
        &title,
        Part::Relevant,
        &relevant,
        false,
        &mut out,
        &mut used,
        &mut items,
    );

    // Pieces were counted one by one; the whole may tokenize a little differently. Drop the
    // last relevant entries until the whole fits too.
    let mut tokens = cost(&out);
    while tokens > input.budget {
        let Some(pos) = items.iter().rposition(|i| i.part == Part::Relevant) else {
            break;
        };
        let item = items.remove(pos);
        let rendered = line(
            input
                .relevant
                .iter()
                .find(|r| r.path == item.path && r.text == item.text)
                .expect("an item comes from an input"),
        );
        if let Some(at) = out.rfind(&rendered) {
            out.replace_range(at..at + rendered.len(), "");
        }
        if !items.iter().any(|i| i.part == Part::Relevant) {
            let head = heading(&title);
            if let Some(at) = out.rfind(&head) {
                out.replace_range(at..at + head.len(), "");
            }
            out = out.trim_end().to_string();
            out.push('\n');
        }
        relevant_left_out += 1;
        tokens = cost(&out);
    }
    Ok(Context {
        text: out,
        tokens,
        budget: input.budget,
        safety: input.safety,
        items,
        index_lines_left_out,
        relevant_left_out,
        over_budget,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;

    /// One token per word: easy to reason about in tests.
    struct Words;
    impl TokenCounter for Words {
        fn count(&self, text: &str) -> usize {
            text.split_whitespace().count()
        }
    }

    fn r(path: &str, text: &str) -> Recalled {
        Recalled {
            score: 1.0,
            memory_id: "mem_1".into(),
            path: path.into(),
            section: Vec::new(),
            text: text.into(),
            updated_at: Timestamp(0),
            entry: None,
        }
    }

    fn input(budget: usize) -> ContextInput {
        ContextInput {
            query: Some("how do I deploy the MQ bridge".into()),
            index: Some((
                "/MEMORY.md".into(),
                "- [Lessons](lessons.md) — cargo\n- [Facts](facts.md) — ports\n".into(),
            )),
            pinned: vec![r("/instructions.md", "Never force-push to main.")],
            glossary: vec![
                r(
                    "/glossary.md",
                    "**MQ bridge**: the relay between Kafka and SQS.",
                ),
                r("/glossary.md", "**tallyho**: the billing service."),
            ],
            relevant: vec![
                r("/facts.md", "Deploys go through make deploy."),
                r("/facts.md", "The bridge runs on port 9092."),
                r(
                    "/facts.md",
                    "A third, less relevant entry about deploys and bridges.",
                ),
            ],
            budget,
            safety: 1.0,
        }
    }

    #[test]
    fn everything_fits_in_a_large_budget() {
        let c = render(&input(1000), &Words).unwrap();
        let parts: Vec<Part> = c.items.iter().map(|i| i.part).collect();
        assert_eq!(
            parts,
            [
                Part::Glossary,
                Part::Pinned,
                Part::Index,
                Part::Relevant,
                Part::Relevant,
                Part::Relevant
            ]
        );
        // Only the glossary entry the query names.
        assert!(c.text.contains("**MQ bridge**"));
        assert!(!c.text.contains("tallyho"));
        assert_eq!((c.relevant_left_out, c.index_lines_left_out), (0, 0));
        assert!(!c.over_budget);
        assert!(c.tokens <= c.budget);
        assert_eq!(c.tokens, Words.count(&c.text));
    }

    #[test]
    fn the_budget_cuts_relevant_entries_then_index_lines_never_the_glossary() {
        let full = render(&input(1000), &Words).unwrap();
        let mut last = full.tokens;
        let mut saw_cut = false;
        for budget in (1..full.tokens).rev() {
            let c = render(&input(budget), &Words).unwrap();
            assert!(c.text.contains("**MQ bridge**"), "budget {budget}");
            assert!(c.text.contains("Never force-push"), "budget {budget}");
            if !c.over_budget {
                assert!(c.tokens <= budget, "budget {budget}: {}", c.tokens);
            }
            assert!(c.tokens <= last);
            last = c.tokens;
            saw_cut |= c.relevant_left_out > 0;
            if c.index_lines_left_out > 0 {
                // Index lines only go once every relevant entry went.
                assert_eq!(c.relevant_left_out, 3, "budget {budget}");
            }
        }
        assert!(saw_cut);
        let tiny = render(&input(3), &Words).unwrap();
        assert!(tiny.over_budget);
        assert_eq!(tiny.relevant_left_out, 3);
        assert_eq!(tiny.index_lines_left_out, 2);
    }

    #[test]
    fn terms_match_whole_words_in_order() {
        let q = crate::search::words("Where does the mq-bridge log?");
        assert!(names_term(&q, "MQ bridge"));
        assert!(names_term(&q, "MQ"));
        assert!(!names_term(&q, "bridge MQ"));
        assert!(!names_term(&q, "M"));
        assert!(!names_term(&q, "bridge logs"));
        assert!(!names_term(&q, ""));
    }

    #[test]
    fn safety_scales_counts_and_bad_settings_are_refused() {
        let mut i = input(1000);
        i.safety = 2.0;
        let c = render(&i, &Words).unwrap();
        assert_eq!(c.tokens, 2 * Words.count(&c.text));
        i.safety = 0.5;
        assert!(
            render(&i, &Words)
                .unwrap_err()
                .to_string()
                .contains("safety")
        );
        let mut i = input(0);
        i.safety = 1.0;
        assert!(
            render(&i, &Words)
                .unwrap_err()
                .to_string()
                .contains("budget")
        );
    }

    #[test]
    fn o200k_counts_real_tokens() {
        let n = O200k.count("Caroline went to an LGBTQ support group yesterday.");
        assert!((8..=14).contains(&n), "{n}");
        assert_eq!(O200k.count(""), 0);
    }
}
