//! The plain-text detectors: one regex per form of secret, each behind a literal gate (all
//! gates form one `RegexSet`, so text that holds no candidate substring costs one pass).
//!
//! Detectors run on a *shadow* of the text, of the same length, in which the letter of every
//! backslash escape (`\n`, `\t`, `\u00e9`…) is blanked: text that is itself JSON-escaped
//! (a JSONL line that failed to parse, JSON nested in a string) then has word boundaries where
//! its escapes are, while quotes and backslashes stay, so no token alphabet swallows them.

use std::borrow::Cow;

use regex::{Captures, Regex, RegexSet};

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
    /// Every regex gate in one regex, to find where gates hit (not only whether).
    gate_any: Regex,
    detectors: Vec<Detector>,
    /// A `\uXXXX` escape of a character that could belong to a gate's literal.
    escaped_literal: Regex,
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

/// Fewest bytes a value can have and be redacted by an assignment rule (`looks_secret`).
const MIN_ASSIGNED: usize = 8;

/// Words that make a name worth checking with [`value::name_class`].
const NAME_WORDS: &str = "token|secret|passw|pwd|pass|key|auth|credential|creds|cred|bearer|pw";

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
            "AKIA|ASIA".to_string(),
            format!(r"{b}(?P<s>(?:AKIA|ASIA)[A-Z2-7]{{16}})(?:[^A-Za-z0-9_]|$)"),
        ),
        (
            Rule::AwsPrompt,
            "ecret_access_key|ECRET_ACCESS_KEY|ecret Access Key|ecret access key".to_string(),
            r"(?i:aws[ _]secret[ _]access[ _]key)(?:[ \t]*\[[^\]\r\n]*\])?[ \t]*[:=][ \t]*(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+]|$)".to_string(),
        ),
        (
            Rule::Token(GitHub),
            "ghp_|gho_|ghu_|ghs_|ghr_|github_pat_".to_string(),
            format!(
                r"{b}(?P<s>gh[pousr]_[A-Za-z0-9]{{36,}}|github_pat_[A-Za-z0-9_]{{40,}})(?:[^A-Za-z0-9_]|$)"
            ),
        ),
        (
            Rule::Token(GitLab),
            "glpat-|gldt-|glrt-|glcbt-|glptt-|glft-|glimt-|glagent-|gloas-|glsoat-|glffct-|GR1348941".to_string(),
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
            r"hooks\.slack\.com/".to_string(),
            r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<s>[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)+)".to_string(),
        ),
        (
            Rule::Token(Stripe),
            "k_live_|k_test_|k_prod_|whsec_".to_string(),
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
            "authorization|Authorization|AUTHORIZATION".to_string(),
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
            r"npm_|pypi-AgEIcHlwaS5vcmc|hf_|SG\.|sk-or-v1-|dop_v1_".to_string(),
            format!(
                r"{b}(?P<s>npm_[A-Za-z0-9]{{36}}|pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{{50,}}|hf_[A-Za-z]{{34}}|SG\.[A-Za-z0-9_-]{{22}}\.[A-Za-z0-9_-]{{43}}|sk-or-v1-[a-f0-9]{{64}}|dop_v1_[a-f0-9]{{64}})(?:[^A-Za-z0-9_-]|$)"
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
            r"login[ \t]".to_string(),
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
        let any: Vec<String> = set_rules
            .iter()
            .map(|&i| format!("(?:{})", specs[i].1))
            .collect();
        let gate_any = Regex::new(&any.join("|")).expect("gates compile");
        let detectors = specs
            .into_iter()
            .map(|(rule, _, re)| Detector {
                rule,
                re: Regex::new(&re).unwrap_or_else(|e| panic!("detector {rule:?}: {e}")),
            })
            .collect();
        let escaped_literal =
            Regex::new(r"\\u00(?:2[0bdefBDEF]|3[0-9aAdD]|[4-7][0-9a-fA-F])").expect("compiles");
        Detectors {
            gates,
            set_rules,
            hand,
            gate_any,
            detectors,
            escaped_literal,
        }
    }

    /// Could `text` hold a secret, directly or behind `\uXXXX` escapes? False is definitive.
    pub(super) fn may_match(&self, text: &str) -> bool {
        self.gates.is_match(text)
            || hand_hits(text).next().is_some()
            || (text.contains("\\u") && self.escaped_literal.is_match(text))
    }

    /// Where gates hit in `text`: byte ranges, in order. Every occurrence of a gate's literal
    /// overlaps one of them (matches do not overlap each other, but a literal swallowed by an
    /// earlier match lies inside that match).
    pub(super) fn gate_hits(&self, text: &str) -> Vec<(usize, usize)> {
        let mut hits: Vec<(usize, usize)> = self
            .gate_any
            .find_iter(text)
            .map(|m| (m.start(), m.end()))
            .collect();
        let before = hits.len();
        hits.extend(hand_hits(text).map(|h| (h.start, h.end)));
        if hits.len() > before {
            hits.sort_unstable();
        }
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
                    if d.rule.phase() == phase {
                        self.run(d, text, &cur, out);
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

    fn run(&self, d: &Detector, text: &str, sh: &str, out: &mut Vec<Span>) {
        let mut pos = 0;
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

/// A copy of `text` with the letter of every backslash escape blanked (see the module docs).
fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')
}

/// Does `name` hold a secret keyword (`token`, `secret`, `pass`, `pw`, `key`, `auth`, `cred`,
/// `bearer`), in any case? One pass, dispatching on each byte.
fn has_keyword(name: &[u8]) -> bool {
    let at = |i: usize, k: &[u8]| {
        name.len() - i >= k.len() && name[i..i + k.len()].eq_ignore_ascii_case(k)
    };
    (0..name.len()).any(|i| match name[i] | 0x20 {
        b't' => at(i, b"token"),
        b's' => at(i, b"secret"),
        b'p' => at(i, b"pw") || at(i, b"pass"),
        b'k' => at(i, b"key"),
        b'a' => at(i, b"auth"),
        b'c' => at(i, b"cred"),
        b'b' => at(i, b"bearer"),
        _ => false,
    })
}

/// Type annotations the `NAME = value` rule allows between `:` and `=` (`const KEY: &str = …`).
const ANNOTATIONS: [&[u8]; 6] = [
    b"&'static",
    b"&str",
    b"Option<String>",
    b"String",
    b"string",
    b"str",
];

/// Where the `NAME = value` rule could find something to redact: for every `:` or `=`, a name
/// right before it (spaces and a quote, escaped any number of times, allowed in between) that
/// holds a keyword, and a value right after it (`=>` and `:=` operators, a type annotation, a
/// quote and spaces allowed before it) of at least [`MIN_ASSIGNED`] bytes with no whitespace,
/// escapes counted as value bytes. The ranges cover the name through the value's start.
///
/// It over-approximates the rule's regex followed by `looks_secret` (which wants at least 8
/// bytes and no whitespace): every assignment that could be redacted is a hit.
fn assignment_at(b: &[u8], p: usize) -> Option<(usize, usize)> {
    {
        // The name, backwards.
        let mut i = p;
        while i > 0 && matches!(b[i - 1], b' ' | b'\t') {
            i -= 1;
        }
        if i > 0 && matches!(b[i - 1], b'"' | b'\'' | b'`') {
            i -= 1;
            while i > 0 && b[i - 1] == b'\\' {
                i -= 1;
            }
        }
        let name_end = i;
        while i > 0 && is_name_byte(b[i - 1]) {
            i -= 1;
        }
        if i == name_end || !has_keyword(&b[i..name_end]) {
            return None;
        }
        // The value, forwards.
        let mut j = p + 1;
        if (b[p] == b':' && b.get(j) == Some(&b'=')) || (b[p] == b'=' && b.get(j) == Some(&b'>')) {
            j += 1;
        }
        let skip_blank = |mut j: usize| {
            while j < b.len() && matches!(b[j], b' ' | b'\t') {
                j += 1;
            }
            j
        };
        j = skip_blank(j);
        if b[p] == b':'
            && let Some(t) = ANNOTATIONS.iter().find(|t| b[j..].starts_with(t))
        {
            let mut k = skip_blank(j + t.len());
            if *t == b"&'static" {
                if !b[k..].starts_with(b"str") {
                    return None;
                }
                k = skip_blank(k + 3);
            }
            if b.get(k) == Some(&b'=') {
                j = skip_blank(k + 1);
            }
        }
        let mut k = j;
        while k < b.len() && b[k] == b'\\' {
            k += 1;
        }
        let quote = (k < b.len() && matches!(b[k], b'"' | b'\'' | b'`')).then(|| b[k]);
        let mut v = if quote.is_some() {
            skip_blank(k + 1)
        } else {
            j
        };
        let start = v;
        while v < b.len() && v - start < MIN_ASSIGNED {
            let c = b[v];
            if c == b'\\' {
                v += 2;
                continue;
            }
            let stop = c.is_ascii_whitespace()
                || match quote {
                    Some(q) => c == q,
                    None => b"\"'`,;&)}]".contains(&c),
                };
            if stop {
                break;
            }
            v += 1;
        }
        (v - start >= MIN_ASSIGNED).then_some((i, v.min(b.len())))
    }
}

/// Which hand-gated rule a hit is for (in [`HAND_GATES`] order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HandRule {
    Assignment = 0,
    List = 1,
    Url = 2,
    Tag = 3,
}

/// A hit of a hand-written gate: a byte range and its rule.
#[derive(Debug, Clone, Copy)]
struct HandHit {
    start: usize,
    end: usize,
    rule: HandRule,
}

/// Where the `name: X / value: …` rule could match: a `:` or `=` after a word ending in `name`
/// or `key` (quotes and spaces allowed between) and before a name that holds a keyword.
fn list_at(b: &[u8], p: usize) -> Option<(usize, usize)> {
    let mut i = p;
    while i > 0 && matches!(b[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    while i > 0 && matches!(b[i - 1], b'"' | b'\'' | b'\\') {
        i -= 1;
    }
    let word_end = i;
    while i > 0 && is_name_byte(b[i - 1]) {
        i -= 1;
    }
    let word = &b[i..word_end];
    let ends =
        |k: &[u8]| word.len() >= k.len() && word[word.len() - k.len()..].eq_ignore_ascii_case(k);
    if !ends(b"name") && !ends(b"key") {
        return None;
    }
    let mut j = p + 1;
    while j < b.len() && matches!(b[j], b' ' | b'\t' | b'"' | b'\'' | b'\\') {
        j += 1;
    }
    let start = j;
    while j < b.len() && is_name_byte(b[j]) {
        j += 1;
    }
    has_keyword(&b[start..j]).then_some((i, j))
}

/// Where the URL-password rule could match: `://` (slashes escaped any number of times) at
/// `p`, then userinfo with a `:` and an `@`, as the rule's regex reads them.
fn url_at(b: &[u8], p: usize) -> Option<(usize, usize)> {
    let mut j = p + 1;
    for _ in 0..2 {
        while j < b.len() && b[j] == b'\\' {
            j += 1;
        }
        if b.get(j) != Some(&b'/') {
            return None;
        }
        j += 1;
    }
    let stop = |c: u8| c.is_ascii_whitespace() || b"/?#@\"'\\<>{}|".contains(&c);
    while j < b.len() && !stop(b[j]) && !b"[]:".contains(&b[j]) {
        j += 1;
    }
    if b.get(j) != Some(&b':') {
        return None;
    }
    j += 1;
    let password = j;
    while j < b.len() && !stop(b[j]) {
        j += 1;
    }
    (j > password && b.get(j) == Some(&b'@')).then_some((p, j + 1))
}

/// Where the `<name>value</` rule could match: `<` at `p`, a name holding a keyword, `>`.
fn tag_at(b: &[u8], p: usize) -> Option<(usize, usize)> {
    let mut j = p + 1;
    while j < b.len() && is_name_byte(b[j]) {
        j += 1;
    }
    (b.get(j) == Some(&b'>') && has_keyword(&b[p + 1..j])).then_some((p, j + 1))
}

/// The hits of the hand-written gates, from one pass over every `:`, `=` and `<` of `text`.
fn hand_hits(text: &str) -> impl Iterator<Item = HandHit> + '_ {
    let b = text.as_bytes();
    memchr::memchr3_iter(b':', b'=', b'<', b).flat_map(move |p| {
        let hit = |rule: HandRule| move |(start, end): (usize, usize)| HandHit { start, end, rule };
        let (a, l, u, t) = match b[p] {
            b'<' => (None, None, None, tag_at(b, p).map(hit(HandRule::Tag))),
            c => (
                assignment_at(b, p).map(hit(HandRule::Assignment)),
                list_at(b, p).map(hit(HandRule::List)),
                if c == b':' {
                    url_at(b, p).map(hit(HandRule::Url))
                } else {
                    None
                },
                None,
            ),
        };
        a.into_iter().chain(l).chain(u).chain(t)
    })
}

/// The `NAME = value` hits alone.
#[cfg(test)]
fn assignment_hits(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    hand_hits(text)
        .filter(|h| h.rule == HandRule::Assignment)
        .map(|h| (h.start, h.end))
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
            d.run(&d.detectors[d.hand[0]], &text, &sh, &mut found);
            if !found.is_empty() {
                prop_assert!(assignment_hits(&sh).next().is_some(), "gate missed {:?} in {:?}", found, text);
            }
        }
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
