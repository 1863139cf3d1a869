//! Golden values of the Nexmark generator, worked out independently by
//! `stream-runtime/tests/nexmark_golden.py` (a from-the-spec Python implementation of
//! `java.util.Random`, `splitmix64` and docs/nexmark.md's field rules). Regenerate them with
//! `python3 stream-runtime/tests/nexmark_golden.py` from the repository root.

use stream_runtime::source::nexmark::*;
use stream_runtime::Timestamp;

/// `(event id, Event::to_json())` for the default configuration (P = 1, first id and number 0,
/// so the event index is the event id), from nexmark_golden.py.
const EVENTS: &[(u64, &str)] = &[
    (
        0,
        r##"{"kind":"person","id":1000,"name":"Deiter Bartels","emailAddress":"lg aa@sbf.com","creditCard":"7796 6232 9816 6651","city":"Phoenix","state":"ID","dateTime":1436918400000,"extra":"zmjtkdeppgujS[HJ^PckxjcemajzbfTV_SOa\\T]VPUgdankxdafqmoaSLSQXVKXMP]J]]\\PXQRHT[]scamomfasxshKRTRIUTMZ]JITMXIX^RUSXXMXHU]_`ptbb"}"##,
    ),
    (
        1,
        r##"{"kind":"auction","id":1000,"itemName":"adwnwjklpxogrpv vw","description":"isbccslhvizfye vqozawpewctvc  l  gtekmn vlz","initialBid":484,"reserve":45701726,"dateTime":1436918400000,"expires":1436918400003,"seller":1000,"category":13,"extra":"[HLL]`JRQOVaYI`aaOeivjscRWTPOKteazdwroyfubJX]XLHusyimlSHKIVXzcasoiqgrqcu\\XTSR_aUJILWIW]LJSQ^QSMQxilfehjmuijwO^YOHWmezvaeQIOSXVwxtqxjbanhxvRKaRaTM`^MTWbhfogqaqaqojeddgzeIU^\\LIKT_XSKTRNU`Rjuamlpdhbxrh\\]JaQ_KP_QV^]JUHPZJTQUJ`]^UMUWjxtdshygmdouYSPKOLaqlzue^U[HSIO[\\`HVctxqniXM\\^]UtnnrosPRHJX^qldrsqggmgmjH_^]W^hkddarvsaxgjcyiswvxysydijamydfNMUJOKgfeoqgwpulwqaX`NL\\jlallf^^X_]TVZ\\VKX\\HOQ^ZP`S\\J\\uvihxuSI\\L[Othsjea\\PNQV[viheeturflipMTaQ[XeadvuhkrsdjqO^O[PZZKP"}"##,
    ),
    (
        2,
        r##"{"kind":"auction","id":1001,"itemName":"siqtftmk","description":"fselasdpaum gvpzcatbshd rxesocfbmurwzhmuzxiumjfjubxy ya rlqp wcvsd ghmwqly bspn ehd","initialBid":819,"reserve":158005,"dateTime":1436918400000,"expires":1436918400114,"seller":1000,"category":12,"extra":"aYTH`Kkavjkx^UXIHN_[[L`[mhrnnljnqkagZ\\NLQWqehkiwLVWNNWO[V\\NWVR\\LX]dzcgpfMVQMIUbakrnu\\IMII\\visebcugpsvh^KRU]XjekrxhWZZ`JXldxcwyRYONaYY]\\LHTULL\\OURQTWNWbouxkuONTHLSupasmberfegehlinyhsbtaddWSW^a\\KTK_TWmnlyzhwgskcm[IT]MLpbrdscNTTZZLupdcydIRQ^aRcxolkkakjkzpYUR[OY`]JOS]btypxpYKVMXNK_T[V^[NIWUWnbosqqhqdkipNVSUSOerujimM_MN`UJWVVHJwpynqaa]YMYYO^"}"##,
    ),
    (
        3,
        r##"{"kind":"auction","id":1002,"itemName":"ktdk mgdawmech","description":"hs krvswh qbaadcxgdaximfje urhvpw qwhitgbku  qbn","initialBid":2612,"reserve":900995,"dateTime":1436918400000,"expires":1436918400304,"seller":1000,"category":12,"extra":"weghdhZLSIIJQI^NMIamznqzutguhvjvhbltwifkypytmlebXMHXa[nfezuuMZRH_O`PRPHZfqxrxkyjjkwbjgvpxgktwkvoPIL[HOllcpkmWYQaWJUIN]aInycbxiaJLV[R_RX_UIpwebkrodfzrkPHV_\\J]XKU`WdiyhhyWUTHTZ_[KSNQyeagjkpjnsodSQV`[Xftrblmbdzwcf`Y[R_H\\^O_JSnbcvgcfvxircrlxryeujgmrtsbxkhsTUK\\LPhrjzcbpydwiqxfkuwnerxzdqYJ_PV[T\\HU_aMJT[VImarqaksaqspfSJLSNZcpfejpaOO[\\ZrpagkfYRaI"}"##,
    ),
    (
        4,
        r##"{"kind":"bid","auction":1000,"bidder":1001,"price":5936,"channel":"Baidu","url":"https://www.nexmark.com/__mu/mzha/qcs/item.htm?query=1","dateTime":1436918400000,"extra":"iliywjwltwxxtxddymggegtvWMOULSJ\\`a^JKXSWNYTJJK_KTLSPXZwizatyTWM_`[VYQ"}"##,
    ),
    (
        5,
        r##"{"kind":"bid","auction":1000,"bidder":1001,"price":3810,"channel":"Facebook","url":"https://www.nexmark.com/a_a/vyhw/xqr/item.htm?query=1","dateTime":1436918400000,"extra":"MIWISWY]N`JPP^^\\IRa[TJOOxkgckfHKMZHKH]LRNOVVSP_[qrjrxspqzmfrMQJ^XOaN"}"##,
    ),
    (
        50,
        r##"{"kind":"person","id":1001,"name":"Kate Bartels","emailAddress":"uswmhz@sagh.com","creditCard":"4521 8117 8552 6007","city":"Redmond","state":"AZ","dateTime":1436918400005,"extra":"nmqbayL_aYIRaJJKVQnthisdNMZQJ[tqvydy_LM\\SPV[Q\\JXaamhibomczrmljwczglbmdzfQZPWNTHHJU\\PrgrbqjzzxwlpjtkxjfSaJRO]VLOYUWRKP^WN_WL^OYZV^ZPWstwzgpojuhjdc"}"##,
    ),
    (
        53,
        r##"{"kind":"auction","id":1005,"itemName":"jxtpbwamxk znd","description":"mvzigvqmgdiokkbnrrixjctqsra wh","initialBid":12124,"reserve":12486,"dateTime":1436918400005,"expires":1436918400254,"seller":1000,"category":14,"extra":"VNYRKV]_R_^\\KSHV`Z_TX^UY[[\\_Z`KVaaRJmmihwxttnjmlaneoqvqtsjix]JUaMKRSOaQHVMPaR\\lqfvwqszfmoeZXKZMJgpaqvp]IQKSVJWTSR`UWNMOWnnohay`HRWaIXHQOSWRYXR\\XpttseaeoiutoN[UXU`XS\\SVISN]LJPyytoiocursvlS`\\NH`MS[QPUXKHOLa^IW^[]MMYTS^XRI]ITHXVYMXTOZYNHhjlnwjhakeks[OLK\\VMHR^aZnfemjwvyeqzpsuegiytwywcjbxrdimMK^MXPohfekyxbwznikizkrpddqmutJ]MSWKlhyprm`N[VY]^YYNNZN\\a`O^oiwzpsrtblxwxbnwcdKTOLLLWJZLTWcysyil[WT[HOHOJPLZshvfqdWWHUQRdpexowvfstflwyayahnnumhbIVVSQLMXHSS`vnxenw^YVS[[OL_V]TmticadmkndsnxvpsauvkufamQ^^"}"##,
    ),
    (
        1234,
        r##"{"kind":"bid","auction":1000,"bidder":1001,"price":717389,"channel":"Apple","url":"https://www.nexmark.com/jd__/sibe/fbo/item.htm?query=1","dateTime":1436918400123,"extra":"ykuvumkvfvnsgektqdSIWVMXqlflpctzgjil\\^]SaRydnmsx[QU\\Y]vvr"}"##,
    ),
    (
        99999,
        r##"{"kind":"bid","auction":6960,"bidder":2901,"price":1918293,"channel":"channel-5500","url":"https://www.nexmark.com/kotw/dqv/gbjg/item.htm?query=1&channel_id=1051197440","dateTime":1436918409999,"extra":"izrmxdeuezizK\\OP`WhxyvnfhdogcaSHVWYLjickqygaytycneabjcfhi"}"##,
    ),
    (
        100001,
        r##"{"kind":"auction","id":7000,"itemName":"gaeqoly","description":"vmhrdru r sjkflyv bheacdfoa e","initialBid":218,"reserve":97840847,"dateTime":1436918410000,"expires":1436918410197,"seller":3000,"category":14,"extra":"grtbov^P_OOJT\\JUX_uhcgam^RZYJPiwwpkdS\\]ZRRLLNZQ`bjtdfdajazcvUXR`NXbiijskQ_IRWKOYK^JXzqsjphZQaR]\\Y^\\HS_ooghevgqrnuiV`\\PN^PTKMVIgbzjbuV]XJWUO`M_OVpsilsozsxkat_MP`aKL\\UYWMYNN_SZgzqupaoxwlideavtglOY`YHVpnqlejgbxznbXV`MNJjcpjalI`[X[HKYIWXNubnvdswywiirVSUKT_RVSUX\\OKU]\\]MZ[HPMYLM`_JOJYH\\ZcbaogddpoqgnKJ_QNQTT\\M[_L]K`HOpzcbdtUTHSR[drulwnmgpwghwdtcaeP[VWQJQKaR[_zcvijfxclugxdwqggspjlprviexvskbarzqvbbbjhiocpwdogcnndnV]a^TKS`LMQTaLZSZSaisdfsgvjifoV]LOHVXRLQ"}"##,
    ),
    (
        1000000,
        r##"{"kind":"person","id":21000,"name":"Luke Shultz","emailAddress":"eeku@i t.com","creditCard":"1026 5666 8821 8382","city":"Phoenix","state":"WY","dateTime":1436918500000,"extra":"nzcmevehrpqpiytzkzKJXJaUX_USZPgtavbroxnwbnrhmrczxolehgSUO[YZXIZVSVbymsfdQIXYaKmfuuxjZXW\\_UuifzlqLRWYZZthioggvaugnqnlsdax_SOXT_txjcqhslknbfZX\\[NR"}"##,
    ),
];

