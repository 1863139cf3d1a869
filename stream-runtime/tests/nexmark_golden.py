#!/usr/bin/env python3
"""Independent reference for the Nexmark generator (docs/nexmark.md section 1, with 1.4b).

Written from the specification alone, without looking at the Rust code, to produce the golden
values pasted into stream-runtime/tests/nexmark_golden.rs.

Run it from the repository root:

    python3 stream-runtime/tests/nexmark_golden.py

It prints one JSON object per selected event (the format of `Event::to_json`), then the
timestamps of a few events of split and non-default configurations. Python's float `**`
calls the C library's pow(), as Rust's `f64::powf` does, so prices agree on the same machine.
"""

import json
import sys

MASK48 = (1 << 48) - 1
MASK64 = (1 << 64) - 1
MULT = 0x5DEECE66D


def i32(x):
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x >= 1 << 31 else x


def i64(x):
    x &= MASK64
    return x - (1 << 64) if x >= 1 << 63 else x


def jdiv(a, b):
    """Java's truncating integer division."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def jmod(a, b):
    """Java's truncating remainder (sign of the dividend)."""
    return a - jdiv(a, b) * b


class JavaRandom:
    """java.util.Random, as the JDK specifies it."""

    def __init__(self, seed):
        self.s = (seed ^ MULT) & MASK48

    def next(self, bits):
        self.s = (self.s * MULT + 0xB) & MASK48
        return i32(self.s >> (48 - bits))

    def next_int(self, bound=None):
        if bound is None:
            return self.next(32)
        r = self.next(31)
        m = bound - 1
        if bound & m == 0:
            return (bound * r) >> 31
        u = r
        while True:
            r = u % bound
            if i32(u - r + m) >= 0 and u - r + m < (1 << 31):
                return r
            u = self.next(31)

    def next_long(self):
        return i64((self.next(32) << 32) + self.next(32))

    def next_double(self):
        return ((self.next(26) << 27) + self.next(27)) * 2.0**-53


def splitmix64(x):
    z = (x + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def rng_for(x):
    return JavaRandom(i64(splitmix64(x)))


def uniform(rnd, n):
    """U[0, n)."""
    if n < (1 << 31) - 1:
        return rnd.next_int(n)
    return abs(jmod(rnd.next_long(), n))


# Configuration (defaults of docs/nexmark.md 1.1 and 1.4b).
P_PROP, A_PROP, B_PROP = 1, 3, 46
T = P_PROP + A_PROP + B_PROP
BASE_TIME = 1436918400000
FIRST_PERSON_ID = 1000
FIRST_AUCTION_ID = 1000
FIRST_CATEGORY_ID = 10
NUM_CATEGORIES = 5
PERSON_ID_LEAD = 10
AUCTION_ID_LEAD = 10
HOT_BLOCK = 100
NUM_ACTIVE_PEOPLE = 1000
NUM_IN_FLIGHT = 100
HOT_AUCTION_RATIO, HOT_SELLERS_RATIO, HOT_BIDDERS_RATIO = 2, 4, 4
AVG_PERSON, AVG_AUCTION, AVG_BID = 200, 500, 100

FIRST = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"]
LAST = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"]
CITIES = ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond",
          "Seattle", "Kent", "Cheyenne"]
STATES = ["AZ", "CA", "ID", "OR", "WA", "WY"]
HOT_CHANNELS = ["Google", "Facebook", "Baidu", "Apple"]


def ts(number, rate=10000.0, generators=1, base=BASE_TIME):
    delay_us = 1e6 / rate * generators
    return base + int(number * delay_us) // 1000


def last_person(eid):
    epoch, off = divmod(eid, T)
    return epoch * P_PROP + min(off, P_PROP - 1)


def last_auction(eid):
    epoch, off = divmod(eid, T)
    if off < P_PROP:
        return (epoch - 1) * A_PROP + (A_PROP - 1)
    if off >= P_PROP + A_PROP:
        return epoch * A_PROP + (A_PROP - 1)
    return epoch * A_PROP + (off - P_PROP)


