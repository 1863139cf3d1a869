//! Distribution checks of the Nexmark generator (docs/nexmark.md 1.1, 1.4, 1.4b): exact kind
//! proportions, hot ratios, price bands, lifetimes, sizes and string shapes.

use stream_runtime::source::nexmark::*;

const BASE: i64 = 1_436_918_400_000;

fn ratio(hits: usize, n: usize) -> f64 {
    hits as f64 / n as f64
}

fn last_person(id: u64) -> u64 {
    id / 50
}

fn last_auction(id: u64) -> u64 {
    // Bids (id % 50 >= 4) only.
    id / 50 * 3 + 2
}

#[test]
fn kind_proportions_are_exact_per_fifty() {
    let config = NexmarkConfig::default();
    for block in 0..4000u64 {
        let mut counts = [0; 3];
        for i in block * 50..block * 50 + 50 {
            counts[event_kind(&config, i) as usize] += 1;
        }
        assert_eq!(counts, [1, 3, 46], "block {block}");
    }
    // Non-default proportions: 2 / 5 / 13 per 20.
    let config = NexmarkConfig {
        person_proportion: 2,
        auction_proportion: 5,
        bid_proportion: 13,
        ..Default::default()
    };
    let mut counts = [0; 3];
    for i in 0..20_000 {
        counts[event_kind(&config, i) as usize] += 1;
    }
    assert_eq!(counts, [2000, 5000, 13_000]);
}

/// Every 37th event below 2M (docs/nexmark.md 1.4b): hot ratios tight.
#[test]
fn hot_ratios_over_a_wide_sample() {
    let config = NexmarkConfig::default();
    let (mut bids, mut hot_auction, mut hot_bidder) = (0, 0, 0);
    let mut bands = [0; 3];
    let mut hot_channel = [0; 4];
    let (mut other_channel, mut with_id) = (0, 0);
    for i in (0..2_000_000u64).step_by(37) {
        let Event::Bid(b) = event(&config, i) else {
            continue;
        };
        bids += 1;
        hot_auction += (b.auction == last_auction(i) / 100 * 100 + 1000) as usize;
        hot_bidder += (b.bidder == last_person(i) / 100 * 100 + 1 + 1000) as usize;
        assert!((100..=100_000_000).contains(&b.price), "price {}", b.price);
        bands[match b.price {
            p if p < 10_000 => 0,
            p if p < 1_000_000 => 1,
            _ => 2,
        }] += 1;
        match HOT_CHANNELS.iter().position(|c| *c == b.channel) {
            Some(k) => {
                hot_channel[k] += 1;
                assert_eq!(b.url, hot_url(k as u64));
            }
            None => {
                other_channel += 1;
                let c: u64 = b.channel.strip_prefix("channel-").unwrap().parse().unwrap();
                assert!(c < 10_000);
                assert_eq!(b.url, channel_url(c));
                with_id += b.url.contains("&channel_id=") as usize;
            }
        }
        assert!(
            (54..=81).contains(&b.extra.len()),
            "extra {}",
            b.extra.len()
        );
    }
    assert!(bids > 49_000, "{bids} bids");
    // P(hot) = 1/2 plus the random pick landing on the hot id (1 in 111).
    let r = ratio(hot_auction, bids);
    assert!((0.4945..=0.5145).contains(&r), "hot auctions {r}");
    // P(hot) = 3/4 plus 1/4 · 1/1010.
    let r = ratio(hot_bidder, bids);
    assert!((0.74..=0.76).contains(&r), "hot bidders {r}");
    for (k, n) in bands.iter().enumerate() {
        let r = ratio(*n, bids);
        assert!((0.32..=0.347).contains(&r), "price band {k}: {r}");
    }
    for (k, n) in hot_channel.iter().enumerate() {
        let r = ratio(*n, bids);
        assert!((0.115..=0.135).contains(&r), "hot channel {k}: {r}");
    }
    let r = ratio(other_channel, bids);
    assert!((0.49..=0.51).contains(&r), "other channels {r}");
    // URL_c has a channel_id for 9 in 10 channels (a fixed property of the 10,000 urls).
    let r = ratio(with_id, other_channel);
    assert!((0.87..=0.93).contains(&r), "channel ids {r}");
}

