//! Runs the `sessionize` example binary (built by `cargo test`) and compares what it prints with
//! the sessions worked out by hand from its clicks (see the comments of its steps).

use std::process::Command;

mod common;

#[test]
fn prints_the_hand_worked_sessions() {
    let out = Command::new(common::example_binary("sessionize"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let sessions: Vec<&str> = text.lines().filter(|l| !l.starts_with("step ")).collect();
    let steps = text.lines().filter(|l| l.starts_with("step ")).count();
    assert_eq!(steps, 5, "{text}");
    assert_eq!(
        sessions,
        [
            // Step 2: bob's click at 75 s is 45 s after his last (30 s).
            "  session bob [5s, 60s) 2 clicks: home search",
            // Step 3: cid's gap (80 s -> 120 s), then the watermark (110 s) passes ann's
            // timeout (70 s) and bob's (105 s).
            "  session ann [2s, 70s) 3 clicks: home shoes cart",
            "  session bob [75s, 105s) 1 clicks: home",
            "  session cid [80s, 110s) 1 clicks: home",
            // Step 4: the watermark (190 s) passes cid's timeout (150 s).
            "  session cid [120s, 150s) 1 clicks: help",
        ],
        "{text}"
    );
    // Each session comes out in the step that closes it.
    let step3 = text.find("step 3").unwrap();
    let step4 = text.find("step 4").unwrap();
    let bob = text.find("session bob [5s").unwrap();
    assert!(bob < step3 && text.find("step 2").unwrap() < bob, "{text}");
    let ann = text.find("session ann").unwrap();
    assert!(step3 < ann && ann < step4, "{text}");
}
