//! Event ids, kinds, timestamps and field values (docs/nexmark.md 1.2–1.4b).
//!
//! Every event is computed on its own from its configuration and index: a fresh
//! `java.util.Random` seeded with `splitmix64(eventId)` draws its fields in Beam's order.

use super::config::*;
use super::model::{push_u64, Auction, Bid, Event, EventKind, Person};
use super::random::{random_for, JavaRandom};
use crate::Timestamp;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------------
// Event numbers, ids and times.

/// The event number of a generator's `index`-th event: `first_event_number + index`.
#[inline]
pub fn event_number(config: &NexmarkConfig, index: u64) -> u64 {
    config.first_event_number + index
}

/// An event number adjusted for out-of-order groups of size `n`:
/// `(number / n)·n + (number·953) % n` (the identity when `n = 1`).
#[inline]
pub fn adjusted_number(config: &NexmarkConfig, number: u64) -> u64 {
    let n = config.out_of_order_group_size;
    if n <= 1 {
        return number;
    }
    (number / n) * n + number.wrapping_mul(953) % n
}

/// The id of a generator's `index`-th event: `first_event_id + adjusted number`.
#[inline]
pub fn event_id(config: &NexmarkConfig, index: u64) -> u64 {
    config.first_event_id + adjusted_number(config, event_number(config, index))
}

/// The event time of event number `number`, in epoch ms (Flink's arithmetic):
/// `base_time + floor(number · delay_us) / 1000`.
#[inline]
pub fn timestamp_ms(config: &NexmarkConfig, number: u64) -> i64 {
    config.base_time + ((number as f64 * config.inter_event_delay_us()) as i64) / 1000
}

/// The watermark that comes with a generator's `index`-th event:
/// `ts((number / n)·n)`, where `n` is the out-of-order group size.
#[inline]
pub fn watermark_ms(config: &NexmarkConfig, index: u64) -> i64 {
    let n = config.out_of_order_group_size.max(1);
    timestamp_ms(config, event_number(config, index) / n * n)
}

/// When a paced generator emits its `index`-th event, in ms after its wall-clock base:
/// `ts(number) − base_time` (docs/nexmark.md 1.3).
#[inline]
pub fn emit_offset_ms(config: &NexmarkConfig, index: u64) -> i64 {
    timestamp_ms(config, event_number(config, index)) - config.base_time
}

/// The kind of the event with id `id`: person, auction or bid by `id % T`.
#[inline]
pub fn kind_of_id(config: &NexmarkConfig, id: u64) -> EventKind {
    let r = id % config.total_proportion();
    if r < config.person_proportion {
        EventKind::Person
    } else if r < config.person_proportion + config.auction_proportion {
        EventKind::Auction
    } else {
        EventKind::Bid
    }
}

/// The kind of a generator's `index`-th event.
#[inline]
pub fn event_kind(config: &NexmarkConfig, index: u64) -> EventKind {
    kind_of_id(config, event_id(config, index))
}

/// The base-0 id of the last person generated at or before event `id`.
#[inline]
fn last_person(c: &NexmarkConfig, id: u64) -> u64 {
    let t = c.total_proportion();
    let (epoch, off) = (id / t, id % t);
    epoch * c.person_proportion + off.min(c.person_proportion - 1)
}

/// The base-0 id of the last auction generated at or before event `id` (an auction or a bid;
/// never called for persons, for which it may be −1).
#[inline]
fn last_auction(c: &NexmarkConfig, id: u64) -> u64 {
    let t = c.total_proportion();
    let (epoch, off) = (id / t, id % t);
    let (p, a) = (c.person_proportion, c.auction_proportion);
    if off < p {
        (epoch * a).wrapping_sub(1)
    } else if off >= p + a {
        epoch * a + (a - 1)
    } else {
        epoch * a + (off - p)
    }
}

/// `U[0, n)`: `nextInt(n)` for `n < 2³¹ − 1`, otherwise `|nextLong() % n|`.
#[inline]
fn uniform(rnd: &mut JavaRandom, n: u64) -> u64 {
    if n < i32::MAX as u64 {
        rnd.next_int_bounded(n as i32) as u64
    } else {
        (rnd.next_long() % n as i64).unsigned_abs()
    }
}

