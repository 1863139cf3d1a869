//! A reader of a file sink's `_spark_metadata` log written here, by Spark's rules,
//! independently of the sink's own code: the tests read the output through it.

use std::path::{Path, PathBuf};

/// The files `out/_spark_metadata` lists, read here by Spark's rules, independently of the
/// sink's code: the latest `N.compact` (if any) and the batches after it, each file `v1` and
/// then one JSON file status per line, whose size is the file's.
pub fn listed(out: &Path) -> Vec<PathBuf> {
    let log = out.join("_spark_metadata");
    let mut ids: Vec<(u64, bool)> = std::fs::read_dir(&log)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            match name.strip_suffix(".compact") {
                Some(id) => Some((id.parse().ok()?, true)),
                None => Some((name.parse().ok()?, false)),
            }
        })
        .collect();
    ids.sort();
    let latest = ids.last().expect("a batch is logged").0;
    let start = ids.iter().rev().find(|(_, c)| *c).map_or(0, |(id, _)| *id);
    let mut files = Vec::new();
    for id in start..=latest {
        let name = if ids.contains(&(id, true)) {
            format!("{id}.compact")
        } else {
            id.to_string()
        };
        let text = std::fs::read_to_string(log.join(&name)).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("v1"), "{name}");
        for line in lines {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["action"], "add", "{line}");
            assert_eq!(v["isDir"], false, "{line}");
            let path = PathBuf::from(v["path"].as_str().unwrap().strip_prefix("file://").unwrap());
            let size = std::fs::metadata(&path).unwrap().len();
            assert_eq!(v["size"], size, "{line}");
            files.push(path);
        }
    }
    files
}
