//! Spark's typed Dataset style: closures pass through unchanged, and mix with column
//! expressions; bindings name pipelines, and a binding used twice is cloned.

use stream_runtime::prelude::*;

#[derive(Record)]
struct Sentence {
    text: String,
}

#[derive(Record)]
struct Word {
    word: String,
    len: u64,
}

#[derive(Record)]
struct Stats {
    word: String,
    n: i64,
    longest: u64,
}

fn words(s: Sentence) -> Vec<Word> {
    s.text
        .split_whitespace()
        .map(|w| Word {
            word: w.to_lowercase(),
            len: w.len() as u64,
        })
        .collect()
}

fn main() {
    let counts = stream! {
        let english = read_stream::<Sentence>(MemoryStream::new());
        let french = read_stream(MemoryStream::<Sentence>::new());
        let all = english.union(french).flat_map(words);
        let long = all.filter(|w| w.len > 3);
        let short = all.where_(len <= 3);
        long.union(short)
            .map(|w: Word| Word { word: w.word.trim_matches('.').to_string(), len: w.len })
            .group_by_key(|w| w.word.clone())
            .count()
            .filter(count > 1)
            .write_stream(Console::new())
            .output_mode(Complete)
    };
    let stats = stream! {
        let sentences = read_stream::<Sentence>(MemoryStream::new());
        let stats = sentences
            .flat_map(|s: Sentence| words(s))
            .group_by_key(|w: &Word| w.word.clone())
            .agg(count() as n, max(len) as longest)
            .map(|r| Stats { word: r.key, n: r.n, longest: r.longest });
        stats
    };
    let _: DataStreamWriter<_> = counts;
    let _: Dataset<Stats> = stats;
}