/// A random base-0 person id from the active-people window, with a lead of 10.
#[inline]
fn random_person(c: &NexmarkConfig, id: u64, rnd: &mut JavaRandom) -> u64 {
    let n = last_person(c, id) + 1;
    let active = n.min(c.num_active_people);
    n - active + uniform(rnd, active + PERSON_ID_LEAD)
}

/// A random base-0 auction id from the in-flight window, with a lead of 10.
#[inline]
fn random_auction(c: &NexmarkConfig, id: u64, rnd: &mut JavaRandom) -> u64 {
    let hi = last_auction(c, id);
    let lo = hi.saturating_sub(c.num_in_flight_auctions);
    lo + uniform(rnd, hi - lo + 1 + AUCTION_ID_LEAD)
}

// ---------------------------------------------------------------------------------------------
// Strings and prices.

/// Appends `str(max, sp)`: `3 + U[0, max−3)` characters, each `sp` with probability 1/13, else
/// a lower-case letter; spaces are trimmed at both ends. Returns the appended length.
#[inline]
fn push_random_string(out: &mut String, rnd: &mut JavaRandom, max: i32, sp: u8) -> usize {
    let start = out.len();
    let len = 3 + rnd.next_int_bounded(max - 3);
    for _ in 0..len {
        let c = if rnd.next_int_bounded(13) == 0 {
            sp
        } else {
            b'a' + rnd.next_int_bounded(26) as u8
        };
        out.push(c as char);
    }
    if sp == b' ' {
        let end = out.trim_end_matches(' ').len().max(start);
        out.truncate(end);
        let lead = out[start..].len() - out[start..].trim_start_matches(' ').len();
        if lead > 0 {
            out.drain(start..start + lead);
        }
    }
    out.len() - start
}

/// `str(max, sp)` as a new string.
#[inline]
fn random_string(rnd: &mut JavaRandom, max: i32, sp: u8) -> String {
    let mut s = String::with_capacity(max as usize);
    push_random_string(&mut s, rnd, max, sp);
    s
}

/// Two characters of Beam's exact string for each `q ∈ (−676, 676)`, at `q + 675`:
/// `'a' + q % 26` and `'a' + (q / 26) % 26` (truncating, as in Java).
const PAIRS: [[u8; 2]; 1351] = {
    let mut t = [[0u8; 2]; 1351];
    let mut i = 0;
    while i < 1351 {
        let q = i as i32 - 675;
        t[i] = [
            (b'a' as i32 + q % 26) as u8,
            (b'a' as i32 + q / 26 % 26) as u8,
        ];
        i += 1;
    }
    t
};

/// Beam's exact string: `len` characters, six per `nextInt()`, each `'a' + r % 26` with Java's
/// truncating remainder (so negative draws give `'H'..='`'`), then `r /= 26`.
///
/// Repeated truncating division by 26 is truncating division by a power of 26, so the six
/// characters of a draw `r` are the pairs of `r % 676`, `r / 676 % 676` and `r / 26⁴ % 676`.
#[inline]
fn exact_string(rnd: &mut JavaRandom, len: usize) -> String {
    // Whole chunks of six (fixed-size copies), cut to `len` at the end.
    let mut out = Vec::with_capacity(len.div_ceil(6) * 6);
    let pair = |q: i32| PAIRS[(q % 676 + 675) as usize];
    while out.len() < len {
        let r = rnd.next_int();
        let (a, b, c) = (pair(r), pair(r / 676), pair(r / 456_976));
        out.extend_from_slice(&[a[0], a[1], b[0], b[1], c[0], c[1]]);
    }
    out.truncate(len);
    // Every byte is in b'H'..=b'z' (ASCII).
    String::from_utf8(out).unwrap_or_default()
}

/// `pad(cur, avg)`: the `extra` that brings a row of `cur` bytes to `avg` bytes on average.
#[inline]
fn pad(rnd: &mut JavaRandom, cur: usize, avg: u32) -> String {
    let avg = avg as usize;
    if cur > avg {
        return String::new();
    }
    let d = avg - cur;
    let delta = java_round(0.2 * d as f64) as usize;
    let len = d - delta
        + if delta == 0 {
            0
        } else {
            rnd.next_int_bounded(2 * delta as i32) as usize
        };
    exact_string(rnd, len)
}

