//! The plain-text detectors: one regex per form of secret, each behind a literal gate (all
//! gates form one `RegexSet`, so text that holds no candidate substring costs one pass).
//!
//! Detectors run on a *shadow* of the text, of the same length, in which the letter of every
//! backslash escape (`\n`, `\t`, `\u00e9`…) is blanked: text that is itself JSON-escaped
//! (a JSONL line that failed to parse, JSON nested in a string) then has word boundaries where
//! its escapes are, while quotes and backslashes stay, so no token alphabet swallows them.

use std::borrow::Cow;

use aho_corasick::AhoCorasick;
use regex::{Captures, Regex, RegexSet};

#[cfg(test)]
use super::hand::assignment_hits;
use super::hand::{FINDERS, HandRule, hand_hits, leftmost};
use super::value::{self, NameClass};
use super::{SecretKind, Span};

/// How a detector turns a match into a finding.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Group `s` is the secret, of a fixed kind.
    Token(SecretKind),
    /// A Slack token: group `s`, at least 20 characters.
    SlackToken,
    /// A PEM/PGP private key block: the whole match.
    PrivateKey,
    /// Group `s` is a JWT whose header decodes to a JSON object.
    Jwt,
    /// Group `s` is the password of a URL's userinfo.
    UrlPassword,
    /// Group `s` follows the word `bearer`.
    Bearer,
    /// Group `s` follows `Authorization: Basic|Token`.
    AuthScheme,
    /// Group `s` is the password of `curl -u user:password`.
    CurlUser,
    /// Group `name` is assigned one of the groups `v1`..`v4`.
    Assignment,
    /// Group `s` is a 40-character AWS secret after `AWS Secret Access Key`.
    AwsPrompt,
    /// Group `s` is a Discord bot token: three base64url parts, the first a user id.
    Discord,
    /// One of the groups `v1`..`v3` is the password typed after `mysql -p` or
    /// `mysql --password=`.
    CliPassword,
    /// Group `s` is the password that prose states: "the admin password is X", "pwd: X".
    ProsePassword,
}

#[derive(Debug)]
struct Detector {
    rule: Rule,
    re: Regex,
}

/// Compiled detectors.
#[derive(Debug)]
pub(super) struct Detectors {
    /// The regex gates; `set_rules[i]` is the detector of gate `i`.
    gates: RegexSet,
    set_rules: Vec<usize>,
    /// The detectors whose gates are [`hand_hits`], in [`HandRule`] order.
    hand: [usize; 4],
    /// The regex gates, to find where they hit (not only whether): the gates that are plain
    /// literals in one Aho-Corasick searcher, and each gate with more structure (a
    /// case-insensitive part, a class) in a regex of its own. Apart, each keeps a fast literal
    /// search; together, the 64 spellings of `(?i:bearer)` made the search a slow wide one
    /// (about 2x slower on the real transcripts). The literals go to `aho-corasick` directly
    /// because, through `regex`, each candidate also ran a lazy DFA (a third slower).
    gate_literals: Vec<AhoCorasick>,
    gate_regexes: Vec<Regex>,
    detectors: Vec<Detector>,
}

/// A quoted or bare value after an assignment operator.
const VALUE: &str = r#"(?:\\*"(?P<v1>[^"\\\r\n]+)|\\*'(?P<v2>[^'\\\r\n]+)|`(?P<v4>[^`\\\r\n]+)|(?P<v3>[^\s"'`\\,;&)}\]]+))"#;

/// The keywords of secret names, in any case: a superset of [`NAME_WORDS`] (`passw` and `pass`,
/// `pwd` and `pw`, `credential`, `creds` and `cred`).
const KEYWORDS: &str = "(?i:token|secret|pass|pw|key|auth|cred|bearer)";

/// Stands for the gate of the `NAME = value` rule, which is [`assignment_hits`], not a regex:
/// as a regex its keywords hit every usage block of a transcript (`"input_tokens": 12`), which
/// made that one gate cost more than all the others together.
const HAND_GATE: &str = "<hand gate>";

/// Stands for the gate of the `name: X / value: …` rule, also part of [`hand_hits`]: its `name`
/// and `key` literals hit every tool call of a transcript (`"name": "Bash"`).
const HAND_GATE_LIST: &str = "<hand gate: name/value lists>";

/// Stands for the gate of the URL-password rule, part of [`hand_hits`]: as a regex its `:`
/// made the gates' literal search stop at every JSON member.
const HAND_GATE_URL: &str = "<hand gate: url passwords>";

/// Stands for the gate of the `<password>…</password>` rule, part of [`hand_hits`] (`<` is
/// everywhere in tool output).
const HAND_GATE_TAG: &str = "<hand gate: tags>";

/// The hand-gated rules, in [`HandRule`] order.
const HAND_GATES: [&str; 4] = [HAND_GATE, HAND_GATE_LIST, HAND_GATE_URL, HAND_GATE_TAG];

