//! Sub-generators, worker shares, batch planning and pacing of the Nexmark sources.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use stream_runtime::prelude::*;
use stream_runtime::source::nexmark::*;
use stream_runtime::source::{Partition, ReadLimit, Source, Split};

/// The event with its time fields (`dateTime`, `expires`) zeroed: what does not depend on P.
fn timeless(e: Event) -> Event {
    match e {
        Event::Person(mut p) => {
            p.date_time = Timestamp(0);
            Event::Person(p)
        }
        Event::Auction(mut a) => {
            a.date_time = Timestamp(0);
            a.expires = Timestamp(0);
            Event::Auction(a)
        }
        Event::Bid(mut b) => {
            b.date_time = Timestamp(0);
            Event::Bid(b)
        }
    }
}

#[test]
fn sub_generators_together_make_the_single_generators_events() {
    let whole = NexmarkConfig::with_events(10_007);
    let single: Vec<Event> = (0..whole.events).map(|i| event(&whole, i)).collect();
    for p in [2, 3, 4, 7] {
        let subs = whole.split(p);
        assert_eq!(subs.len() as u64, p);
        assert_eq!(subs.iter().map(|s| s.events).sum::<u64>(), whole.events);
        // Disjoint id blocks that cover [0, events) in order.
        let mut next_id = 0;
        let mut by_id = BTreeMap::new();
        for (j, sub) in subs.iter().enumerate() {
            assert_eq!(sub.first_event_id, next_id, "P={p} sub {j}");
            assert_eq!(sub.num_generators, p);
            for k in 0..sub.events {
                let id = event_id(sub, k);
                let e = event(sub, k);
                // Shared event-time axis: the k-th event of every sub-generator is at ts(k)
                // with P timelines.
                assert_eq!(e.date_time().millis(), timestamp_ms(sub, k));
                assert_eq!(by_id.insert(id, timeless(e)), None);
            }
            next_id += sub.events;
        }
        let merged: Vec<Event> = by_id.into_values().collect();
        let single_timeless: Vec<Event> = single.iter().cloned().map(timeless).collect();
        assert_eq!(merged, single_timeless, "P={p}");
    }
    // split(1) is the generator itself.
    assert_eq!(whole.split(1), vec![whole.clone()]);
}

#[test]
fn generators_merge_sub_generators_in_event_time_order() {
    let config = NexmarkConfig {
        num_generators: 3,
        ..NexmarkConfig::with_events(1000)
    };
    let gens = Generators::new(&config);
    assert_eq!(gens.len(), 1000);
    let subs = config.split(3);
    assert_eq!(gens.sub_generators(), &subs[..]);
    let mut seen = std::collections::HashSet::new();
    let mut last_time = i64::MIN;
    let mut last_emit = i64::MIN;
    for g in 0..gens.len() {
        let (j, k) = gens.locate(g);
        assert!(k < subs[j].events);
        assert!(seen.insert((j, k)));
        let e = gens.event(g);
        assert_eq!(e, event(&subs[j], k));
        assert_eq!(gens.kind(g), e.kind());
        assert!(
            e.date_time().millis() >= last_time,
            "event time order at {g}"
        );
        last_time = e.date_time().millis();
        assert!(gens.emit_offset_ms(g) >= last_emit);
        last_emit = gens.emit_offset_ms(g);
        assert_eq!(gens.watermark_ms(g), e.date_time().millis());
    }
    // P = 1: the generator itself.
    let one = Generators::new(&NexmarkConfig::with_events(100));
    for g in 0..100 {
        assert_eq!(one.event(g), event(&NexmarkConfig::default(), g));
    }
}

fn split_of(from: u64, to: u64) -> Split {
    Split {
        start: (from > 0).then(|| from.into()),
        end: to.into(),
        detail: serde_json::Value::Null,
    }
}

fn read_all<T: NexmarkRow>(src: &NexmarkSource<T>, split: &Split, workers: usize) -> Vec<Vec<T>> {
    (0..workers)
        .map(|index| {
            let mut rows = Vec::new();
            let part = Partition {
                index,
                count: workers,
            };
            let stats = src.read(split, part, &mut |r| rows.push(r)).unwrap();
            assert_eq!(stats.rows as usize, rows.len());
            rows
        })
        .collect()
}

#[test]
fn workers_read_disjoint_shares_that_make_the_whole() {
    let config = NexmarkConfig {
        num_generators: 2,
        ..NexmarkConfig::with_events(5003)
    };
    let gens = Generators::new(&config);
    let bids = Nexmark::bids(config.clone());
    let split = split_of(17, 4321);
    let expected: Vec<Bid> = (17..4321).filter_map(|g| gens.row::<Bid>(g)).collect();
    assert_eq!(
        expected.len(),
        (17..4321)
            .filter(|&g| gens.kind(g) == EventKind::Bid)
            .count()
    );
    for workers in [1, 2, 3, 5] {
        let shares = read_all(&bids, &split, workers);
        let mut all: Vec<Bid> = shares.into_iter().flatten().collect();
        all.sort_by_key(|b| (b.date_time, b.auction, b.bidder, b.price, b.extra.clone()));
        let mut want = expected.clone();
        want.sort_by_key(|b| (b.date_time, b.auction, b.bidder, b.price, b.extra.clone()));
        assert_eq!(all, want, "{workers} workers");
    }
    // People and auctions of the same range.
    let people: Vec<Person> = read_all(&Nexmark::people(config.clone()), &split, 1).remove(0);
    let auctions: Vec<Auction> = read_all(&Nexmark::auctions(config), &split, 1).remove(0);
    assert_eq!(people.len() + auctions.len() + expected.len(), 4321 - 17);
    assert!(people.windows(2).all(|w| w[0].date_time <= w[1].date_time));
}