/// `HOT_URL[0..4]`, from nexmark_golden.py.
const HOT_URLS: [&str; 4] = [
    "https://www.nexmark.com/zgtw/zxh/o_u/item.htm?query=1",
    "https://www.nexmark.com/a_a/vyhw/xqr/item.htm?query=1",
    "https://www.nexmark.com/__mu/mzha/qcs/item.htm?query=1",
    "https://www.nexmark.com/jd__/sibe/fbo/item.htm?query=1",
];

/// `(c, URL_c)`, from nexmark_golden.py.
const CHANNEL_URLS: &[(u64, &str)] = &[
    (
        0,
        "https://www.nexmark.com/gea_/gfrx/tasi/item.htm?query=1&channel_id=0",
    ),
    (
        1,
        "https://www.nexmark.com/ijny/tzsc/nzul/item.htm?query=1&channel_id=-2147483648",
    ),
    (
        2,
        "https://www.nexmark.com/sbsy/joy_/reqj/item.htm?query=1&channel_id=1073741824",
    ),
    (
        3,
        "https://www.nexmark.com/ex_/gwo/exk/item.htm?query=1&channel_id=1073741824",
    ),
    (
        9999,
        "https://www.nexmark.com/eshi/gtnc/qwl/item.htm?query=1&channel_id=253493248",
    ),
];