/// Words that make a name worth checking with [`value::name_class`].
const NAME_WORDS: &str = "token|secret|passw|pwd|pass|key|auth|credential|creds|cred|bearer|pw";

/// Most literals in one gate searcher. aho-corasick's packed (Teddy) search buckets its
/// literals by nibble masks; with the 64 gate literals in one searcher, false candidates to
/// verify cost more than the search (`redact_only` 395 ms on the parse benchmark), while
/// four searchers of 16 take 327 ms (32: 396 ms, 8: 405 ms).
const GATE_CHUNK: usize = 16;

/// The detectors: a rule, a gate and a regex each.
///
/// A gate is a superset of its regex: a literal (or a few) that every match contains. Gates
/// are searched for in every byte ingested, so each literal is chosen to be rare in real
/// transcripts from its first three bytes on (the search's fingerprint): `b_pat_` for
/// `github_pat_`, `rod_` for `sk_prod_`, `slack.com/` for `hooks.slack.com/`, `rization` for
/// `authorization`. A common start (`hoo`, `git`, `log`, `aut`) made the search stop to check
/// a candidate every few hundred bytes.
fn specs() -> Vec<(Rule, String, String)> {
    use SecretKind::*;
    let b = r"(?-u:\b)";
    let name = format!(r"[A-Za-z0-9_.-]*(?i:{NAME_WORDS})[A-Za-z0-9_.-]*");
    vec![
        (
            Rule::PrivateKey,
            r"PRIVATE KEY".to_string(),
            r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----(?P<body>(?:[A-Za-z0-9+/=:,.()_ \t\r\n\\]|-[A-Za-z0-9])*)(?:-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----)?".to_string(),
        ),
        (
            Rule::Token(Anthropic),
            r"sk-ant-".to_string(),
            format!(r"{b}(?P<s>sk-ant-[a-z]{{2,10}}[0-9]{{2}}-[A-Za-z0-9_-]{{32,}})"),
        ),
        (
            Rule::Token(OpenAi),
            r"sk-".to_string(),
            format!(
                r"{b}(?P<s>sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{{32,}}|sk-[A-Za-z0-9]{{16,}}T3BlbkFJ[A-Za-z0-9]{{16,}}|sk-[A-Za-z0-9]{{48}})(?:[^A-Za-z0-9_-]|$)"
            ),
        ),
        (
            Rule::Token(Aws),
            // the ids scanners match (gitleaks' older rule, trufflehog): any digit, not only
            // base32's 2-7 — ids holding 0, 1, 8 or 9 were missed
            "AKIA|ASIA|ABIA|ACCA".to_string(),
            format!(r"{b}(?P<s>(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{{16}})(?:[^A-Za-z0-9_]|$)"),
        ),
        (
            Rule::AwsPrompt,
            "ecret_access_key|ECRET_ACCESS_KEY|ecret Access Key|ecret access key".to_string(),
            r"(?i:aws[ _]secret[ _]access[ _]key)(?:[ \t]*\[[^\]\r\n]*\])?[ \t]*[:=][ \t]*(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+]|$)".to_string(),
        ),
        (
            Rule::Token(GitHub),
            "ghp_|gho_|ghu_|ghs_|ghr_|b_pat_".to_string(),
            format!(
                r"{b}(?P<s>gh[pousr]_[A-Za-z0-9]{{36,}}|github_pat_[A-Za-z0-9_]{{40,}})(?:[^A-Za-z0-9_]|$)"
            ),
        ),
        (
            Rule::Token(GitLab),
            "glpat-|gldt-|glrt-|glcbt-|glptt-|glft-|glimt-|glagent-|oas-|glsoat-|glffct-|GR1348941".to_string(),
            format!(
                r"{b}(?P<s>gl(?:pat|dt|rt|cbt|ptt|ft|imt|agent|oas|soat|ffct)-[A-Za-z0-9_-]{{20,}}(?:\.[A-Za-z0-9_-]+)*|GR1348941[A-Za-z0-9_-]{{20,}})"
            ),
        ),
        (
            Rule::SlackToken,
            "xox|xapp-".to_string(),
            format!(
                r"{b}(?P<s>(?:xoxe\.)?xox[abposre]-[0-9A-Za-z]+(?:-[0-9A-Za-z]+)+|xapp-[0-9]+-[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+)"
            ),
        ),
        (
            Rule::Token(Slack),
            r"slack\.com/".to_string(),
            r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<s>[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)+)".to_string(),
        ),
        (
            Rule::Token(Stripe),
            "k_live_|k_test_|rod_|whsec_".to_string(),
            format!(
                r"{b}(?P<s>(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{{16,}}|whsec_[A-Za-z0-9+/=]{{24,}})"
            ),
        ),
        (
            Rule::Token(GoogleApiKey),
            r"AIza".to_string(),
            format!(r"{b}(?P<s>AIza[0-9A-Za-z_-]{{35}})(?:[^0-9A-Za-z_-]|$)"),
        ),
        (
            Rule::Jwt,
            r"eyJ".to_string(),
            format!(r"{b}(?P<s>eyJ[A-Za-z0-9_-]{{8,}}\.[A-Za-z0-9_-]{{8,}}\.[A-Za-z0-9_-]*)"),
        ),
        (
            Rule::UrlPassword,
            HAND_GATE_URL.to_string(),
            format!(
                r#"{b}[A-Za-z][A-Za-z0-9+.-]{{1,30}}://(?P<u>[^\s:/?#@"'\\<>\[\]{{}}|]*):(?P<s>[^\s/?#@"'\\<>{{}}|]+)@[A-Za-z0-9\[]"#
            ),
        ),
        (
            Rule::Bearer,
            r"(?i:bearer)[ \t]".to_string(),
            format!(r"(?i:{b}bearer)[ \t]+(?P<s>[A-Za-z0-9._~+/-]+=*)"),
        ),
        (
            Rule::AuthScheme,
            "rization|RIZATION".to_string(),
            format!(
                r#"(?i:{b}authorization)\\*["']?[ \t]*[:=][ \t]*\\*["']?[ \t]*(?P<scheme>(?i:basic|token|apikey|api-key))[ \t]+(?P<s>[A-Za-z0-9._~+/-]+=*)"#
            ),
        ),
        (
            Rule::CurlUser,
            r#"(?:-u|--user)[ \t]+\\*["']?[^\s:"'\\]+:"#.to_string(),
            r#"(?:^|[\s"'])(?:-u|--user)[ \t]+\\*["']?(?P<u>[^\s:"'\\]+):(?P<s>[^\s"'\\]+)"#
                .to_string(),
        ),
        (
            Rule::Token(GenericSecret),
            r"pm_|pypi-AgEIcHlwaS5vcmc|hf_|SG\.|sk-or-v1-|dop_v1_|shp|dckr_|n_api_|hvs\.|hvb\.|hvr\.".to_string(),
            format!(
                r"{b}(?P<s>npm_[A-Za-z0-9]{{36}}|pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{{50,}}|hf_[A-Za-z]{{34}}|SG\.[A-Za-z0-9_-]{{22}}\.[A-Za-z0-9_-]{{43}}|sk-or-v1-[a-f0-9]{{64}}|dop_v1_[a-f0-9]{{64}}|shp(?:at|ss|ca|pa)_[a-fA-F0-9]{{32}}|dckr_(?:pat|oat)_[A-Za-z0-9_-]{{27,}}|lin_api_[A-Za-z0-9]{{40}}|hv[sbr]\.[A-Za-z0-9_-]{{24,}})(?:[^A-Za-z0-9_-]|$)"
            ),
        ),
        // Mailgun private keys: `key-` and 32 hex digits, not part of a longer name
        // (`cache-key-<md5>` is a cache key)
        (
            Rule::Token(GenericSecret),
            // gated on the vendor's name in the same text, as gitleaks' rule is: `key-` alone
            // starts with `key`, which every JSON tool call holds (and `ail` of `mailgun` is in
            // every `fail` and `detail`)
            "lgun|LGUN".to_string(),
            r"(?:^|[^A-Za-z0-9_.-])(?P<s>key-[0-9a-f]{32})(?:[^A-Za-z0-9_-]|$)".to_string(),
        ),
        // Azure SAS tokens: the `sig=` HMAC of a query string or connection string; the other
        // fields (`sv=`, `se=`, `sp=`) say what it grants, and are kept
        (
            Rule::Token(GenericSecret),
            // after the `&` that separates it in a query or connection string: `sig` alone
            // starts `signal` and `signature`, a stop of the literal search every few hundred
            // bytes
            "&sig=".to_string(),
            r#"(?:^|[?&;\s"'`])sig=(?P<s>[A-Za-z0-9%+/=_-]{20,})"#.to_string(),
        ),
        // Discord bot tokens: base64url of the bot's numeric id, a timestamp, an HMAC
        (
            Rule::Discord,
            // gated on the vendor's name in the same text (as gitleaks' rule is): the token
            // itself has no literal, and a regex gate without one ran over every byte
            "iscord|ISCORD".to_string(),
            format!(
                r"{b}(?P<s>(?P<p1>[MNO][A-Za-z0-9_-]{{23,25}})\.[A-Za-z0-9_-]{{6}}\.(?P<p3>[A-Za-z0-9_-]{{27,38}}))(?:[^A-Za-z0-9_.-]|$)"
            ),
        ),
        // mysql -pPASSWORD, mysql --password=PASSWORD (`-p` alone, or `-p DB`, prompts)
        (
            Rule::CliPassword,
            "mysql".to_string(),
            r#"(?:^|[\s"'`;|&(])(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mysqlsh|mariadb|mariadb-dump)(?:[ \t]+[^\s;|&]+)*?[ \t]+(?:-p|--password=)(?:\\*"(?P<v1>[^"\\\r\n]+)|\\*'(?P<v2>[^'\\\r\n]+)|(?P<v3>[^\s"'`\\;|&)]+))"#.to_string(),
        ),
        // "the admin password is X", "password: X", "pwd is X", "passwd was `X`"
        (
            Rule::ProsePassword,
            // literals rare from their first three bytes (`ass` of `password` is in every
            // `class` and `assert`), few (all gates' literals must stay within one packed
            // search: GATE_CHUNK): `password`, `Password` through `sword`; `PASSWORD` and
            // `PWD` are assignments' (`PASSWORD=…`), found by the rules of names
            "sword|sswd|pwd|phrase".to_string(),
            format!(
                r#"(?i:{b}(?:password|passwd|passphrase|pwd|pw))(?:[ \t]+(?i:is|was)|[ \t]*:)[ \t]+(?:\*\*)?\\*[`"']?(?P<s>[^\s`"'\\]+)"#
            ),
        ),
        // NAME = value, NAME: value, "NAME": "value", NAME := value, NAME => value,
        // const NAME: &str = "value", --name=value
        (
            Rule::Assignment,
            HAND_GATE.to_string(),
            format!(
                r#"{b}(?P<name>{name})(?:\\*["'`])?[ \t]*(?:=>|:=|:[ \t]*(?:&'static[ \t]+str|&str|str|string|String|Option<String>)[ \t]*=|=|:)[ \t]*{VALUE}"#
            ),
        ),
        // --name value
        (
            Rule::Assignment,
            format!("--[A-Za-z0-9_.-]*{KEYWORDS}"),
            format!(
                r#"(?:^|[\s"'\[,])--(?P<name>{name})(?:[ \t]+|\\*["'][ \t]*,[ \t]*)(?:\\*"(?P<v1>[^"\\\r\n]+)|\\*'(?P<v2>[^'\\\r\n]+)|(?P<v3>[^\s"'`\\,;&)}}\]-][^\s"'`\\,;&)}}\]]*))"#
            ),
        ),
        // ~/.netrc: machine HOST login USER password VALUE (on one line or several)
        (
            Rule::Assignment,
            "ogin |ogin\t".to_string(),
            format!(
                r#"{b}login[ \t]+[^\s"'\\]+(?:[ \t]|\r?\n|\\ )+(?P<name>password)[ \t]+(?P<v3>[^\s"'\\]+)"#
            ),
        ),
        // <password>value</password>
        (
            Rule::Assignment,
            HAND_GATE_TAG.to_string(),
            format!(r"<(?P<name>{name})>(?P<v3>[^<\s]+)</"),
        ),
        // name: DB_PASSWORD / value: "…" (Kubernetes env, ECS, GitHub secrets lists)
        (
            Rule::Assignment,
            HAND_GATE_LIST.to_string(),
            format!(
                r#"(?i:{b}(?:name|key))\\*["']?[ \t]*[:=][ \t]*\\*["']?(?P<name>{name})\\*["']?[ \t]*,?(?:[ \t]|\r?\n|\\ )*(?:-[ \t]*)?\\*["']?(?i:value)\\*["']?[ \t]*[:=][ \t]*{VALUE}"#
            ),
        ),
    ]
}