/// Java's `Math.round`: half up.
#[inline]
fn java_round(x: f64) -> i64 {
    (x + 0.5).floor() as i64
}

/// `price()`: `round(10^(6·nextDouble()) · 100)` cents, log-uniform on [100, 10⁸).
#[inline]
fn price(rnd: &mut JavaRandom) -> u64 {
    java_round(10f64.powf(rnd.next_double() * 6.0) * 100.0) as u64
}

const FIRST_NAMES: [&str; 11] = [
    "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter",
];
const LAST_NAMES: [&str; 9] = [
    "Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris",
];
const CITIES: [&str; 10] = [
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
const STATES: [&str; 6] = ["AZ", "CA", "ID", "OR", "WA", "WY"];
/// The four hot channels.
pub const HOT_CHANNELS: [&str; 4] = ["Google", "Facebook", "Baidu", "Apple"];

/// The channel names and urls, built once (docs/nexmark.md 1.4b).
struct Channels {
    hot_urls: [String; 4],
    names: Vec<String>,
    urls: Vec<String>,
}

fn base_url(rnd: &mut JavaRandom) -> String {
    let mut url = String::with_capacity(72);
    url.push_str("https://www.nexmark.com/");
    for _ in 0..3 {
        push_random_string(&mut url, rnd, 5, b'_');
        url.push('/');
    }
    url.push_str("item.htm?query=1");
    url
}

fn channels() -> &'static Channels {
    static CHANNELS: OnceLock<Channels> = OnceLock::new();
    CHANNELS.get_or_init(|| Channels {
        hot_urls: std::array::from_fn(|i| hot_url(i as u64)),
        names: (0..CHANNELS_NUMBER as u64)
            .map(|c| {
                let mut s = String::with_capacity(12);
                s.push_str("channel-");
                push_u64(&mut s, c);
                s
            })
            .collect(),
        urls: (0..CHANNELS_NUMBER as u64).map(channel_url).collect(),
    })
}

/// `HOT_URL[i]`: the url of hot channel `i`, from `Random(splitmix64(2⁴⁰ + i))`.
pub fn hot_url(i: u64) -> String {
    base_url(&mut random_for((1 << 40) + i))
}

/// `URL_c`: the url of channel `c`, from `Random(splitmix64(2⁴¹ + c))`; 9 in 10 carry
/// `&channel_id=|Integer.reverse(c)|` (Java int semantics).
pub fn channel_url(c: u64) -> String {
    let mut rnd = random_for((1 << 41) + c);
    let mut url = base_url(&mut rnd);
    if rnd.next_int_bounded(10) > 0 {
        url.push_str("&channel_id=");
        let v = (c as u32).reverse_bits() as i32;
        let v = v.wrapping_abs();
        if v < 0 {
            url.push('-');
        }
        push_u64(&mut url, v.unsigned_abs() as u64);
    }
    url
}

// ---------------------------------------------------------------------------------------------
// The events.

/// The person with event id `id` and (adjusted) event number `number`.
fn person_at(c: &NexmarkConfig, id: u64, number: u64) -> Person {
    let mut rnd = random_for(id);
    let pid = last_person(c, id) + FIRST_PERSON_ID;
    let first = FIRST_NAMES[rnd.next_int_bounded(FIRST_NAMES.len() as i32) as usize];
    let last = LAST_NAMES[rnd.next_int_bounded(LAST_NAMES.len() as i32) as usize];
    let mut name = String::with_capacity(first.len() + 1 + last.len());
    name.push_str(first);
    name.push(' ');
    name.push_str(last);
    let mut email = String::with_capacity(15);
    push_random_string(&mut email, &mut rnd, 7, b' ');
    email.push('@');
    push_random_string(&mut email, &mut rnd, 5, b' ');
    email.push_str(".com");
    let mut credit_card = String::with_capacity(19);
    for i in 0..4 {
        if i > 0 {
            credit_card.push(' ');
        }
        let v = rnd.next_int_bounded(10_000) as u32;
        for d in [v / 1000, v / 100 % 10, v / 10 % 10, v % 10] {
            credit_card.push((b'0' + d as u8) as char);
        }
    }
    let city = CITIES[rnd.next_int_bounded(CITIES.len() as i32) as usize];
    let state = STATES[rnd.next_int_bounded(STATES.len() as i32) as usize];
    let size = 8 + name.len() + email.len() + credit_card.len() + city.len() + state.len();
    let extra = pad(&mut rnd, size, c.avg_person_byte_size);
    Person {
        id: pid,
        name,
        email_address: email,
        credit_card,
        city: city.to_string(),
        state: state.to_string(),
        date_time: Timestamp(timestamp_ms(c, number)),
        extra,
    }
}