def random_person(eid, rnd):
    n = last_person(eid) + 1
    act = min(n, NUM_ACTIVE_PEOPLE)
    return n - act + uniform(rnd, act + PERSON_ID_LEAD)


def random_auction(eid, rnd):
    hi = last_auction(eid)
    lo = max(hi - NUM_IN_FLIGHT, 0)
    return lo + uniform(rnd, hi - lo + 1 + AUCTION_ID_LEAD)


def rstr(rnd, mx, sp=" "):
    n = 3 + rnd.next_int(mx - 3)
    out = []
    for _ in range(n):
        if rnd.next_int(13) == 0:
            out.append(sp)
        else:
            out.append(chr(ord("a") + rnd.next_int(26)))
    return "".join(out).strip(" ")


def exact(rnd, length):
    out = []
    r, left = 0, 0
    for _ in range(length):
        if left == 0:
            r, left = rnd.next_int(), 6
        out.append(chr(ord("a") + jmod(r, 26)))
        r = jdiv(r, 26)
        left -= 1
    return "".join(out)


def java_round(x):
    import math
    return int(math.floor(x + 0.5))


def pad(rnd, cur, avg):
    if cur > avg:
        return ""
    d = avg - cur
    delta = java_round(0.2 * d)
    n = d - delta + (0 if delta == 0 else rnd.next_int(2 * delta))
    return exact(rnd, n)


def price(rnd):
    return java_round(10.0 ** (rnd.next_double() * 6.0) * 100.0)


def java_reverse(c):
    b = int(format(c & 0xFFFFFFFF, "032b")[::-1], 2)
    return i32(b)


def java_abs_int(x):
    return x if x >= 0 else i32(-x)


def base_url(rnd):
    s1, s2, s3 = rstr(rnd, 5, "_"), rstr(rnd, 5, "_"), rstr(rnd, 5, "_")
    return "https://www.nexmark.com/%s/%s/%s/item.htm?query=1" % (s1, s2, s3)


def hot_url(i):
    return base_url(rng_for((1 << 40) + i))


def channel_url(c):
    rnd = rng_for((1 << 41) + c)
    url = base_url(rnd)
    if rnd.next_int(10) > 0:
        url += "&channel_id=" + str(java_abs_int(java_reverse(c)))
    return url


def kind(eid):
    r = eid % T
    return "person" if r < P_PROP else ("auction" if r < P_PROP + A_PROP else "bid")


