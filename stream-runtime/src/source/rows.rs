//! A `Vec` of rows as a source: everything in one batch, for batch queries
//! (`read(vec![..])`) and tests.

use super::{offset_count, Offset, Partition, ReadLimit, ReadStats, Source, Split};
use crate::error::Result;

/// The rows of a `Vec`, all in the first batch (the offset counts rows). Worker 0 reads them
/// and the query exchanges them as it needs, so the rows need exist on process 0 only, as with
/// [`MemoryStream`](super::MemoryStream).
impl<T: Clone + Send + Sync + 'static> Source<T> for Vec<T> {
    fn description(&self) -> String {
        format!("Rows[{}]", self.len())
    }

    fn plan(&self, start: Option<&Offset>, limit: &ReadLimit) -> Result<Option<Split>> {
        let mut to = self.len() as u64;
        if let ReadLimit::UpTo(cap) = limit {
            to = to.min(offset_count(Some(cap)));
        }
        Ok(Split::counted(start, to))
    }

    fn read(&self, split: &Split, part: Partition, emit: &mut dyn FnMut(T)) -> Result<ReadStats> {
        let mut stats = ReadStats::default();
        if part.index != 0 {
            return Ok(stats);
        }
        let from = offset_count(split.start.as_ref()) as usize;
        let to = (offset_count(Some(&split.end)) as usize).min(self.len());
        for row in &self[from.min(to)..to] {
            stats.rows += 1;
            emit(row.clone());
        }
        Ok(stats)
    }

    fn is_bounded(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_split_holds_every_row_and_worker_0_reads_them() {
        let rows = vec![10, 20, 30];
        let split = rows.plan(None, &ReadLimit::Default).unwrap().unwrap();
        assert_eq!(split.end, serde_json::json!(3));
        assert_eq!(rows.plan(Some(&split.end), &ReadLimit::All).unwrap(), None);
        let mut got = Vec::new();
        let part = Partition { index: 0, count: 2 };
        let stats = rows.read(&split, part, &mut |r| got.push(r)).unwrap();
        assert_eq!((got, stats.rows), (vec![10, 20, 30], 3));
        let mut other = Vec::new();
        let part = Partition { index: 1, count: 2 };
        rows.read(&split, part, &mut |r| other.push(r)).unwrap();
        assert!(other.is_empty());
        let capped = rows
            .plan(None, &ReadLimit::UpTo(serde_json::json!(2)))
            .unwrap()
            .unwrap();
        assert_eq!(capped.end, serde_json::json!(2));
    }
}