/// `(sub-generator, index, Event::to_json())` of `NexmarkConfig::with_events(1000).split(4)`,
/// from nexmark_golden.py.
const SPLIT4: &[(usize, u64, &str)] = &[
    (
        2,
        3,
        r##"{"kind":"auction","id":1032,"itemName":"josgqjpl","description":"nzdazsw zzplc  qfq reqyuvkikonvddqlfqtb vxrzifhvqnex fljmegagm wxfcukhqjzhclkcuauv tyagibol gtafmwy","initialBid":2192947,"reserve":2193047,"dateTime":1436918400001,"expires":1436918400510,"seller":1000,"category":11,"extra":"Ra]KPYrarcnsHNXQO]aNUUOJnwygdk^JSNW`MYOQJYizmknlL[`SNYMHJM\\LnlhleimkyhmpetovnhTU\\\\HNP]QMaVWQaYWXUVHNQZtyhmxgkeeszgrmxziaH\\NM`ZixdkylKU[LWNlipdkummrjjm\\RKKMNU\\aSOIT[[KLPHXOJM[sqjswxhmninmWMP[TQM_XaXa[WVLSIV`J`OH`QZ^OQjijwif]QZNUUgzdscaIHP_[^IQWMOOlzaabxqypilstjwurg\\UPI]NgfqqtcmbhkolafwfjzVJXXL"}"##,
    ),
    (
        3,
        0,
        r##"{"kind":"person","id":1015,"name":"Vicky Bartels","emailAddress":"ouf@l.com","creditCard":"3440 9859 3240 2836","city":"Redmond","state":"OR","dateTime":1436918400000,"extra":"aeeqgocsjxbcmimpjoNV[OMVcvfcskJMaZNRSI_NQ_^HKNSLvkheolvrodujV^KRSPkfamhywimwfvksxvgrutvtiuMX[[`INaaZZMJYU_ZVhrhslxuicfcbV_VVI\\PXWSSHdvtpnuynxvnzdjipqfvhrhmz^OOR\\HaXM]Y"}"##,
    ),
];
const BASE: i64 = 1_436_918_400_000;