#[test]
fn auctions_sellers_lifetimes_and_sizes() {
    let config = NexmarkConfig::default();
    let (mut n, mut hot_seller, mut lifetime, mut size) = (0, 0, 0i64, 0usize);
    let mut categories = [0; 5];
    for i in 0..200_000u64 {
        let Event::Auction(a) = event(&config, i) else {
            continue;
        };
        n += 1;
        hot_seller += (a.seller == last_person(i) / 100 * 100 + 1000) as usize;
        let life = a.expires.millis() - a.date_time.millis();
        // horizon = ts(n + 1666) - ts(n) = 166 or 167 ms at 10,000 ev/s.
        assert!((1..=2 * 167).contains(&life), "lifetime {life}");
        lifetime += life;
        categories[(a.category - 10) as usize] += 1;
        assert!(a.reserve > a.initial_bid);
        assert!(a.item_name.len() <= 19, "trimmed from at most 19");
        assert!(a.description.len() <= 99);
        for s in [&a.item_name, &a.description] {
            assert!(!s.starts_with(' ') && !s.ends_with(' '));
            assert!(s.bytes().all(|c| c == b' ' || c.is_ascii_lowercase()));
        }
        assert!(a.extra.bytes().all(|c| (b'H'..=b'z').contains(&c)));
        size += 8 + a.item_name.len() + a.description.len() + 40 + a.extra.len();
        assert!(a.seller >= 1000 && a.seller < last_person(i) + 1 + 1000 + 10);
    }
    assert_eq!(n, 12_000);
    let r = ratio(hot_seller, n);
    assert!((0.73..=0.77).contains(&r), "hot sellers {r}");
    let mean = lifetime as f64 / n as f64;
    assert!((160.0..=175.0).contains(&mean), "mean lifetime {mean} ms");
    let mean = size as f64 / n as f64;
    assert!((475.0..=525.0).contains(&mean), "mean auction size {mean}");
    for c in categories {
        assert!((0.18..=0.22).contains(&ratio(c, n)), "{categories:?}");
    }
}

#[test]
fn persons_fields_and_sizes() {
    let config = NexmarkConfig::default();
    let cities = [
        "Phoenix",
        "Los Angeles",
        "San Francisco",
        "Boise",
        "Portland",
        "Bend",
        "Redmond",
        "Seattle",
        "Kent",
        "Cheyenne",
    ];
    let states = ["AZ", "CA", "ID", "OR", "WA", "WY"];
    let (mut n, mut size) = (0, 0);
    for i in (0..500_000u64).step_by(50) {
        let Event::Person(p) = event(&config, i) else {
            panic!("event {i} is a person")
        };
        assert_eq!(p.id, 1000 + i / 50);
        assert_eq!(p.date_time.millis(), BASE + i as i64 / 10);
        let (first, last) = p.name.split_once(' ').unwrap();
        assert!(!first.is_empty() && !last.is_empty());
        let (user, domain) = p.email_address.split_once('@').unwrap();
        assert!(user.len() <= 6 && domain.ends_with(".com") && domain.len() <= 8);
        assert_eq!(p.credit_card.len(), 19);
        assert!(p
            .credit_card
            .split(' ')
            .all(|g| g.len() == 4 && g.bytes().all(|c| c.is_ascii_digit())));
        assert!(cities.contains(&p.city.as_str()) && states.contains(&p.state.as_str()));
        n += 1;
        size += 8
            + p.name.len()
            + p.email_address.len()
            + p.credit_card.len()
            + p.city.len()
            + p.state.len()
            + p.extra.len();
    }
    let mean = size as f64 / n as f64;
    assert!((190.0..=210.0).contains(&mean), "mean person size {mean}");
}

/// The first 5000 events: proportions exact, hot ratios loosely (the windows are filling).
#[test]
fn first_five_thousand_events() {
    let config = NexmarkConfig::default();
    let (mut kinds, mut bids, mut hot) = ([0; 3], 0, 0);
    for i in 0..5000u64 {
        let e = event(&config, i);
        kinds[e.kind() as usize] += 1;
        if let Event::Bid(b) = e {
            bids += 1;
            hot += (b.auction == last_auction(i) / 100 * 100 + 1000) as usize;
        }
    }
    assert_eq!(kinds, [100, 300, 4600]);
    let r = ratio(hot, bids);
    assert!((0.45..=0.6).contains(&r), "hot auctions {r}");
}