impl Detectors {
    pub(super) fn new() -> Detectors {
        let specs = specs();
        let hand = HAND_GATES.map(|g| {
            specs
                .iter()
                .position(|(_, gate, _)| gate == g)
                .expect("a hand-gated rule")
        });
        let set_rules: Vec<usize> = (0..specs.len()).filter(|i| !hand.contains(i)).collect();
        let gates =
            RegexSet::new(set_rules.iter().map(|&i| specs[i].1.as_str())).expect("gates compile");
        let (folded, exact): (Vec<&str>, Vec<&str>) = set_rules
            .iter()
            .map(|&i| specs[i].1.as_str())
            .partition(|g| g.contains(['(', '[']));
        let literals: Vec<String> = exact
            .iter()
            .flat_map(|g| g.split('|'))
            .map(|l| l.replace("\\.", "."))
            .inspect(|l| assert!(!l.contains('\\'), "gate {l:?} is not a plain literal"))
            .collect();
        // Searchers of at most GATE_CHUNK literals each (see there). Past 64, aho-corasick
        // cannot pack them at all and walks its automaton byte by byte (75 literals in one
        // searcher took `redact_only` to 500 ms).
        let gate_literals = literals.chunks(GATE_CHUNK).map(leftmost).collect();
        let gate_regexes: Vec<Regex> = folded
            .iter()
            .map(|g| Regex::new(g).expect("gates compile"))
            .collect();
        let detectors = specs
            .into_iter()
            .map(|(rule, _, re)| Detector {
                rule,
                re: Regex::new(&re).unwrap_or_else(|e| panic!("detector {rule:?}: {e}")),
            })
            .collect();
        Detectors {
            gates,
            set_rules,
            hand,
            gate_literals,
            gate_regexes,
            detectors,
        }
    }