#[test]
fn events_match_the_independent_reference() {
    let config = NexmarkConfig::default();
    for &(id, json) in EVENTS {
        assert_eq!(event(&config, id).to_json(), json, "event {id}");
    }
}

#[test]
fn spot_fields_of_the_reference_events() {
    let config = NexmarkConfig::default();
    let Event::Bid(b) = event(&config, 4) else {
        panic!("event 4 is a bid")
    };
    assert_eq!((b.auction, b.bidder, b.price), (1000, 1001, 5936));
    assert_eq!((b.channel.as_str(), b.url.as_str()), ("Baidu", HOT_URLS[2]));
    assert_eq!(b.date_time, Timestamp(BASE));
    let Event::Bid(b) = event(&config, 99_999) else {
        panic!("event 99999 is a bid")
    };
    assert_eq!((b.auction, b.bidder, b.price), (6960, 2901, 1_918_293));
    assert_eq!(b.channel, "channel-5500");
    assert!(b.url.ends_with("&channel_id=1051197440"));
    assert_eq!(b.date_time, Timestamp(BASE + 9_999));
    let Event::Auction(a) = event(&config, 100_001) else {
        panic!("event 100001 is an auction")
    };
    assert_eq!((a.id, a.seller, a.category), (7000, 3000, 14));
    assert_eq!((a.initial_bid, a.reserve), (218, 97_840_847));
    assert_eq!(
        (a.date_time, a.expires),
        (Timestamp(BASE + 10_000), Timestamp(BASE + 10_197))
    );
    let Event::Person(p) = event(&config, 1_000_000) else {
        panic!("event 1000000 is a person")
    };
    assert_eq!((p.id, p.name.as_str()), (21_000, "Luke Shultz"));
    assert_eq!(p.email_address, "eeku@i t.com");
    assert_eq!(p.credit_card, "1026 5666 8821 8382");
    assert_eq!((p.city.as_str(), p.state.as_str()), ("Phoenix", "WY"));
    assert_eq!(p.date_time, Timestamp(BASE + 100_000));
}

#[test]
fn urls_match_the_independent_reference() {
    for (i, url) in HOT_URLS.iter().enumerate() {
        assert_eq!(hot_url(i as u64), *url);
    }
    for &(c, url) in CHANNEL_URLS {
        assert_eq!(channel_url(c), url, "channel {c}");
    }
}

#[test]
fn split_events_match_the_independent_reference() {
    let subs = NexmarkConfig::with_events(1000).split(4);
    assert_eq!(
        subs.iter().map(|s| s.first_event_id).collect::<Vec<_>>(),
        [0, 250, 500, 750]
    );
    for &(j, k, json) in SPLIT4 {
        assert_eq!(event(&subs[j], k).to_json(), json, "sub {j} index {k}");
    }
}

#[test]
fn timestamps_follow_flink_double_arithmetic() {
    // From nexmark_golden.py: rate 3000 ev/s, P = 1 and P = 3.
    let numbers = [0, 1, 2, 3, 10, 12_345];
    let one = NexmarkConfig {
        event_rate: 3000.0,
        ..Default::default()
    };
    let three = NexmarkConfig {
        num_generators: 3,
        ..one.clone()
    };
    let ts = |c: &NexmarkConfig| numbers.map(|n| timestamp_ms(c, n) - BASE);
    assert_eq!(ts(&one), [0, 0, 0, 1, 3, 4114]);
    assert_eq!(ts(&three), [0, 1, 2, 3, 10, 12_345]);
    // Default density: 10 events per ms.
    let d = NexmarkConfig::default();
    assert_eq!(timestamp_ms(&d, 9) - BASE, 0);
    assert_eq!(timestamp_ms(&d, 10) - BASE, 1);
    assert_eq!(timestamp_ms(&d, 1_000_000) - BASE, 100_000);
}

