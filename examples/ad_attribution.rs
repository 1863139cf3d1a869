//! Ad attribution: a stream-stream join of ad impressions and clicks. A click is attributed to
//! an impression of the same ad shown at most 10 seconds before it (a left outer join with a
//! time range); an impression nobody clicked comes out with NULL click columns once the
//! watermark shows that no click can still match it.
//!
//! Run: `cargo run --release --example ad_attribution`
//!
//! Both inputs have a 5-second watermark. An impression shown at `t` can be matched by clicks
//! up to `t + 10 s`; its NULL row comes out in the batch whose watermark (the min of both
//! inputs' watermarks) passes `t + 10 s`, with or without new data.

use stream_runtime::prelude::*;

#[derive(Record)]
struct Impression {
    ad: u64,
    shown: Timestamp,
}

#[derive(Record)]
struct Click {
    clicked_ad: u64,
    clicked: Timestamp,
}

fn secs(s: i64) -> Timestamp {
    Timestamp(s * 1000)
}

fn main() -> Result<(), StreamError> {
    let (impressions, clicks) = (MemoryStream::new(), MemoryStream::new());
    let sink = MemorySink::new();
    let query = stream! {
        let clicks = read_stream::<Click>(clicks.clone()).with_watermark(clicked, "5 seconds");
        read_stream::<Impression>(impressions.clone())
            .with_watermark(shown, "5 seconds")
            .join(
                clicks,
                ad == clicks.clicked_ad
                    && clicks.clicked >= shown
                    && clicks.clicked <= shown + interval("10 seconds"),
                "left_outer",
            )
            .select(ad, shown, clicks.clicked as clicked)
            .write_stream(sink.clone())
            .output_mode(Append)
    }
    .start()?;
    let steps: Vec<(Vec<Impression>, Vec<Click>)> = vec![
        (
            vec![
                Impression {
                    ad: 1,
                    shown: secs(1),
                },
                Impression {
                    ad: 2,
                    shown: secs(2),
                },
                Impression {
                    ad: 3,
                    shown: secs(3),
                },
            ],
            vec![Click {
                clicked_ad: 1,
                clicked: secs(4),
            }],
        ),
        // Ad 2's click comes 9 s after it was shown: attributed.
        (
            vec![Impression {
                ad: 4,
                shown: secs(20),
            }],
            vec![Click {
                clicked_ad: 2,
                clicked: secs(11),
            }],
        ),
        // The watermark reaches min(30 - 5, 32 - 5) = 25 s: ad 3 (shown at 3 s) can no longer be
        // clicked; ad 4 (shown at 20 s) still can, until the watermark passes 30 s.
        (
            vec![Impression {
                ad: 5,
                shown: secs(30),
            }],
            vec![Click {
                clicked_ad: 9,
                clicked: secs(32),
            }],
        ),
        (
            vec![Impression {
                ad: 6,
                shown: secs(60),
            }],
            vec![Click {
                clicked_ad: 6,
                clicked: secs(61),
            }],
        ),
    ];
    let mut printed = 0;
    for (i, (shown, clicked)) in steps.into_iter().enumerate() {
        impressions.add_data(shown);
        clicks.add_data(clicked);
        query.process_all_available()?;
        let watermark = query
            .last_progress()
            .and_then(|p| p.event_time.get("watermark").cloned())
            .unwrap_or_default();
        println!("step {i} (watermark {watermark}):");
        let rows = sink.rows();
        for r in &rows[printed..] {
            match r.clicked {
                Some(c) => println!("  ad {} shown at {} clicked at {}", r.ad, r.shown, c),
                None => println!("  ad {} shown at {} not clicked", r.ad, r.shown),
            }
        }
        printed = rows.len();
    }
    query.stop()?;
    Ok(())
}