    /// Could `text` hold a secret, directly or behind `\uXXXX` escapes? False is definitive.
    pub(super) fn may_match(&self, text: &str) -> bool {
        self.gate_literals.iter().any(|g| g.is_match(text))
            || self.gate_regexes.iter().any(|g| g.is_match(text))
            || hand_hits(text).next().is_some()
            || self.may_hide_literal(text)
    }

    /// Does `text` hold an escape that can hide part of a gate's literal from a search of the
    /// raw text: `\uXXXX` of a printable ASCII character, or `\/`? (`\u001b` and the like,
    /// frequent in tool output, cannot.)
    pub(super) fn may_hide_literal(&self, text: &str) -> bool {
        let b = text.as_bytes();
        FINDERS[super::hand::ESCAPE_U].find_iter(b).any(|i| {
            b.len() >= i + 6
                && &b[i + 2..i + 4] == b"00"
                && (b'2'..=b'7').contains(&b[i + 4])
                && b[i + 5].is_ascii_hexdigit()
        }) || FINDERS[super::hand::ESCAPE_SLASH].find(b).is_some()
    }

    /// Where gates hit in `text`: byte ranges, in order. Every occurrence of a gate's literal
    /// overlaps one of them (matches do not overlap each other, but a literal swallowed by an
    /// earlier match lies inside that match).
    pub(super) fn gate_hits(&self, text: &str) -> Vec<(usize, usize)> {
        let mut hits: Vec<(usize, usize)> = self
            .gate_literals
            .iter()
            .flat_map(|g| g.find_iter(text).map(|m| (m.start(), m.end())))
            .collect();
        for g in &self.gate_regexes {
            hits.extend(g.find_iter(text).map(|m| (m.start(), m.end())));
        }
        hits.extend(hand_hits(text).map(|h| (h.start, h.end)));
        hits.sort_unstable();
        hits
    }

