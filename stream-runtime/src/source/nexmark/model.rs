//! The Nexmark row types (Flink's field layout, with channel and url) and the event enum.

use crate::Timestamp;

/// A new person registering (Nexmark `Person`). Ids are `u64`.
#[derive(crate::Record)]
pub struct Person {
    /// Person id: dense and increasing from 1000.
    pub id: u64,
    /// "First Last", e.g. `Deiter Bartels`.
    pub name: String,
    /// `str(7)@str(5).com`.
    pub email_address: String,
    /// Four groups of four digits separated by spaces.
    pub credit_card: String,
    /// One of ten US cities.
    pub city: String,
    /// One of six US states (drawn independently of the city).
    pub state: String,
    /// Event time.
    #[event_time]
    pub date_time: Timestamp,
    /// Padding to the average person size.
    pub extra: String,
}

/// A new auction (Nexmark `Auction`). Ids, prices and the category are `u64`; prices in cents.
#[derive(crate::Record)]
pub struct Auction {
    /// Auction id: dense and increasing from 1000.
    pub id: u64,
    /// `str(20)`.
    pub item_name: String,
    /// `str(100)`.
    pub description: String,
    /// Opening price in cents.
    pub initial_bid: u64,
    /// Reserve price in cents (above `initial_bid`).
    pub reserve: u64,
    /// Event time.
    #[event_time]
    pub date_time: Timestamp,
    /// When the auction closes (after `date_time`).
    pub expires: Timestamp,
    /// The seller's person id.
    pub seller: u64,
    /// Category id, 10 to 14.
    pub category: u64,
    /// Padding to the average auction size.
    pub extra: String,
}

/// A bid on an auction (Nexmark `Bid`). Ids and the price are `u64`; the price in cents.
#[derive(crate::Record)]
pub struct Bid {
    /// The auction's id.
    pub auction: u64,
    /// The bidder's person id.
    pub bidder: u64,
    /// Price in cents.
    pub price: u64,
    /// `Google`, `Facebook`, `Baidu`, `Apple` or `channel-N` (N < 10000).
    pub channel: String,
    /// `https://www.nexmark.com/…/item.htm?query=1`, with `&channel_id=…` for most non-hot channels.
    pub url: String,
    /// Event time.
    #[event_time]
    pub date_time: Timestamp,
    /// Padding to the average bid size.
    pub extra: String,
}

/// The kind of a Nexmark event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// A [`Person`].
    Person,
    /// An [`Auction`].
    Auction,
    /// A [`Bid`].
    Bid,
}

impl EventKind {
    /// `person`, `auction` or `bid`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Person => "person",
            EventKind::Auction => "auction",
            EventKind::Bid => "bid",
        }
    }
}

/// One Nexmark event.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Event {
    /// A new person.
    Person(Person),
    /// A new auction.
    Auction(Auction),
    /// A bid.
    Bid(Bid),
}

impl Event {
    /// The event's kind.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::Person(_) => EventKind::Person,
            Event::Auction(_) => EventKind::Auction,
            Event::Bid(_) => EventKind::Bid,
        }
    }

    /// The event time (`dateTime`).
    pub fn date_time(&self) -> Timestamp {
        match self {
            Event::Person(p) => p.date_time,
            Event::Auction(a) => a.date_time,
            Event::Bid(b) => b.date_time,
        }
    }

    /// The event as one JSON object: `kind` (`person`, `auction` or `bid`), then the fields
    /// under their Nexmark names (`dateTime`, `initialBid`, …) in Flink's order, times in epoch
    /// milliseconds. E.g. `{"kind":"bid","auction":1000,"bidder":1001,"price":5936,…}`.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(256);
        self.write_json(&mut out);
        out
    }

    /// Appends [`to_json`](Event::to_json)'s object to `out` (no newline).
    pub fn write_json(&self, out: &mut String) {
        let mut o = JsonObject::new(out, self.kind().as_str());
        match self {
            Event::Person(p) => {
                o.num("id", p.id);
                o.str("name", &p.name);
                o.str("emailAddress", &p.email_address);
                o.str("creditCard", &p.credit_card);
                o.str("city", &p.city);
                o.str("state", &p.state);
                o.int("dateTime", p.date_time.millis());
                o.str("extra", &p.extra);
            }
            Event::Auction(a) => {
                o.num("id", a.id);
                o.str("itemName", &a.item_name);
                o.str("description", &a.description);
                o.num("initialBid", a.initial_bid);
                o.num("reserve", a.reserve);
                o.int("dateTime", a.date_time.millis());
                o.int("expires", a.expires.millis());
                o.num("seller", a.seller);
                o.num("category", a.category);
                o.str("extra", &a.extra);
            }
            Event::Bid(b) => {
                o.num("auction", b.auction);
                o.num("bidder", b.bidder);
                o.num("price", b.price);
                o.str("channel", &b.channel);
                o.str("url", &b.url);
                o.int("dateTime", b.date_time.millis());
                o.str("extra", &b.extra);
            }
        }
        o.out.push('}');
    }
}

impl From<Person> for Event {
    fn from(p: Person) -> Self {
        Event::Person(p)
    }
}

impl From<Auction> for Event {
    fn from(a: Auction) -> Self {
        Event::Auction(a)
    }
}

impl From<Bid> for Event {
    fn from(b: Bid) -> Self {
        Event::Bid(b)
    }
}

/// Writes a flat JSON object field by field (keys are plain ASCII and need no escaping).
struct JsonObject<'a> {
    out: &'a mut String,
}

impl<'a> JsonObject<'a> {
    fn new(out: &'a mut String, kind: &str) -> Self {
        out.push_str("{\"kind\":\"");
        out.push_str(kind);
        out.push('"');
        JsonObject { out }
    }

    fn key(&mut self, k: &str) {
        self.out.push_str(",\"");
        self.out.push_str(k);
        self.out.push_str("\":");
    }

    fn num(&mut self, k: &str, v: u64) {
        self.key(k);
        push_u64(self.out, v);
    }

    fn int(&mut self, k: &str, v: i64) {
        self.key(k);
        if v < 0 {
            self.out.push('-');
        }
        push_u64(self.out, v.unsigned_abs());
    }

    fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        self.out.push('"');
        let bytes = v.as_bytes();
        let mut run = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let escaped = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..=0x1f => "",
                _ => continue,
            };
            self.out.push_str(&v[run..i]);
            run = i + 1;
            if escaped.is_empty() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                self.out.push_str("\\u00");
                self.out.push(HEX[(b >> 4) as usize] as char);
                self.out.push(HEX[(b & 15) as usize] as char);
            } else {
                self.out.push_str(escaped);
            }
        }
        self.out.push_str(&v[run..]);
        self.out.push('"');
    }
}

/// Appends the decimal digits of `v`.
pub(crate) fn push_u64(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_strings() {
        let b = Bid {
            auction: 1,
            bidder: 2,
            price: 3,
            channel: "a\"b\\c\u{1}é".into(),
            url: "\n\t\r".into(),
            date_time: Timestamp(-5),
            extra: String::new(),
        };
        let json = Event::Bid(b).to_json();
        assert_eq!(
            json,
            r#"{"kind":"bid","auction":1,"bidder":2,"price":3,"channel":"a\"b\\c\u0001é","url":"\n\t\r","dateTime":-5,"extra":""}"#
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["channel"], "a\"b\\c\u{1}é");
    }

    #[test]
    fn digits() {
        for v in [0, 7, 10, 12_345, u64::MAX] {
            let mut s = String::new();
            push_u64(&mut s, v);
            assert_eq!(s, v.to_string());
        }
    }
}