def event(eid, number, rate=10000.0, generators=1):
    """The event with id `eid` and adjusted event number `number` (in order: equal to the index)."""
    rnd = rng_for(eid)
    t = ts(number, rate, generators)
    k = kind(eid)
    if k == "person":
        pid = last_person(eid) + FIRST_PERSON_ID
        name = FIRST[rnd.next_int(11)] + " " + LAST[rnd.next_int(9)]
        email = rstr(rnd, 7) + "@" + rstr(rnd, 5) + ".com"
        cc = " ".join("%04d" % rnd.next_int(10000) for _ in range(4))
        city = CITIES[rnd.next_int(10)]
        state = STATES[rnd.next_int(6)]
        extra = pad(rnd, 8 + len(name) + len(email) + len(cc) + len(city) + len(state), AVG_PERSON)
        return {"kind": k, "id": pid, "name": name, "emailAddress": email, "creditCard": cc,
                "city": city, "state": state, "dateTime": t, "extra": extra}
    if k == "auction":
        aid = last_auction(eid) + FIRST_AUCTION_ID
        if rnd.next_int(HOT_SELLERS_RATIO) > 0:
            seller = (last_person(eid) // HOT_BLOCK) * HOT_BLOCK
        else:
            seller = random_person(eid, rnd)
        seller += FIRST_PERSON_ID
        category = FIRST_CATEGORY_ID + rnd.next_int(NUM_CATEGORIES)
        initial = price(rnd)
        horizon = ts(number + NUM_IN_FLIGHT * T // A_PROP, rate, generators) - t
        expires = t + 1 + uniform(rnd, max(2 * horizon, 1))
        item = rstr(rnd, 20)
        desc = rstr(rnd, 100)
        reserve = initial + price(rnd)
        extra = pad(rnd, 8 + len(item) + len(desc) + 40, AVG_AUCTION)
        return {"kind": k, "id": aid, "itemName": item, "description": desc, "initialBid": initial,
                "reserve": reserve, "dateTime": t, "expires": expires, "seller": seller,
                "category": category, "extra": extra}
    if rnd.next_int(HOT_AUCTION_RATIO) > 0:
        auction = (last_auction(eid) // HOT_BLOCK) * HOT_BLOCK
    else:
        auction = random_auction(eid, rnd)
    auction += FIRST_AUCTION_ID
    if rnd.next_int(HOT_BIDDERS_RATIO) > 0:
        bidder = (last_person(eid) // HOT_BLOCK) * HOT_BLOCK + 1
    else:
        bidder = random_person(eid, rnd)
    bidder += FIRST_PERSON_ID
    p = price(rnd)
    if rnd.next_int(2) > 0:
        i = rnd.next_int(4)
        channel, url = HOT_CHANNELS[i], hot_url(i)
    else:
        c = rnd.next_int(10000)
        channel, url = "channel-%d" % c, channel_url(c)
    extra = pad(rnd, 32, AVG_BID)
    return {"kind": k, "auction": auction, "bidder": bidder, "price": p, "channel": channel,
            "url": url, "dateTime": t, "extra": extra}


def dump(obj):
    return json.dumps(obj, separators=(",", ":"))


def fnv1a64(data, h=0xCBF29CE484222325):
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & MASK64
    return h


def main():
    # Default configuration, P = 1, first event id and number 0: event index = id = number.
    print("# default config: events by id")
    for eid in [0, 1, 2, 3, 4, 5, 50, 53, 1234, 99_999, 100_001, 1_000_000]:
        print(eid, dump(event(eid, eid)))
    print("# hot urls")
    for i in range(4):
        print(i, hot_url(i))
    print("# channel urls")
    for c in [0, 1, 2, 3, 9999]:
        print(c, channel_url(c))
    # split(4) of 1000 events: sub-generator j starts at id 250*j, num_generators 4.
    urls = [channel_url(c) for c in range(10000)]
    print("# of the 10000 channel urls: how many carry a channel_id, their total length")
    print(sum("&channel_id=" in u for u in urls), sum(len(u) for u in urls))
    print("# FNV-1a 64 of the JSON lines (each + newline) of events 0..5000, default config")
    h = 0xCBF29CE484222325
    for eid in range(5000):
        h = fnv1a64((dump(event(eid, eid)) + "\n").encode(), h)
    print(h)
    print("# split(4) of 1000 events: (sub, index) -> event")
    for j, k in [(2, 3), (3, 0)]:
        eid = 250 * j + k
        print(j, k, dump(event(eid, k, generators=4)))
    print("# timestamps at rate 3000 ev/s, P = 1 and P = 3")
    print([ts(n, 3000.0) for n in [0, 1, 2, 3, 10, 12345]])
    print([ts(n, 3000.0, 3) for n in [0, 1, 2, 3, 10, 12345]])
    # Raw RNG: the first draws of Random(42) (well-known JDK values) and of a splitmix seed.
    r = JavaRandom(42)
    print("# Random(42): nextInt(), nextInt(10), nextLong(), nextDouble()")
    print(r.next_int(), r.next_int(10), r.next_long(), repr(r.next_double()))
    print("# splitmix64(0), splitmix64(1), splitmix64(2^40)")
    print(splitmix64(0), splitmix64(1), splitmix64(1 << 40))
    return 0


if __name__ == "__main__":
    sys.exit(main())