    /// Appends the findings of the plain-text detectors on `text` to `out`.
    ///
    /// Detectors run in phases — key blocks, then token formats, then assignments — each on a
    /// shadow in which the findings of the phases before are blanked out, as a second pass
    /// would see them after replacement. Rounds repeat until nothing new is found, so that
    /// redacting redacted text changes nothing: a key glued to a PEM block (`AIza…-----BEGIN`)
    /// is a key once the block is gone, and a keyword glued to a token (`…j9secret: x`) is a
    /// name once the token is gone.
    pub(super) fn plain(&self, text: &str, out: &mut Vec<Span>) {
        self.plain_with(text, true, out)
    }

    /// [`Self::plain`], with hand-gated detectors run near their hits or (`near` false, to
    /// test that both agree) over the whole text.
    fn plain_with(&self, text: &str, near: bool, out: &mut Vec<Span>) {
        let mut cur = shadow(text);
        for _round in 0..4 {
            let mut matched: Vec<usize> = self
                .gates
                .matches(&cur)
                .iter()
                .map(|i| self.set_rules[i])
                .collect();
            let mut hand = [false; 4];
            for h in hand_hits(&cur) {
                hand[h.rule as usize] = true;
            }
            matched.extend((0..4).filter(|&r| hand[r]).map(|r| self.hand[r]));
            if matched.is_empty() {
                return;
            }
            let round_start = out.len();
            for phase in [Phase::Block, Phase::Token, Phase::Assignment] {
                let phase_start = out.len();
                for &i in &matched {
                    let d = &self.detectors[i];
                    if d.rule.phase() != phase {
                        continue;
                    }
                    match self.hand.iter().position(|&h| h == i) {
                        Some(r) if near => self.run_near(d, HandRule::ALL[r], text, &cur, out),
                        _ => self.run(d, text, &cur, 0, out),
                    }
                }
                if out.len() > phase_start {
                    let mut b = cur.into_owned().into_bytes();
                    for s in &out[phase_start..] {
                        b[s.start..s.end].fill(b']');
                    }
                    cur = Cow::Owned(
                        String::from_utf8(b).expect("ASCII over whole characters keeps UTF-8"),
                    );
                }
            }
            if out.len() == round_start {
                return;
            }
        }
    }

    /// Runs a hand-gated detector only on the lines where its gate hits: from each hit (for a
    /// URL, from up to 32 bytes before it, where its scheme starts) to the end of the line, or
    /// of the third line after it for the `name:`/`value:` rule, whose pair may span lines.
    /// The rules' other matches cannot reach past a line, and every match that can be a
    /// finding holds a hit, so this finds what [`Self::run`] on the whole text would, without
    /// running a regex with no literal to look for over every byte of a long tool output.
    fn run_near(&self, d: &Detector, rule: HandRule, text: &str, sh: &str, out: &mut Vec<Span>) {
        let mut hits: Vec<(usize, usize)> = hand_hits(sh)
            .filter(|h| h.rule == rule)
            .map(|h| (h.start, h.end))
            .collect();
        hits.sort_unstable();
        let b = sh.as_bytes();
        let lines = if rule == HandRule::List { 4 } else { 1 };
        let mut searched = 0;
        for (start, end) in hits {
            let mut from = if rule == HandRule::Url {
                start.saturating_sub(32)
            } else {
                start
            };
            while !sh.is_char_boundary(from) {
                from += 1;
            }
            let mut to = end;
            for _ in 0..lines {
                to = memchr::memchr(b'\n', &b[to.min(b.len())..]).map_or(b.len(), |i| to + i + 1);
            }
            let to = to.min(b.len());
            if from.max(searched) >= to {
                continue;
            }
            self.run(d, text, &sh[..to], from.max(searched), out);
            searched = to;
        }
    }