#[test]
fn plan_takes_events_per_batch_up_to_the_end() {
    let src = Nexmark::bids(NexmarkConfig::with_events(250)).events_per_batch(100);
    assert!(src.is_bounded());
    let ends: Vec<u64> = {
        let mut start = None;
        let mut ends = Vec::new();
        while let Some(s) = src.plan(start.as_ref(), &ReadLimit::Default).unwrap() {
            ends.push(s.end.as_u64().unwrap());
            start = Some(s.end);
        }
        ends
    };
    assert_eq!(ends, [100, 200, 250]);
    let all = src
        .plan(Some(&50.into()), &ReadLimit::All)
        .unwrap()
        .unwrap();
    assert_eq!(all.end, 250);
    let capped = src
        .plan(Some(&50.into()), &ReadLimit::UpTo(120.into()))
        .unwrap()
        .unwrap();
    assert_eq!(capped.end, 120);
    assert!(src
        .plan(Some(&250.into()), &ReadLimit::All)
        .unwrap()
        .is_none());
    // Unbounded and unpaced: "everything" is refused rather than run forever.
    let unbounded = Nexmark::bids(NexmarkConfig::default());
    assert!(!unbounded.is_bounded());
    assert!(unbounded.plan(None, &ReadLimit::All).is_err());
    assert_eq!(
        unbounded
            .plan(None, &ReadLimit::Default)
            .unwrap()
            .unwrap()
            .end,
        DEFAULT_EVENTS_PER_BATCH
    );
    // Bad configurations are reported.
    let bad = Nexmark::bids(NexmarkConfig {
        event_rate: 0.0,
        ..Default::default()
    });
    assert!(bad.plan(None, &ReadLimit::Default).is_err());
}

#[test]
fn pace_offers_only_events_whose_emit_time_has_come() {
    let now = Arc::new(AtomicI64::new(1_000_000));
    let clock = now.clone();
    let src = Nexmark::bids(NexmarkConfig::with_events(1000))
        .events_per_batch(1_000_000)
        .pace(10_000.0)
        .clock(move || clock.load(Ordering::SeqCst));
    let end = |start: Option<u64>| {
        src.plan(start.map(Into::into).as_ref(), &ReadLimit::Default)
            .unwrap()
            .map(|s| s.end.as_u64().unwrap())
    };
    // At the start, the events of event-time ms 0 (10 per ms at 10,000 ev/s).
    assert_eq!(end(None), Some(10));
    assert_eq!(end(Some(10)), None);
    now.fetch_add(5, Ordering::SeqCst);
    assert_eq!(end(Some(10)), Some(60));
    now.fetch_add(1000, Ordering::SeqCst);
    assert_eq!(end(Some(60)), Some(1000), "capped at events");

    // Twice the event-time density: 20 events per wall-clock ms.
    let now = Arc::new(AtomicI64::new(0));
    let clock = now.clone();
    let src = Nexmark::people(NexmarkConfig::with_events(1000))
        .pace(20_000.0)
        .clock(move || clock.load(Ordering::SeqCst));
    let first = src.plan(Some(&100.into()), &ReadLimit::Default).unwrap();
    assert_eq!(first.unwrap().end, 110, "the first plan starts the clock");
    now.store(3, Ordering::SeqCst);
    let next = src.plan(Some(&110.into()), &ReadLimit::Default).unwrap();
    assert_eq!(next.unwrap().end, 170);
}

#[test]
fn bids_source_in_a_query_with_two_workers() {
    let config = NexmarkConfig {
        num_generators: 2,
        ..NexmarkConfig::with_events(3000)
    };
    let sink = MemorySink::new();
    let query = read_stream::<Bid>(Nexmark::bids(config.clone()).events_per_batch(1000))
        .write_stream(sink.clone())
        .trigger(AvailableNow);
    let q = Session::with_workers(2).start(query).unwrap();
    assert_eq!(
        q.await_termination_timeout(Duration::from_secs(60)),
        Ok(true)
    );
    let mut got = sink.rows();
    got.sort();
    let gens = Generators::new(&config);
    let mut want: Vec<Bid> = (0..gens.len()).filter_map(|g| gens.row::<Bid>(g)).collect();
    want.sort();
    assert_eq!(got.len(), 3000 / 50 * 46);
    assert_eq!(got, want);
    assert_eq!(sink.batches().len(), 3);
}
