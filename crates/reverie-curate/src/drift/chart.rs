//! Drift as a picture: one bar per applied dream, in the order they were applied, stacked by
//! what it did — entries added, changed (rewritten, merged, superseded) and taken out
//! (archived) — with a red mark over a dream whose operations took out something load-bearing.
//! An SVG document with a title and a text alternative, no script and no style sheet.

use std::collections::BTreeMap;

use super::report::{DreamState, DriftReport};
use crate::curve::xml;

/// The drift chart of `report`, titled with `title`.
pub fn svg(report: &DriftReport, title: &str) -> String {
    let dreams: Vec<_> = report
        .dreams
        .iter()
        .filter(|d| d.state == DreamState::Applied)
        .collect();
    // The dreams whose step last took a load-bearing lineage out.
    let mut losses: BTreeMap<&str, usize> = BTreeMap::new();
    for l in report.lineages.iter().filter(|l| l.load_bearing_lost) {
        if let Some(s) = l.steps.last() {
            *losses.entry(s.dream_id.as_str()).or_default() += 1;
        }
    }
    let (w, h, left, right, top, bottom) = (800.0, 260.0, 48.0, 16.0, 36.0, 48.0);
    let max = dreams
        .iter()
        .map(|d| d.ops.add + d.ops.rewrite + d.ops.merge + d.ops.supersede + d.ops.archive)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = dreams.len().max(1) as f64;
    let slot = (w - left - right) / n;
    let bar = (slot * 0.7).clamp(2.0, 40.0);
    let scale = |v: usize| (h - top - bottom) * v as f64 / max;
    let label = format!("Drift of {title}");
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{0}\" font-family=\"sans-serif\" \
         font-size=\"12\">\n<title>{0}</title>\n<rect width=\"{w}\" height=\"{h}\" fill=\"#fff\"/>\n",
        xml(&label)
    );
    out.push_str(&format!(
        "<text x=\"{left}\" y=\"20\" font-weight=\"bold\">{}</text>\n",
        xml(&format!(
            "{title}: what each dream did ({} dreams, {} lineages lost, {} load-bearing)",
            dreams.len(),
            report.summary.lost,
            report.summary.load_bearing_lost
        ))
    ));
    let base = h - bottom;
    out.push_str(&format!(
        "<line x1=\"{left}\" x2=\"{}\" y1=\"{base}\" y2=\"{base}\" stroke=\"#999\"/>\n\
         <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#555\">{}</text>\n",
        w - right,
        left - 6.0,
        top + 4.0,
        max as usize
    ));
    for (i, d) in dreams.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = base;
        let parts = [
            ("added", d.ops.add, "#2e7d32"),
            (
                "changed",
                d.ops.rewrite + d.ops.merge + d.ops.supersede,
                "#1565c0",
            ),
            ("archived", d.ops.archive, "#757575"),
        ];
        for (what, v, color) in parts {
            if v == 0 {
                continue;
            }
            let hgt = scale(v);
            y -= hgt;
            out.push_str(&format!(
                "<rect class=\"{what}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" \
                 height=\"{hgt:.1}\" fill=\"{color}\"><title>{}</title></rect>\n",
                xml(&format!("{}: {v} {what}", d.dream_id))
            ));
        }
        if let Some(n) = losses.get(d.dream_id.as_str()) {
            out.push_str(&format!(
                "<circle class=\"loss\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"#c62828\">\
                 <title>{}</title></circle>\n",
                x + bar / 2.0,
                (y - 10.0).max(top),
                xml(&format!("{}: {n} load-bearing lost", d.dream_id))
            ));
        }
        if let Some(rev) = d.applied_revision
            && (dreams.len() <= 30 || i % (dreams.len() / 30 + 1) == 0)
        {
            out.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">{rev}</text>\n",
                x + bar / 2.0,
                base + 14.0
            ));
        }
    }
    out.push_str(&format!(
        "<text x=\"{left}\" y=\"{}\" fill=\"#333\">{}</text>\n</svg>\n",
        h - 10.0,
        xml(
            "by applied revision: green added, blue changed, grey archived; red: load-bearing lost"
        )
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::report::{DreamDrift, OpCounts, Summary};

    #[test]
    fn one_bar_per_applied_dream_with_its_parts() {
        let dream = |id: &str, rev: i64, add: usize, archive: usize, state| DreamDrift {
            dream_id: id.into(),
            state,
            base_revision: Some(rev - 1),
            applied_revision: Some(rev),
            reverted_revision: None,
            applied_at: None,
            ops: OpCounts {
                add,
                archive,
                ..OpCounts::default()
            },
            changes: Vec::new(),
        };
        let report = DriftReport {
            store_id: "memstore_x".into(),
            since_revision: None,
            min_helpful: 1,
            summary: Summary::default(),
            dreams: vec![
                dream("drm_a", 1, 3, 0, DreamState::Applied),
                dream("drm_b", 2, 0, 2, DreamState::Applied),
                dream("drm_c", 3, 5, 0, DreamState::Reverted),
            ],
            pending: Vec::new(),
            lineages: Vec::new(),
            churn: Default::default(),
        };
        let s = svg(&report, "notes <&>");
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        assert_eq!(s.matches("class=\"added\"").count(), 1);
        assert_eq!(s.matches("class=\"archived\"").count(), 1);
        assert!(s.contains("drm_a: 3 added") && !s.contains("drm_c"));
        assert!(s.contains("notes &lt;&amp;&gt;") && !s.contains("notes <&>"));
    }
}