    /// Runs a detector over `sh` (the shadow of `text`, or a prefix of it) from `pos` on.
    fn run(&self, d: &Detector, text: &str, sh: &str, mut pos: usize, out: &mut Vec<Span>) {
        while pos < sh.len() {
            let Some(caps) = d.re.captures_at(sh, pos) else {
                break;
            };
            let whole = caps.get(0).expect("group 0");
            match d.rule.finding(&caps, sh) {
                Some((s, e, kind)) => {
                    if let Some((s, e)) = sanitize(text, sh, s, e) {
                        out.push(Span {
                            start: s,
                            end: e,
                            kind,
                        });
                    }
                    pos = whole.end().max(pos + 1);
                }
                None => {
                    // retry just after the start: a rejected match may hide one inside it
                    pos = whole.start()
                        + sh[whole.start()..].chars().next().map_or(1, char::len_utf8);
                }
            }
            while !sh.is_char_boundary(pos) {
                pos += 1;
            }
        }
    }
}

/// The order in which rules run (see [`Detectors::plain`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Block,
    Token,
    Assignment,
}

impl Rule {
    fn phase(self) -> Phase {
        match self {
            Rule::PrivateKey => Phase::Block,
            Rule::Assignment => Phase::Assignment,
            _ => Phase::Token,
        }
    }

    /// The secret's range and kind for a match of this rule, or `None` if it is no secret.
    fn finding(self, caps: &Captures<'_>, haystack: &str) -> Option<(usize, usize, SecretKind)> {
        let group = |name: &str| caps.name(name);
        match self {
            Rule::Token(kind) => {
                let s = group("s")?;
                (value::entropy(s.as_str().as_bytes()) >= 3.0).then_some((s.start(), s.end(), kind))
            }
            Rule::SlackToken => {
                let s = group("s")?;
                (s.len() >= 20 && value::entropy(s.as_str().as_bytes()) >= 3.0).then_some((
                    s.start(),
                    s.end(),
                    SecretKind::Slack,
                ))
            }
            Rule::PrivateKey => {
                let whole = caps.get(0)?;
                let body = group("body")?.as_str();
                let key_material = body
                    .bytes()
                    .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
                    .count();
                (key_material >= 40).then_some((whole.start(), whole.end(), SecretKind::PrivateKey))
            }
            Rule::Jwt => {
                let s = group("s")?;
                let header = s.as_str().split('.').next()?;
                let decoded = base64_decode(header)?;
                let json: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_slice(&decoded).ok()?;
                ["alg", "typ", "kid", "enc"]
                    .iter()
                    .any(|k| json.contains_key(*k))
                    .then_some((s.start(), s.end(), SecretKind::Jwt))
            }
            Rule::UrlPassword => {
                let s = group("s")?;
                let pw = s.as_str();
                let user = group("u").map_or("", |u| u.as_str());
                let port_like =
                    pw.len() <= 5 && pw.bytes().all(|b| b.is_ascii_digit()) && user.contains('.');
                let placeholder = value::is_placeholder(pw) || value::is_reference(pw, true);
                (!port_like && !placeholder).then_some((
                    s.start(),
                    s.end(),
                    SecretKind::UrlPassword,
                ))
            }
            Rule::Bearer => {
                let s = group("s")?;
                value::looks_random_token(s.as_str()).then_some((
                    s.start(),
                    s.end(),
                    SecretKind::BearerToken,
                ))
            }
            Rule::AuthScheme => {
                let s = group("s")?;
                let scheme = group("scheme")?.as_str().to_ascii_lowercase();
                let ok = if scheme == "basic" {
                    base64_decode(s.as_str())
                        .and_then(|d| String::from_utf8(d).ok())
                        .is_some_and(|d| {
                            d.split_once(':').is_some_and(|(u, p)| {
                                !u.is_empty() && !p.is_empty() && !value::is_placeholder(p)
                            })
                        })
                } else {
                    value::looks_random_token(s.as_str())
                };
                ok.then_some((s.start(), s.end(), SecretKind::GenericSecret))
            }
            Rule::CurlUser => {
                let s = group("s")?;
                // `date -u +%Y-%m-%dT%H:%M:%S.%3N`: `date`'s UTC flag before a format, which
                // the format's first `:` splits into a "user" and a "password"
                if group("u").is_some_and(|u| value::is_time_format(u.as_str(), 1)) {
                    return None;
                }
                value::looks_secret(s.as_str(), NameClass::Password, false).then_some((
                    s.start(),
                    s.end(),
                    SecretKind::GenericSecret,
                ))
            }
            Rule::AwsPrompt => {
                let s = group("s")?;
                value::is_aws_secret(s.as_str()).then_some((s.start(), s.end(), SecretKind::Aws))
            }
            Rule::Discord => {
                let s = group("s")?;
                let p3 = group("p3")?.as_str();
                // the first part is the bot's id, base64: a real token decodes to digits; else
                // it must at least look random (identifiers such as
                // `MessageQueueDispatcherSvc.Worker.processIncomingMessages` do not)
                let id_digits = base64_decode(group("p1")?.as_str())
                    .is_some_and(|d| d.len() >= 17 && d.iter().take(17).all(u8::is_ascii_digit));
                (id_digits || value::looks_random_token(p3)).then_some((
                    s.start(),
                    s.end(),
                    SecretKind::GenericSecret,
                ))
            }
            Rule::CliPassword => {
                let (v, quoted) = ["v1", "v2", "v3"]
                    .iter()
                    .find_map(|g| group(g).map(|v| (v, *g != "v3")))?;
                value::is_typed_password(v.as_str(), quoted).then_some((
                    v.start(),
                    v.end(),
                    SecretKind::GenericSecret,
                ))
            }
            Rule::ProsePassword => {
                let s = group("s")?;
                // sentence punctuation after the password is not part of it
                let v = s
                    .as_str()
                    .trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
                value::is_stated_password(v).then_some((
                    s.start(),
                    s.start() + v.len(),
                    SecretKind::GenericSecret,
                ))
            }
            Rule::Assignment => {
                let name_match = group("name")?;
                let name = name_match.as_str();
                // `arn:aws:secretsmanager:…:secret:prod/db`: a segment of a colon path
                let before = &haystack.as_bytes()[..name_match.start()];
                if before.len() >= 2
                    && before[before.len() - 1] == b':'
                    && before[before.len() - 2].is_ascii_alphanumeric()
                {
                    return None;
                }
                let (v, quoted) = ["v1", "v2", "v4", "v3"]
                    .iter()
                    .find_map(|g| group(g).map(|v| (v, *g != "v3")))?;
                let raw = v.as_str();
                let trimmed = raw.trim();
                let start = v.start() + (raw.len() - raw.trim_start().len());
                let kind = value::classify_assignment(name, trimmed, quoted)?;
                Some((start, start + trimmed.len(), kind))
            }
        }
    }
}