/// The first 100 events by hand: per 50 ids, 1 person, 3 auctions, 46 bids; person and
/// auction ids dense from 1000; bids reference existing-or-lead ids.
#[test]
fn first_hundred_events_kinds_and_ids() {
    let config = NexmarkConfig::default();
    let mut expected_person = 1000;
    let mut expected_auction = 1000;
    for i in 0..100u64 {
        let e = event(&config, i);
        let want = match i % 50 {
            0 => EventKind::Person,
            1..=3 => EventKind::Auction,
            _ => EventKind::Bid,
        };
        assert_eq!(e.kind(), want, "event {i}");
        assert_eq!(event_kind(&config, i), want);
        assert_eq!(event_id(&config, i), i);
        assert_eq!(e.date_time(), Timestamp(BASE + i as i64 / 10));
        match e {
            Event::Person(p) => {
                assert_eq!(p.id, expected_person);
                expected_person += 1;
            }
            Event::Auction(a) => {
                assert_eq!(a.id, expected_auction);
                expected_auction += 1;
                assert!(a.seller < expected_person + PERSON_ID_LEAD);
            }
            Event::Bid(b) => {
                assert!(b.auction >= 1000 && b.auction < expected_auction + AUCTION_ID_LEAD);
                assert!(b.bidder >= 1000 && b.bidder < expected_person + PERSON_ID_LEAD);
            }
        }
    }
    assert_eq!((expected_person, expected_auction), (1002, 1006));
}

#[test]
fn json_is_valid_and_names_the_kind() {
    let config = NexmarkConfig::default();
    for i in 0..200 {
        let e = event(&config, i);
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(v["kind"], e.kind().as_str());
        assert_eq!(v["dateTime"].as_i64(), Some(e.date_time().millis()));
    }
}

#[test]
fn out_of_order_groups_permute_ids_within_groups() {
    let config = NexmarkConfig {
        out_of_order_group_size: 4,
        ..Default::default()
    };
    // (n·953) % 4 = n % 4 · 1 (953 ≡ 1 mod 4): the identity. Group size 3: 953 ≡ 2 (mod 3).
    assert_eq!(
        (0..8).map(|i| event_id(&config, i)).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5, 6, 7]
    );
    let config = NexmarkConfig {
        out_of_order_group_size: 3,
        ..Default::default()
    };
    assert_eq!(
        (0..9).map(|i| event_id(&config, i)).collect::<Vec<_>>(),
        [0, 2, 1, 3, 5, 4, 6, 8, 7]
    );
    // The event time follows the adjusted number, the watermark the group's first number.
    let Event::Auction(a) = event(&config, 1) else {
        panic!("event id 2 is an auction")
    };
    assert_eq!(a.id, 1001);
    assert_eq!(watermark_ms(&config, 29), timestamp_ms(&config, 27));
    assert_eq!(
        event(&config, 28).date_time().millis(),
        timestamp_ms(&config, 29)
    );
}

fn fnv1a64(data: &[u8], mut h: u64) -> u64 {
    for &b in data {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01B3);
    }
    h
}

/// Every field of the first 5000 events, through a checksum of their JSON lines: FNV-1a 64
/// from nexmark_golden.py.
#[test]
fn first_five_thousand_events_checksum() {
    let config = NexmarkConfig::default();
    let mut h = 0xCBF2_9CE4_8422_2325;
    for i in 0..5000 {
        let mut line = event(&config, i).to_json();
        line.push('\n');
        h = fnv1a64(line.as_bytes(), h);
    }
    assert_eq!(h, 16_360_556_325_308_495_676);
}

/// All 10,000 channel urls: how many carry a channel id, and their total length, from
/// nexmark_golden.py.
#[test]
fn all_channel_urls_summary() {
    let urls: Vec<String> = (0..10_000).map(channel_url).collect();
    let with_id = urls.iter().filter(|u| u.contains("&channel_id=")).count();
    let total: usize = urls.iter().map(|u| u.len()).sum();
    assert_eq!((with_id, total), (9011, 728_623));
}

/// Flink's source factory: first event id 1 and first event number 1, so the first event id is
/// 2 (an auction) at event number 1.
#[test]
fn flink_style_first_ids() {
    let config = NexmarkConfig {
        first_event_id: 1,
        first_event_number: 1,
        ..Default::default()
    };
    assert_eq!(event_id(&config, 0), 2);
    assert_eq!(event_kind(&config, 0), EventKind::Auction);
    let Event::Auction(a) = event(&config, 0) else {
        panic!("event id 2 is an auction")
    };
    assert_eq!(a.id, 1001);
    assert_eq!(a.date_time.millis(), BASE); // ts(1) = base + 100 µs, floored to ms
    assert_eq!(event_id(&config, 48), 50);
    assert_eq!(event_kind(&config, 48), EventKind::Person);
}
