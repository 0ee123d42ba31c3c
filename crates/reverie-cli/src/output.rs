//! Writing results: JSON for programs, aligned text for people, and a quiet exit when the
//! reader of a pipe goes away (`reverie get … | head`).

use std::io::Write;

use serde::Serialize;

/// Writes a line to standard output; a closed pipe ends the process successfully.
pub fn emit(line: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}").and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {e}");
        std::process::exit(crate::exit::FAILURE);
    }
}

/// Writes memory content as it is (a newline added only on a terminal).
pub fn emit_raw(text: &str) {
    use std::io::IsTerminal;
    let mut out = std::io::stdout().lock();
    // Byte-exact into a pipe or a file; on a terminal, content without a final newline gets
    // one, so that the prompt does not land at the end of its last line.
    let newline = !text.is_empty() && !text.ends_with('\n') && out.is_terminal();
    let written = out
        .write_all(text.as_bytes())
        .and_then(|_| {
            if newline {
                out.write_all(b"\n")
            } else {
                Ok(())
            }
        })
        .and_then(|_| out.flush());
    if let Err(e) = written {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {e}");
        std::process::exit(crate::exit::FAILURE);
    }
}

/// Pretty JSON of a value.
pub fn json<T: Serialize>(value: &T) {
    emit(&serde_json::to_string_pretty(value).expect("reverie's objects serialize"));
}

/// Rows of columns, left-aligned, two spaces apart; the last column is not padded.
pub fn table(rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; cols];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        emit(line.trim_end());
    }
}

/// A byte count for people.
pub fn size(bytes: i64) -> String {
    reverie_core::memtool::format_file_size(bytes.max(0) as u64)
}

/// A path made safe to print on a terminal: control characters shown as escapes.
pub fn safe(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}