/// The auction with event id `id` and (adjusted) event number `number`.
fn auction_at(c: &NexmarkConfig, id: u64, number: u64) -> Auction {
    let mut rnd = random_for(id);
    let aid = last_auction(c, id) + FIRST_AUCTION_ID;
    let seller = if rnd.next_int_bounded(c.hot_sellers_ratio) > 0 {
        last_person(c, id) / HOT_BLOCK * HOT_BLOCK
    } else {
        random_person(c, id, &mut rnd)
    } + FIRST_PERSON_ID;
    let category = FIRST_CATEGORY_ID + rnd.next_int_bounded(NUM_CATEGORIES) as u64;
    let initial_bid = price(&mut rnd);
    let now = timestamp_ms(c, number);
    let events_per_lifetime =
        c.num_in_flight_auctions * c.total_proportion() / c.auction_proportion;
    let horizon = timestamp_ms(c, number + events_per_lifetime) - now;
    let expires = now + 1 + uniform(&mut rnd, (2 * horizon).max(1) as u64) as i64;
    let item_name = random_string(&mut rnd, 20, b' ');
    let description = random_string(&mut rnd, 100, b' ');
    let reserve = initial_bid + price(&mut rnd);
    let size = 8 + item_name.len() + description.len() + 40;
    let extra = pad(&mut rnd, size, c.avg_auction_byte_size);
    Auction {
        id: aid,
        item_name,
        description,
        initial_bid,
        reserve,
        date_time: Timestamp(now),
        expires: Timestamp(expires),
        seller,
        category,
        extra,
    }
}

/// The bid with event id `id` and (adjusted) event number `number`.
fn bid_at(c: &NexmarkConfig, id: u64, number: u64) -> Bid {
    let mut rnd = random_for(id);
    let auction = if rnd.next_int_bounded(c.hot_auction_ratio) > 0 {
        last_auction(c, id) / HOT_BLOCK * HOT_BLOCK
    } else {
        random_auction(c, id, &mut rnd)
    } + FIRST_AUCTION_ID;
    let bidder = if rnd.next_int_bounded(c.hot_bidders_ratio) > 0 {
        last_person(c, id) / HOT_BLOCK * HOT_BLOCK + 1
    } else {
        random_person(c, id, &mut rnd)
    } + FIRST_PERSON_ID;
    let price = price(&mut rnd);
    let ch = channels();
    let (channel, url) = if rnd.next_int_bounded(HOT_CHANNELS_RATIO) > 0 {
        let i = rnd.next_int_bounded(HOT_CHANNELS.len() as i32) as usize;
        (HOT_CHANNELS[i].to_string(), ch.hot_urls[i].clone())
    } else {
        let i = rnd.next_int_bounded(CHANNELS_NUMBER) as usize;
        (ch.names[i].clone(), ch.urls[i].clone())
    };
    let extra = pad(&mut rnd, 32, c.avg_bid_byte_size);
    Bid {
        auction,
        bidder,
        price,
        channel,
        url,
        date_time: Timestamp(timestamp_ms(c, number)),
        extra,
    }
}

/// The `index`-th event (from 0) of the generator `config` (docs/nexmark.md 1.2–1.4b).
///
/// Pure: the same configuration and index always give the same event, whichever thread or
/// process computes it. `index` should be below `config.events` and the configuration valid
/// ([`NexmarkConfig::validate`]); neither is checked (a hot ratio below 1 panics).
pub fn event(config: &NexmarkConfig, index: u64) -> Event {
    let number = adjusted_number(config, event_number(config, index));
    let id = config.first_event_id + number;
    match kind_of_id(config, id) {
        EventKind::Person => Event::Person(person_at(config, id, number)),
        EventKind::Auction => Event::Auction(auction_at(config, id, number)),
        EventKind::Bid => Event::Bid(bid_at(config, id, number)),
    }
}

