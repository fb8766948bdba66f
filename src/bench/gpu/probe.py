"""Reads the stamped probe logs: the steady ms per step (from step 10 on) and when step 1 came."""
import json, re, sys, statistics
files, pairs = sys.argv[1:-1], int(sys.argv[-1])
ms, load = [], []
for f in files:
    steps = []   # (t, step)
    t_first = None
    for line in open(f):
        m = re.match(r'\s*([\d.]+) \S+ \[segdet\] (\d+)/(\d+)', line)
        if m:
            t, s = float(m.group(1)), int(m.group(2))
            steps.append((t, s))
            if t_first is None: t_first = t
    late = [x for x in steps if x[1] >= 10]
    if len(late) >= 2 and late[-1][1] > late[0][1]:
        ms.append(1000 * (late[-1][0] - late[0][0]) / (late[-1][1] - late[0][1]))
    if t_first is not None:
        load.append(t_first)  # seconds from the trainers' start to step 1 (load, fuse with F, first step)
out = {'msPerStep': ms, 'msPerStepMedian': statistics.median(ms) if ms else None,
       'firstStepAtS': load, 'pairs': pairs}
print(json.dumps(out))
