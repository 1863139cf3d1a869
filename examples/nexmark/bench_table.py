"""Throughput table of docs/performance.md: every query x workers x engine, ROUNDS times
(default 3) alternating the engines; prints a markdown table of the best run of each, with the
least user-space CPU cycles of each engine (perf stat). Build first:
`cargo build --release --example nexmark`; run from the workspace root:
`python3 examples/nexmark/bench_table.py [ROUNDS]` (`NEXMARK_BIN=path` runs another build). Where the
machine has no cycle counter (`perf stat -e cycles:u true` says "not supported"), the cycles
column reads n/a."""
import json, os, subprocess, sys
B = os.environ.get('NEXMARK_BIN') or os.path.join(os.environ.get('CARGO_TARGET_DIR', 'target'), 'release', 'examples', 'nexmark')
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
QUERIES = ['q0', 'q1', 'q2', 'q3', 'q4', 'q5', 'q7', 'q8', 'q9', 'q11', 'bids-count', 'bids-window']
# q4 and q9's baseline keeps every bid: fewer events.
EVENTS = {'q4': '2000000', 'q9': '2000000', 'q5': '10000000', 'q7': '10000000', 'q8': '10000000', 'q11': '10000000'}
res = {}
for q in QUERIES:
    n = EVENTS.get(q, '10000000' if q.startswith('bids') else '5000000')
    for w in ['1', '2']:
        for _ in range(rounds):
            for e in ['dsl', 'baseline']:
                p = subprocess.run(['perf', 'stat', '-x,', '-e', 'cycles:u', B, '--query', q, '--events', n, '-w', w, '--engine', e],
                                   capture_output=True, text=True)
                j = json.loads(p.stdout.strip().splitlines()[-1])
                field = [l for l in p.stderr.splitlines() if 'cycles' in l][0].split(',')[0]
                cyc = int(field) if field.isdigit() else None
                res.setdefault((q, w, e), []).append((j, cyc))
print('| query | W | events | dsl events/s | dsl per core | baseline events/s | baseline per core | dsl/baseline events/s | baseline/dsl CPU cycles | RSS dsl / baseline MB |')
print('|---|---|---|---|---|---|---|---|---|---|')
for q in QUERIES:
    for w in ['1', '2']:
        d = res[(q, w, 'dsl')]; b = res[(q, w, 'baseline')]
        bd = max(d, key=lambda x: x[0]['events_per_s'])[0]; bb = max(b, key=lambda x: x[0]['events_per_s'])[0]
        cd = min((x[1] for x in d if x[1]), default=None); cb = min((x[1] for x in b if x[1]), default=None)
        cycles = f"{cb/cd:.2f}" if cd and cb else 'n/a'
        f = lambda v: f"{v/1e6:.2f}M"
        print(f"| {q} | {w} | {bd['events']/1e6:g}M | {f(bd['events_per_s'])} | {f(bd['events_per_s_per_core'])} | {f(bb['events_per_s'])} | {f(bb['events_per_s_per_core'])} | {bd['events_per_s']/bb['events_per_s']:.2f} | {cycles} | {bd['peak_rss_mb']} / {bb['peak_rss_mb']} |")
