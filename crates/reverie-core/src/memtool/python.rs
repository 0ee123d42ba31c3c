//! Small pieces of Python semantics that the reference implementation's output depends on:
//! file-size formatting, line numbering, slicing, substring counting, and the `repr` of the
//! exceptions that escape it.

/// `_format_file_size` of the reference: `0B`, `12B`, `4K`, `1.5K`, `58.6K`.
pub fn format_file_size(bytes: u64) -> String {
    if bytes == 0 {
        return "0B".to_string();
    }
    const UNITS: [&str; 4] = ["B", "K", "M", "G"];
    let bit_length = 64 - bytes.leading_zeros() as usize;
    let i = ((bit_length - 1) / 10).min(UNITS.len() - 1);
    let size = bytes as f64 / 1024f64.powi(i as i32);
    if size == size.trunc() {
        format!("{}{}", size as u64, UNITS[i])
    } else {
        format!("{}{}", format_one_decimal(size), UNITS[i])
    }
}

/// Python's `f"{x:.1f}"`: the exact binary value rounded half to even at one decimal.
fn format_one_decimal(x: f64) -> String {
    // x = bytes / 1024^i is exactly representable, so x * 10 is exact as well for the sizes a
    // memory can have; the rounding below therefore sees the exact value, as Python does.
    let scaled = x * 10.0;
    let floor = scaled.floor();
    let frac = scaled - floor;
    let mut tenths = floor as u64;
    if frac > 0.5 || (frac == 0.5 && tenths % 2 == 1) {
        tenths += 1;
    }
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// One numbered line as the reference prints it: the number right-aligned in six columns.
pub fn numbered(n: usize, line: &str) -> String {
    format!("{n:>6}\t{line}")
}

/// Python's `seq[start:end]` bounds for a non-negative `start` and any `end`.
pub fn slice_bounds(len: usize, start: usize, end: i64) -> (usize, usize) {
    let len_i = len as i64;
    let end = if end < 0 {
        (end + len_i).max(0)
    } else {
        end.min(len_i)
    } as usize;
    let start = start.min(len);
    if start >= end {
        (start, start)
    } else {
        (start, end)
    }
}

/// Python's `haystack.count(needle)`: non-overlapping occurrences, and `chars + 1` for an empty
/// needle.
pub fn count(haystack: &str, needle: &str) -> usize {
    if needle.is_empty() {
        return haystack.chars().count() + 1;
    }
    haystack.matches(needle).count()
}

/// The byte offsets the reference's `find` loop visits: every occurrence, overlapping ones
/// included (it resumes one character after each match).
pub fn overlapping_positions(haystack: &str, needle: &str) -> Vec<usize> {
    let mut positions = Vec::new();
    let mut start = 0;
    while start <= haystack.len() {
        let Some(rel) = haystack[start..].find(needle) else {
            break;
        };
        let pos = start + rel;
        positions.push(pos);
        // One character further, as `start = pos + 1` does on a Python str.
        start = pos + haystack[pos..].chars().next().map_or(1, char::len_utf8);
    }
    positions
}

/// The line (1-based) holding byte offset `pos`.
pub fn line_of(haystack: &str, pos: usize) -> usize {
    haystack.as_bytes()[..pos]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The lines (1-based) holding each of `positions`, which must be increasing: one pass over
/// the text, where [`line_of`] on each would take time quadratic in its length (a 100 KB
/// memory has 100,001 positions of `""`).
pub fn lines_of(haystack: &str, positions: &[usize]) -> Vec<usize> {
    let bytes = haystack.as_bytes();
    let (mut line, mut at) = (1, 0);
    positions
        .iter()
        .map(|&pos| {
            line += bytes[at..pos].iter().filter(|&&b| b == b'\n').count();
            at = pos;
            line
        })
        .collect()
}

/// `str.rstrip("\n")`.
pub fn rstrip_newlines(s: &str) -> &str {
    s.trim_end_matches('\n')
}

/// The errors that escape the reference as exceptions rather than `ToolError`s; the tool runner
/// reports them with `repr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errno {
    NoEnt,
    Exist,
    NotDir,
    IsDir,
    Inval,
    NotEmpty,
    NameTooLong,
}

impl Errno {
    /// `repr()` of the `OSError` subclass Python raises for this errno.
    pub fn repr(self) -> &'static str {
        match self {
            Errno::NoEnt => "FileNotFoundError(2, 'No such file or directory')",
            Errno::Exist => "FileExistsError(17, 'File exists')",
            Errno::NotDir => "NotADirectoryError(20, 'Not a directory')",
            Errno::IsDir => "IsADirectoryError(21, 'Is a directory')",
            Errno::Inval => "OSError(22, 'Invalid argument')",
            Errno::NotEmpty => "OSError(39, 'Directory not empty')",
            Errno::NameTooLong => "OSError(36, 'File name too long')",
        }
    }

    /// Errors `Path.exists()`/`is_file()`/`is_dir()` swallow as "no".
    pub fn is_ignored_by_path_tests(self) -> bool {
        matches!(self, Errno::NoEnt | Errno::NotDir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_the_reference() {
        let cases = [
            (0, "0B"),
            (3, "3B"),
            (1000, "1000B"),
            (1023, "1023B"),
            (1024, "1K"),
            (1075, "1.0K"),
            (1100, "1.1K"),
            (1280, "1.2K"), // 1.25 exactly: half to even
            (1331, "1.3K"),
            (1536, "1.5K"),
            (1792, "1.8K"), // 1.75 exactly: half to even
            (4096, "4K"),
            (60000, "58.6K"),
            (102400, "100K"),
            (1 << 20, "1M"),
        ];
        for (bytes, want) in cases {
            assert_eq!(format_file_size(bytes), want, "{bytes}");
        }
    }

    #[test]
    fn python_slices() {
        assert_eq!(slice_bounds(6, 0, -2), (0, 4));
        assert_eq!(slice_bounds(6, 4, 1), (4, 4));
        assert_eq!(slice_bounds(6, 2, 100), (2, 6));
        assert_eq!(slice_bounds(6, 9, 12), (6, 6));
        assert_eq!(slice_bounds(6, 0, -100), (0, 0));
    }

    #[test]
    fn counting_like_python() {
        assert_eq!(count("aaaa\naaa", "aa"), 3);
        assert_eq!(count("abc", ""), 4);
        assert_eq!(count("", ""), 1);
        assert_eq!(count("é", ""), 2);
        let pos = overlapping_positions("aaaa\naaa", "aa");
        let lines: Vec<usize> = pos.iter().map(|&p| line_of("aaaa\naaa", p)).collect();
        assert_eq!(lines, vec![1, 1, 1, 2, 2]);
        assert_eq!(lines_of("aaaa\naaa", &pos), lines);
        assert_eq!(
            lines_of("a\n\nb\n", &[0, 1, 2, 3, 4, 5]),
            vec![1, 1, 2, 3, 3, 4]
        );
        assert_eq!(overlapping_positions("abc", "").len(), 4);
        assert_eq!(overlapping_positions("éé", ""), vec![0, 2, 4]);
    }
}
