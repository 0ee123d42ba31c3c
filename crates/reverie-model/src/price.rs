//! List prices of the models reverie knows, in US dollars per million tokens, for a dream's
//! cost. A model's name matches an entry when it is the entry, or the entry followed by a
//! snapshot suffix (`claude-sonnet-4-5-20250929`, `gpt-4o-2024-08-06`, `…@20250929`,
//! `…-latest`); the longest entry wins, so `gpt-4o-mini` is not priced as `gpt-4o`, and a model
//! the table does not know (`claude-opus-4-7`) gets no price rather than a neighbour's.
//! Configured aliases override these (`[models.NAME] price = {…}`).
//!
//! Sources: <https://docs.anthropic.com/en/docs/about-claude/pricing> (5-minute cache writes at
//! 1.25× the input price, cache reads at 0.1×) and <https://openai.com/api/pricing/> (cached input
//! at the listed discount; OpenAI does not charge for writing its cache, so a cache write costs
//! the input price — and OpenAI never reports cache writes anyway). Prices change: a stale entry
//! only misstates a dream's reported cost.

use reverie_curate::model::Price;

/// `(model, input, output, cache_write, cache_read)`.
const LIST_PRICES: &[(&str, f64, f64, f64, f64)] = &[
    // Anthropic.
    ("claude-opus-4-6", 5.0, 25.0, 6.25, 0.50),
    ("claude-opus-4-5", 5.0, 25.0, 6.25, 0.50),
    ("claude-opus-4-1", 15.0, 75.0, 18.75, 1.50),
    ("claude-opus-4", 15.0, 75.0, 18.75, 1.50),
    ("claude-sonnet-4-6", 3.0, 15.0, 3.75, 0.30),
    ("claude-sonnet-4-5", 3.0, 15.0, 3.75, 0.30),
    ("claude-sonnet-4", 3.0, 15.0, 3.75, 0.30),
    ("claude-3-7-sonnet", 3.0, 15.0, 3.75, 0.30),
    ("claude-haiku-4-5", 1.0, 5.0, 1.25, 0.10),
    ("claude-3-5-haiku", 0.80, 4.0, 1.0, 0.08),
    ("claude-3-haiku", 0.25, 1.25, 0.30, 0.03),
    // OpenAI.
    ("gpt-5", 1.25, 10.0, 1.25, 0.125),
    ("gpt-5-mini", 0.25, 2.0, 0.25, 0.025),
    ("gpt-5-nano", 0.05, 0.40, 0.05, 0.005),
    ("gpt-4.1", 2.0, 8.0, 2.0, 0.50),
    ("gpt-4.1-mini", 0.40, 1.60, 0.40, 0.10),
    ("gpt-4.1-nano", 0.10, 0.40, 0.10, 0.025),
    ("gpt-4o", 2.50, 10.0, 2.50, 1.25),
    ("gpt-4o-mini", 0.15, 0.60, 0.15, 0.075),
    ("o1", 15.0, 60.0, 15.0, 7.50),
    ("o3", 2.0, 8.0, 2.0, 0.50),
    ("o3-mini", 1.10, 4.40, 1.10, 0.55),
    ("o4-mini", 1.10, 4.40, 1.10, 0.275),
];

/// The list price of `model` (without a provider prefix), if the table knows it.
pub fn list_price(model: &str) -> Option<Price> {
    LIST_PRICES
        .iter()
        .filter(|(name, ..)| model.strip_prefix(name).is_some_and(is_snapshot_suffix))
        .max_by_key(|(name, ..)| name.len())
        .map(|&(_, input, output, cache_write, cache_read)| Price {
            input,
            output,
            cache_write,
            cache_read,
        })
}

/// What may follow a priced name and still be the same model: nothing, a dated snapshot
/// (`-20250929`, `-2024-08-06`, `@20250929`) or `-latest`.
fn is_snapshot_suffix(rest: &str) -> bool {
    if rest.is_empty() || rest == "-latest" {
        return true;
    }
    let Some(date) = rest.strip_prefix('-').or_else(|| rest.strip_prefix('@')) else {
        return false;
    };
    date.len() >= 8
        && date.chars().take(4).all(|c| c.is_ascii_digit())
        && date.chars().all(|c| c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(model: &str) -> Option<(f64, f64)> {
        list_price(model).map(|p| (p.input, p.output))
    }

    #[test]
    fn matches_names_and_snapshots() {
        assert_eq!(io("claude-sonnet-4-6"), Some((3.0, 15.0)));
        assert_eq!(io("claude-sonnet-4-5-20250929"), Some((3.0, 15.0)));
        assert_eq!(io("claude-sonnet-4-5@20250929"), Some((3.0, 15.0)));
        assert_eq!(io("claude-3-7-sonnet-latest"), Some((3.0, 15.0)));
        assert_eq!(io("claude-opus-4-5-20251101"), Some((5.0, 25.0)));
        assert_eq!(io("claude-opus-4-20250514"), Some((15.0, 75.0)));
        assert_eq!(io("claude-haiku-4-5"), Some((1.0, 5.0)));
        assert_eq!(io("gpt-4o-2024-08-06"), Some((2.5, 10.0)));
        assert_eq!(io("gpt-4o-mini"), Some((0.15, 0.60)));
        assert_eq!(io("gpt-4o-mini-2024-07-18"), Some((0.15, 0.60)));
        assert_eq!(io("gpt-4.1-nano"), Some((0.10, 0.40)));
        assert_eq!(io("gpt-5-2025-08-07"), Some((1.25, 10.0)));
        assert_eq!(io("o3-mini"), Some((1.10, 4.40)));
    }

    #[test]
    fn unknown_models_have_no_price() {
        // Not a neighbour's price: an unknown version is unknown.
        assert_eq!(io("claude-opus-4-7"), None);
        assert_eq!(io("gpt-5.1"), None);
        assert_eq!(io("gpt-4o-realtime-preview"), None);
        assert_eq!(io("llama3.1"), None);
        assert_eq!(io(""), None);
    }

    #[test]
    fn cache_prices_follow_the_documented_multipliers() {
        let sonnet = list_price("claude-sonnet-4-6").unwrap();
        assert!((sonnet.cache_write - sonnet.input * 1.25).abs() < 1e-9);
        assert!((sonnet.cache_read - sonnet.input * 0.1).abs() < 1e-9);
    }
}