fn shadow(text: &str) -> Cow<'_, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    let mut b = text.as_bytes().to_vec();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < b.len() && b[j] == b'\\' {
            j += 1;
        }
        if j < b.len() {
            match b[j] {
                b'n' | b'r' | b't' | b'b' | b'f' => b[j] = b' ',
                b'u' if j + 4 < b.len() && b[j + 1..j + 5].iter().all(u8::is_ascii_hexdigit) => {
                    b[j..j + 5].fill(b' ');
                }
                _ => {}
            }
        }
        i = j + 1;
    }
    Cow::Owned(String::from_utf8(b).expect("ASCII for ASCII keeps UTF-8"))
}

/// Shrinks a finding so that it neither starts inside a backslash escape nor ends with part of
/// one, and drops trailing whitespace (a truncated key block's last newline).
fn sanitize(text: &str, shadow: &str, s: usize, mut e: usize) -> Option<(usize, usize)> {
    let sb = shadow.as_bytes();
    while e > s && (sb[e - 1].is_ascii_whitespace() || sb[e - 1] == b'\\') {
        e -= 1;
    }
    let tb = text.as_bytes();
    let before = tb[..s].iter().rev().take_while(|&&c| c == b'\\').count();
    if before % 2 == 1 {
        return None;
    }
    (e > s).then_some((s, e))
}

