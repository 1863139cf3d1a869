//! State files: per operator, `<version>.<lo>-<hi>.delta` (the keys of key groups `lo..hi`
//! changed in the batch that made `version`) and `<version>.snapshot` (every key at
//! `version`), as MessagePack records `[key group, key, value]`, or `[key group, key]` for a
//! key removed (not a `nil` value, which is a value like any other, e.g. `None` or `()`); and
//! `_metadata`, what the operator is.

use super::json::Json;
use super::store::Map;
use super::StateCtx;
use crate::checkpoint;
use crate::error::{Result, StreamError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::hash::Hash;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One file of an operator's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StateFile {
    pub version: u64,
    /// The key groups of a delta; `None` for a snapshot (all of them).
    pub groups: Option<Range<u32>>,
    pub path: PathBuf,
}

impl StateFile {
    fn parse(path: PathBuf) -> Option<StateFile> {
        let name = path.file_name()?.to_str()?;
        if let Some(v) = name.strip_suffix(".snapshot") {
            return Some(StateFile {
                version: v.parse().ok()?,
                groups: None,
                path,
            });
        }
        let rest = name.strip_suffix(".delta")?;
        let (v, range) = rest.split_once('.')?;
        let (lo, hi) = range.split_once('-')?;
        Some(StateFile {
            version: v.parse().ok()?,
            groups: Some(lo.parse().ok()?..hi.parse().ok()?),
            path,
        })
    }
}

fn error(path: &Path, what: impl std::fmt::Display) -> StreamError {
    StreamError::Checkpoint(format!("state file `{}`: {what}", path.display()))
}

/// The state files of the operator in `dir`, by version.
pub(crate) fn list(dir: &Path) -> Result<Vec<StateFile>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(error(dir, format!("cannot list: {e}"))),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| error(dir, format!("cannot list: {e}")))?;
        files.extend(StateFile::parse(entry.path()));
    }
    files.sort_by_key(|f| (f.version, f.groups.as_ref().map(|g| g.start)));
    Ok(files)
}

/// The files to read for `version` of key groups `range`: the newest snapshot at or before it
/// (if any), then every delta after it up to `version`; each version's deltas must cover the
/// range (every worker writes one per version).
pub(crate) fn files_for(dir: &Path, version: u64, range: &Range<u32>) -> Result<Vec<StateFile>> {
    let files = list(dir)?;
    let snapshot = files
        .iter()
        .filter(|f| f.groups.is_none() && f.version <= version)
        .max_by_key(|f| f.version);
    let from = snapshot.map_or(1, |s| s.version + 1);
    let mut out: Vec<StateFile> = snapshot.into_iter().cloned().collect();
    for v in from..=version {
        let deltas: Vec<&StateFile> = files
            .iter()
            .filter(|f| f.version == v)
            .filter(|f| {
                f.groups
                    .as_ref()
                    .is_some_and(|g| g.start < range.end && range.start < g.end)
            })
            .collect();
        let mut covered: Vec<Range<u32>> = deltas.iter().filter_map(|f| f.groups.clone()).collect();
        covered.sort_by_key(|r| r.start);
        let mut next = range.start;
        for r in &covered {
            if r.start <= next {
                next = next.max(r.end);
            }
        }
        if next < range.end && range.start < range.end {
            return Err(StreamError::Checkpoint(format!(
                "the state in `{}` lacks version {v} for key groups {next}..{} (a delta or \
                 snapshot file is missing): the checkpoint is incomplete",
                dir.display(),
                range.end
            )));
        }
        out.extend(deltas.into_iter().cloned());
    }
    Ok(out)
}

/// A record of a state file: `[group, key, value]`, or `[group, key]` for a removed key.
struct StateRecord<K, V>(u32, K, Option<V>);

impl<'de, K: serde::Deserialize<'de>, V: serde::Deserialize<'de>> serde::Deserialize<'de>
    for StateRecord<K, V>
{
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit<K, V>(std::marker::PhantomData<(K, V)>);
        impl<'de, K: serde::Deserialize<'de>, V: serde::Deserialize<'de>> serde::de::Visitor<'de>
            for Visit<K, V>
        {
            type Value = StateRecord<K, V>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a record [key group, key] or [key group, key, value]")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                use serde::de::Error;
                let group = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let key = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(1, &self))?;
                Ok(StateRecord(group, key, seq.next_element()?))
            }
        }
        d.deserialize_seq(Visit(std::marker::PhantomData))
    }
}

/// Reads the records of `path`, typed (`None`: the key was removed).
fn read_records<K: DeserializeOwned, V: DeserializeOwned>(
    path: &Path,
) -> Result<Vec<(u32, K, Option<V>)>> {
    let bytes = std::fs::read(path).map_err(|e| error(path, format!("cannot read: {e}")))?;
    let mut cursor = std::io::Cursor::new(&bytes[..]);
    let mut out = Vec::new();
    while (cursor.position() as usize) < bytes.len() {
        let at = cursor.position();
        let StateRecord(group, key, value) = rmp_serde::decode::from_read(&mut cursor).map_err(|e| {
            error(
                path,
                format!("unreadable record at byte {at} ({e}): corrupt, truncated, or written by another query"),
            )
        })?;
        out.push((group, key, value));
    }
    Ok(out)
}

