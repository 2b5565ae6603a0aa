//! Kafka's checkpoint text files: a version line (`0`), an entry-count line,
//! then one entry per line, fields separated by single spaces. Written to a
//! `.tmp` sibling, fsynced, renamed over the target, and the directory
//! fsynced, so a reader sees the old file or the new one, never a mix.
//!
//! - `recovery-point-offset-checkpoint`, `log-start-offset-checkpoint`
//!   (data dir): `topic partition offset`;
//! - `leader-epoch-checkpoint` (partition dir): `epoch startOffset`.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::str::FromStr;

use super::error::{IoContext, Result, StorageError};

pub const RECOVERY_POINT_FILE: &str = "recovery-point-offset-checkpoint";
pub const LOG_START_OFFSET_FILE: &str = "log-start-offset-checkpoint";
pub const LEADER_EPOCH_FILE: &str = "leader-epoch-checkpoint";
const VERSION: &str = "0";

/// Writes `lines` as a version-0 checkpoint at `path`, atomically.
pub fn write_lines(path: &Path, lines: &[String]) -> Result<()> {
    let mut text = format!("{VERSION}\n{}\n", lines.len());
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = Path::new(&tmp_name);
    {
        let mut f = File::create(tmp).at(tmp)?;
        f.write_all(text.as_bytes()).at(tmp)?;
        f.sync_all().at(tmp)?;
    }
    fs::rename(tmp, path).at(path)?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Makes a rename or a new file in `dir` durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).at(dir)
}

/// The entry lines of the checkpoint at `path`; `None` if it does not exist.
pub fn read_lines(path: &Path) -> Result<Option<Vec<String>>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).at(path),
    };
    let bad = |reason: String| StorageError::Checkpoint {
        path: path.to_path_buf(),
        reason,
    };
    let mut lines = text.lines();
    match lines.next() {
        Some(VERSION) => {}
        other => return Err(bad(format!("unsupported version line {other:?}"))),
    }
    let count: usize = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| bad("missing or invalid entry count".to_string()))?;
    let entries: Vec<String> = lines.map(str::to_string).collect();
    if entries.len() != count {
        return Err(bad(format!(
            "expected {count} entries, found {}",
            entries.len()
        )));
    }
    Ok(Some(entries))
}

fn malformed(path: &Path, line: &str) -> StorageError {
    StorageError::Checkpoint {
        path: path.to_path_buf(),
        reason: format!("malformed line {line:?}"),
    }
}

fn field<T: FromStr>(path: &Path, line: &str, v: Option<&str>) -> Result<T> {
    v.and_then(|s| s.parse().ok())
        .ok_or_else(|| malformed(path, line))
}

/// `(topic, partition, offset)` entries of a data-dir checkpoint.
pub fn read_offsets(path: &Path) -> Result<Vec<(String, i32, i64)>> {
    let mut out = Vec::new();
    for line in read_lines(path)?.unwrap_or_default() {
        let mut it = line.split(' ');
        let topic: String = field(path, &line, it.next())?;
        let partition = field(path, &line, it.next())?;
        let offset = field(path, &line, it.next())?;
        if topic.is_empty() || it.next().is_some() {
            return Err(malformed(path, &line));
        }
        out.push((topic, partition, offset));
    }
    Ok(out)
}

pub fn write_offsets(path: &Path, entries: &[(String, i32, i64)]) -> Result<()> {
    for (t, _, _) in entries {
        if t.is_empty() || t.contains(char::is_whitespace) {
            return Err(StorageError::InvalidArgument(format!(
                "topic name {t:?} in checkpoint"
            )));
        }
    }
    let lines: Vec<String> = entries
        .iter()
        .map(|(t, p, o)| format!("{t} {p} {o}"))
        .collect();
    write_lines(path, &lines)
}

/// `(epoch, start_offset)` entries of a leader-epoch checkpoint.
pub fn read_epochs(path: &Path) -> Result<Vec<(i32, i64)>> {
    let mut out = Vec::new();
    for line in read_lines(path)?.unwrap_or_default() {
        let mut it = line.split(' ');
        let epoch = field(path, &line, it.next())?;
        let offset = field(path, &line, it.next())?;
        if it.next().is_some() {
            return Err(malformed(path, &line));
        }
        out.push((epoch, offset));
    }
    Ok(out)
}

pub fn write_epochs(path: &Path, entries: &[(i32, i64)]) -> Result<()> {
    let lines: Vec<String> = entries.iter().map(|(e, o)| format!("{e} {o}")).collect();
    write_lines(path, &lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_format() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(RECOVERY_POINT_FILE);
        assert_eq!(read_offsets(&p).unwrap(), vec![]);
        let e = vec![("a.b-c".to_string(), 3, 42), ("t".to_string(), 0, 0)];
        write_offsets(&p, &e).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "0\n2\na.b-c 3 42\nt 0 0\n");
        assert_eq!(read_offsets(&p).unwrap(), e);
        let q = dir.path().join(LEADER_EPOCH_FILE);
        write_epochs(&q, &[(0, 0), (3, 100)]).unwrap();
        assert_eq!(read_epochs(&q).unwrap(), vec![(0, 0), (3, 100)]);
    }

    #[test]
    fn malformed_files_name_themselves() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cp");
        for bad in [
            "1\n0\n",
            "0\n2\nt 0 1\n",
            "0\n1\nt x 1\n",
            "0\n1\nt 0 1 9\n",
            "",
        ] {
            fs::write(&p, bad).unwrap();
            let err = read_offsets(&p).unwrap_err().to_string();
            assert!(err.contains("cp"), "{bad:?}: {err}");
        }
    }
}
