//! Session ingest: agent transcripts in, normalized and redacted sessions out.
//!
//! Parsers are chosen from the content, not the file name ([`detect`]). Redaction
//! ([`redact`]) runs on every raw line or document before anything is parsed or stored, so no
//! secret reaches the store in any form. Files are read as streams ([`lines`]), so memory stays
//! bounded whatever their size.

pub mod claude;
pub mod codex;
pub mod detect;
pub mod lines;
pub mod messages;
pub mod normalize;
pub mod pipeline;
pub mod read;
pub mod redact;
pub mod report;
pub mod text;

pub use pipeline::{Ingest, Options, Progress, Quiet};
pub use report::{FileReport, FileStatus, IngestReport};