/// The state of operator `op` at the context's version, for this worker's key groups.
pub(crate) fn restore<K, V>(ctx: &StateCtx, op: usize) -> Result<Map<K, V>>
where
    K: Hash + Eq + DeserializeOwned,
    V: DeserializeOwned,
{
    let mut map = Map::default();
    if ctx.version == 0 {
        return Ok(map);
    }
    let range = ctx.range();
    for file in files_for(&ctx.op_dir(op), ctx.version, &range)? {
        for (group, key, value) in read_records::<K, V>(&file.path)? {
            if !range.contains(&group) {
                continue;
            }
            match value {
                Some(v) => {
                    map.insert(key, v);
                }
                None => {
                    map.remove(&key);
                }
            }
        }
    }
    Ok(map)
}

/// Writes the delta of `version` for this worker's key groups.
pub(crate) fn write_delta<K: Serialize, V: Serialize>(
    ctx: &StateCtx,
    op: usize,
    version: u64,
    records: &[(u32, K, Option<&V>)],
) -> Result<()> {
    let dir = ctx.op_dir(op);
    let range = ctx.range();
    let path = dir.join(format!("{version}.{}-{}.delta", range.start, range.end));
    let mut bytes = Vec::with_capacity(records.len() * 32);
    for (group, key, value) in records {
        let written = match value {
            Some(v) => rmp_serde::encode::write_named(&mut bytes, &(group, key, v)),
            None => rmp_serde::encode::write_named(&mut bytes, &(group, key)),
        };
        written.map_err(|e| error(&path, format!("cannot encode a record: {e}")))?;
    }
    checkpoint::write_atomic(&path, &bytes)
}

/// Records what operator `op` is in its `_metadata` (at the first start), or checks that a
/// restarted query's operator is the same: state written by another operator cannot be read
/// back as this one's.
pub(crate) fn check_operator(ctx: &StateCtx, op: usize, kind: &str) -> Result<()> {
    let dir = ctx.op_dir(op);
    checkpoint::create_dir(&dir)?;
    let path = dir.join("_metadata");
    let meta = serde_json::json!({
        "operatorId": op,
        "operatorName": kind,
        "keyGroups": ctx.groups.count,
    });
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let old: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| error(&path, format!("is not JSON ({e})")))?;
            if old["operatorName"] != meta["operatorName"] {
                return Err(StreamError::Checkpoint(format!(
                    "stateful operator {op} of this query is {kind}, but the checkpoint's state \
                     for it was written by {}: stateful operators cannot change across restarts \
                     (Spark refuses it too); start the changed query with a new \
                     checkpoint_location",
                    old["operatorName"]
                )));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if ctx.worker == 0 {
                checkpoint::write_atomic(&path, meta.to_string().as_bytes())?;
            }
            Ok(())
        }
        Err(e) => Err(error(&path, format!("cannot read: {e}"))),
    }
}

/// The operators of a checkpoint's state, with their metadata.
pub(crate) fn operators(state_dir: &Path) -> Result<Vec<(usize, serde_json::Value)>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(state_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(error(state_dir, format!("cannot list: {e}"))),
    };
    for entry in entries.flatten() {
        let Some(op) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let path = entry.path().join("_metadata");
        let meta = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(serde_json::Value::Null);
        out.push((op, meta));
    }
    out.sort_by_key(|(op, _)| *op);
    Ok(out)
}

/// Every key of operator `dir` at `version`, untyped: `(key group, key, value)` as JSON.
pub(crate) fn read_version(
    dir: &Path,
    version: u64,
    groups: u32,
) -> Result<Vec<(u32, serde_json::Value, serde_json::Value)>> {
    let mut map: std::collections::BTreeMap<Vec<u8>, (u32, serde_json::Value, serde_json::Value)> =
        Default::default();
    if version == 0 {
        return Ok(Vec::new());
    }
    for file in files_for(dir, version, &(0..groups))? {
        for (group, Json(key), value) in read_records::<Json, Json>(&file.path)? {
            let id = serde_json::to_vec(&key).expect("JSON values serialize");
            let value = value.map(|Json(v)| v);
            match value {
                Some(v) => {
                    map.insert(id, (group, key, v));
                }
                None => {
                    map.remove(&id);
                }
            }
        }
    }
    Ok(map.into_values().collect())
}

/// Removes the state files of versions after `version` (written by a batch that never
/// committed), so that a batch run again does not meet them.
pub(crate) fn discard_after(state_dir: &Path, version: u64) -> Result<()> {
    for (op, _) in operators(state_dir)? {
        for f in list(&state_dir.join(op.to_string()))? {
            if f.version > version {
                std::fs::remove_file(&f.path)
                    .map_err(|e| error(&f.path, format!("cannot remove: {e}")))?;
            }
        }
    }
    Ok(())
}
