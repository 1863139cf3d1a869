"""2 processes against 1 (docs/performance.md): every query x engine on `-n 1 -w 2` and on
`-n 2 -w 1` (the same total of workers, so the same events), ROUNDS times (default 3)
alternating the layouts; prints a markdown table of the best of each: events/s of the fastest
run, per core of the run with the least CPU (on a shared machine, the least disturbed), and that
run's CPU seconds per process. Per core is events per CPU second of all processes (the summary
line of `-n 2` sums both, and lists them in `cpu_s_per_process`). Build first: `cargo build --release --example nexmark`; run from the
workspace root: `python3 examples/nexmark/bench_processes.py [ROUNDS] [QUERY ...]`
(`NEXMARK_BIN=path` runs another build; `-n 2` listens on localhost:2101-2102)."""
import json, os, subprocess, sys
B = os.environ.get('NEXMARK_BIN') or os.path.join(os.environ.get('CARGO_TARGET_DIR', 'target'), 'release', 'examples', 'nexmark')
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
queries = sys.argv[2:] or ['q0', 'q1', 'q2', 'bids-count', 'bids-window']
layouts = {'1x2': ['-n', '1', '-w', '2'], '2x1': ['-n', '2', '-w', '1']}
res = {}
for q in queries:
    n = '10000000' if q.startswith('bids') else '5000000'
    for _ in range(rounds):
        for e in ['dsl', 'baseline']:
            for l, flags in layouts.items():
                p = subprocess.run([B, '--query', q, '--events', n, '--engine', e] + flags, capture_output=True, text=True)
                if p.returncode != 0:
                    sys.exit(f"{q} {e} {l} failed: {p.stderr}")
                res.setdefault((q, e, l), []).append(json.loads(p.stdout.strip().splitlines()[-1]))
print('| query | engine | events | 1 process x 2 workers: events/s | per core | 2 processes x 1 worker: events/s | per core | CPU s per process | 2 proc / 1 proc events/s | per core |')
print('|---|---|---|---|---|---|---|---|---|---|')
f = lambda v: f"{v/1e6:.2f}M"
for q in queries:
    for e in ['dsl', 'baseline']:
        one, two = res[(q, e, '1x2')], res[(q, e, '2x1')]
        fast1, fast2 = (max(r, key=lambda j: j['events_per_s']) for r in (one, two))
        core1, core2 = (max(r, key=lambda j: j['events_per_s_per_core']) for r in (one, two))
        cpus = ' + '.join(f"{c:.2f}" for c in core2['cpu_s_per_process'])
        print(f"| {q} | {e} | {fast1['events']//1000000}M | {f(fast1['events_per_s'])} | {f(core1['events_per_s_per_core'])} | "
              f"{f(fast2['events_per_s'])} | {f(core2['events_per_s_per_core'])} | {cpus} | "
              f"{fast2['events_per_s']/fast1['events_per_s']:.2f} | {core2['events_per_s_per_core']/core1['events_per_s_per_core']:.2f} |")