/// Decodes standard or URL-safe base64, padded or not.
pub(super) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn name() -> impl Strategy<Value = String> {
        (
            "[A-Za-z0-9_.-]{0,6}",
            prop::sample::select(vec![
                "token", "Secret", "PASSWORD", "passwd", "pwd", "api_key", "AUTH", "creds",
                "bearer", "pw",
            ]),
            "[A-Za-z0-9_.-]{0,6}",
        )
            .prop_map(|(a, k, b)| format!("{a}{k}{b}"))
    }

    fn operator() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "=",
            ":",
            ":=",
            "=>",
            ": &str =",
            ":&'static  str=",
            ": String =",
            ": Option<String> = ",
        ])
        .prop_map(String::from)
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-z0-9+/_~.-]{6,40}",
            "[A-Za-z0-9]{3,10}\\\\[a-z0-9]{3,10}",
            "[A-Za-z0-9!@#%^*]{6,30}",
            "[A-Za-z]{4}[0-9]{4}\\\\u0041[a-z]{4}",
        ]
    }

    fn quote() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["", "\"", "'", "`", "\\\"", "\\\\\\\""]).prop_map(String::from)
    }

    fn detectors() -> &'static Detectors {
        static D: std::sync::OnceLock<Detectors> = std::sync::OnceLock::new();
        D.get_or_init(Detectors::new)
    }

    /// The property below checks the gate only where the detector finds a secret; this makes
    /// sure the generated assignments do hold secrets, in every operator and quoting form.
    #[test]
    fn generated_assignments_hold_secrets() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let strategy = (name(), quote(), operator(), quote(), value());
        let (mut found, mut ops) = (0, std::collections::BTreeSet::new());
        for _ in 0..400 {
            let (n, q1, op, q2, v) = strategy.new_tree(&mut runner).unwrap().current();
            let text = format!("{n}{q1} {op} {q2}{v}{q2}");
            let sh = shadow(&text);
            let mut out = Vec::new();
            detectors().run(
                &detectors().detectors[detectors().hand[0]],
                &text,
                &sh,
                0,
                &mut out,
            );
            if !out.is_empty() {
                found += 1;
                ops.insert(op);
                assert!(
                    assignment_hits(&sh).next().is_some(),
                    "gate missed {text:?}"
                );
            }
        }
        assert!(
            found > 100,
            "only {found} of 400 generated assignments hold a secret"
        );
        assert!(ops.len() >= 6, "secrets found behind only {ops:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whenever the `NAME = value` detector, run with no gate at all, redacts something,
        /// the hand-written gate lets the text through: the gate never costs recall.
        #[test]
        fn the_hand_gate_lets_every_assignment_through(
            before in "[ a-z{(\\[\"'\\n]{0,4}",
            name in name(),
            q1 in quote(),
            pad1 in "[ \t]{0,2}",
            op in operator(),
            pad2 in "[ \t]{0,2}",
            q2 in quote(),
            inner in "[ ]{0,2}",
            value in value(),
            after in "[ \"'`,;)}\\]\\n]{0,3}",
        ) {
            let text = format!("{before}{name}{q1}{pad1}{op}{pad2}{q2}{inner}{value}{q2}{after}");
            let d = detectors();
            let sh = shadow(&text);
            let mut found = Vec::new();
            d.run(&d.detectors[d.hand[0]], &text, &sh, 0, &mut found);
            if !found.is_empty() {
                prop_assert!(assignment_hits(&sh).next().is_some(), "gate missed {:?} in {:?}", found, text);
            }
            // and running the detector only near the gate's hits finds the same
            let mut near = Vec::new();
            d.run_near(&d.detectors[d.hand[0]], HandRule::Assignment, &text, &sh, &mut near);
            prop_assert_eq!(format!("{near:?}"), format!("{found:?}"), "in {:?}", text);
        }
    }

    /// Running the hand-gated detectors near their hits finds exactly what running them over
    /// the whole text finds, on the redaction corpus and on every real transcript line.
    #[test]
    fn near_hits_equals_everywhere() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut texts = Vec::new();
        for dir in ["tests/redaction/positives", "tests/redaction/negatives"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
                texts.push(std::fs::read_to_string(e.path()).unwrap());
            }
        }
        let data = root.join("../../../shared/data/transcripts");
        for e in std::fs::read_dir(data).unwrap().flatten() {
            if e.path().extension().is_some_and(|x| x == "jsonl") {
                let text = std::fs::read_to_string(e.path()).unwrap();
                texts.extend(text.lines().map(str::to_string));
            }
        }
        let d = detectors();
        let mut with_findings = 0;
        for t in &texts {
            let (mut near, mut whole) = (Vec::new(), Vec::new());
            d.plain_with(t, true, &mut near);
            d.plain_with(t, false, &mut whole);
            assert_eq!(format!("{near:?}"), format!("{whole:?}"), "{t}");
            with_findings += !near.is_empty() as usize;
        }
        assert!(with_findings >= 30, "{with_findings}");
    }

    #[test]
    fn date_utc_flag_is_not_curl_user() {
        let found = |t: &str| {
            let mut out = Vec::new();
            detectors().plain(t, &mut out);
            out.len()
        };
        for t in [
            "TS=$(date -u +%Y-%m-%dT%H:%M:%S.%3N);echo $TS",
            "date -u +%H:%M:%S.%3N",
            "date -u '+%Y-%m-%dT%H:%M:%S.%6N'",
        ] {
            assert_eq!(found(t), 0, "{t}");
        }
        assert_eq!(
            found("curl -u ci-bot:SKoTOYKXVmD4Eh9n https://ci.test/job"),
            1
        );
        assert_eq!(
            found("curl -u ci-bot:%Y-%m-%dT%H%M%S9xQ https://ci.test/job"),
            1
        );
    }

    #[test]
    fn shadow_blanks_escape_letters() {
        assert_eq!(shadow(r#"a\nghp_\"x\u0041y"#), r#"a\ ghp_\"x\     y"#);
        assert_eq!(shadow(r"\\\\nx"), r"\\\\ x");
    }

    #[test]
    fn base64() {
        assert_eq!(
            base64_decode("eyJhbGciOiJIUzI1NiJ9").unwrap(),
            br#"{"alg":"HS256"}"#
        );
        assert_eq!(base64_decode("dXNlcjpwYXNz").unwrap(), b"user:pass");
    }
}