/// A Nexmark row type: [`Person`], [`Auction`] or [`Bid`], generated on its own when the event
/// at an index has its kind (so a source of bids never builds persons or auctions).
pub trait NexmarkRow: stream_core::Record {
    /// The kind of event this row is.
    const KIND: EventKind;
    /// The `index`-th event of `config` if it is of this kind.
    fn generate(config: &NexmarkConfig, index: u64) -> Option<Self>;
}

macro_rules! nexmark_row {
    ($t:ty, $kind:ident, $f:ident) => {
        impl NexmarkRow for $t {
            const KIND: EventKind = EventKind::$kind;
            #[inline]
            fn generate(config: &NexmarkConfig, index: u64) -> Option<Self> {
                let number = adjusted_number(config, event_number(config, index));
                let id = config.first_event_id + number;
                (kind_of_id(config, id) == EventKind::$kind).then(|| $f(config, id, number))
            }
        }
    };
}
nexmark_row!(Person, Person, person_at);
nexmark_row!(Auction, Auction, auction_at);
nexmark_row!(Bid, Bid, bid_at);

// ---------------------------------------------------------------------------------------------
// Several sub-generators on one event-time axis.

/// The events of a configuration run as `num_generators` sub-generators
/// ([`NexmarkConfig::split`]), merged into one sequence in event-time order: global index
/// `g = k·P + j` is the `k`-th event of sub-generator `j` (the last sub-generator's extra
/// events, when `events` is not a multiple of `P`, come at the end). With `P = 1` this is just
/// [`event`]`(config, g)`.
///
/// This is the sequence the Nexmark sources read; its offsets are global indexes.
#[derive(Clone, Debug)]
pub struct Generators {
    subs: Vec<NexmarkConfig>,
    total: u64,
    each: u64,
}

impl Generators {
    /// Splits `config` into `config.num_generators` sub-generators.
    pub fn new(config: &NexmarkConfig) -> Self {
        let p = config.num_generators.max(1);
        let subs = config.split(p);
        Generators {
            total: config.events,
            each: config.events / p,
            subs,
        }
    }

    /// The number of events (`config.events`).
    pub fn len(&self) -> u64 {
        self.total
    }

    /// True if there are no events.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The sub-generators' configurations.
    pub fn sub_generators(&self) -> &[NexmarkConfig] {
        &self.subs
    }

    /// `(sub-generator, index within it)` of global index `g`.
    #[inline]
    pub fn locate(&self, g: u64) -> (usize, u64) {
        let p = self.subs.len() as u64;
        if p == 1 {
            return (0, g);
        }
        let interleaved = self.each * p;
        if g < interleaved {
            ((g % p) as usize, g / p)
        } else {
            (self.subs.len() - 1, self.each + (g - interleaved))
        }
    }

    /// The event at global index `g`.
    pub fn event(&self, g: u64) -> Event {
        let (j, k) = self.locate(g);
        event(&self.subs[j], k)
    }

    /// The event at global index `g` if it is a `T`.
    #[inline]
    pub fn row<T: NexmarkRow>(&self, g: u64) -> Option<T> {
        let (j, k) = self.locate(g);
        T::generate(&self.subs[j], k)
    }

    /// The kind of the event at global index `g`.
    pub fn kind(&self, g: u64) -> EventKind {
        let (j, k) = self.locate(g);
        event_kind(&self.subs[j], k)
    }

    /// The watermark that comes with the event at global index `g` ([`watermark_ms`]).
    pub fn watermark_ms(&self, g: u64) -> i64 {
        let (j, k) = self.locate(g);
        watermark_ms(&self.subs[j], k)
    }

    /// When a paced run emits the event at global index `g`, in ms after its start
    /// ([`emit_offset_ms`]); non-decreasing in `g`.
    pub fn emit_offset_ms(&self, g: u64) -> i64 {
        let (j, k) = self.locate(g);
        emit_offset_ms(&self.subs[j], k)
    }
}
