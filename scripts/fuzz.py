"""Mutation-fuzz campaign: N mutated TIFFs through VirtualTIFF vs tifffile, in capped child processes.

    python scripts/fuzz.py --seed 1 --n 20000 [--jobs 1] [--timeout 20] [--memory-mb 3072] [--show 5]

Each case is rebuilt deterministically from (seed, index) by ``virtual_geotiff.testing.fuzz`` (which
also documents the outcomes and what counts as a wrong array). Cases run in batches inside worker
processes that cap their address space (``resource.setrlimit(RLIMIT_AS)``): a segfault or abort kills
only the worker, and the case it was running is counted as ``crash``; a case that gives no answer within
``--timeout`` seconds is counted as ``hang`` and its worker is killed. Either way a fresh worker takes the
rest of the batch. Prints counts by outcome and examples of every bad outcome; exits 1 when any case
crashed, hung, ran out of memory, mismatched tifffile or raised an untyped error.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time

_EOF = {"eof": True}


def worker(seed: int, memory_mb: int) -> None:
    """Read case indices from stdin, answer one JSON line per case on stdout."""
    import resource

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.environ.setdefault("RUST_BACKTRACE", "0")
    from virtual_geotiff.testing import fuzz

    fuzz.seeds()
    out = sys.stdout
    print(json.dumps({"ready": True}), file=out, flush=True)
    for line in sys.stdin:
        index = int(line)
        try:
            case, result = fuzz.run(seed, index)
            answer = {"index": index, "outcome": result.outcome, "detail": result.detail,
                      "case": case.description}
        except MemoryError:
            answer = {"index": index, "outcome": "oom", "detail": "MemoryError", "case": ""}
        except BaseException as exc:  # the oracle itself failed: report it, never hide it
            answer = {"index": index, "outcome": "untyped-error", "detail": f"harness: {exc!r}"[:300], "case": ""}
        print(json.dumps(answer), file=out, flush=True)
    out.flush()
    os._exit(0)  # skip interpreter teardown (Rust runtimes of obstore/async-tiff), nothing left to flush


class Worker:
    def __init__(self, seed: int, memory_mb: int) -> None:
        env = {**os.environ, "RUST_BACKTRACE": "0", "PYTHONWARNINGS": "ignore"}
        self.stderr = tempfile.TemporaryFile(mode="w+", prefix="fuzz-worker-")  # noqa: SIM115 - lives with the worker
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", "--seed", str(seed), "--memory-mb", str(memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True, bufsize=1,
            env=env,
        )
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        ready = self.read(120)
        if not ready or not ready.get("ready"):
            raise RuntimeError("fuzz worker failed to start")

    def read(self, timeout: float) -> dict | None:
        """One answer line; None on timeout, ``_EOF`` when the worker died."""
        if not self.selector.select(timeout):
            return None
        line = self.proc.stdout.readline()
        return json.loads(line) if line else _EOF

    def last_words(self) -> str:
        """The end of the worker's stderr (a Rust panic message, a fatal Python error)."""
        self.stderr.seek(0)
        lines = [ln.strip() for ln in self.stderr.read().splitlines()[-40:]
                 if ln.strip() and not ln.startswith((" ", "stack backtrace", "note:"))]
        return " | ".join(lines[-3:])[:400]

    def send(self, index: int) -> None:
        self.proc.stdin.write(f"{index}\n")
        self.proc.stdin.flush()

    def kill(self) -> int | None:
        self.proc.kill()
        self.proc.wait()
        return self.proc.returncode

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(10)
        except Exception:
            self.kill()


def run_batch(seed: int, indices: list[int], args: argparse.Namespace) -> list[dict]:
    """Run ``indices`` through workers, restarting a worker after a crash or hang."""
    results: list[dict] = []
    pending = list(indices)
    while pending:
        w = Worker(seed, args.memory_mb)
        try:
            while pending:
                index = pending[0]
                try:
                    w.send(index)
                except BrokenPipeError:
                    code = w.kill()
                    results.append({"index": index, "outcome": "crash", "detail": f"worker exit {code}"})
                    pending.pop(0)
                    break
                answer = w.read(args.timeout)
                if answer is None or answer is _EOF:
                    hung = answer is None
                    code = w.kill() if hung else w.proc.wait()
                    detail = f"no answer in {args.timeout}s" if hung else f"worker exit {code}: {w.last_words()}"
                    results.append({"index": index, "outcome": "hang" if hung else "crash", "detail": detail,
                                    "case": f"case {index}"})
                    pending.pop(0)
                    break
                results.append(answer)
                pending.pop(0)
            else:
                w.close()
        except BaseException:
            w.kill()
            raise
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--start", type=int, default=0, help="first case index (to resume or shard)")
    ap.add_argument("--timeout", type=float, default=40.0,
                    help="seconds per case before it counts as a hang (cases use a 10 s header deadline)")
    ap.add_argument("--memory-mb", type=int, default=3072, help="address-space cap of each worker")
    ap.add_argument("--batch", type=int, default=500, help="cases per worker process")
    ap.add_argument("--show", type=int, default=5, help="examples printed per non-ok outcome")
    ap.add_argument("--json", help="write every non-ok case to this JSON file")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.seed, args.memory_mb)
        return

    from virtual_geotiff.testing.fuzz import BAD_OUTCOMES, OUTCOMES

    counts: collections.Counter[str] = collections.Counter()
    examples: dict[str, list[dict]] = collections.defaultdict(list)
    t0 = time.perf_counter()
    indices = list(range(args.start, args.start + args.n))
    for b in range(0, len(indices), args.batch):
        for r in run_batch(args.seed, indices[b : b + args.batch], args):
            counts[r["outcome"]] += 1
            if not r["outcome"].startswith("ok"):
                examples[r["outcome"]].append(r)
        done = min(b + args.batch, len(indices))
        elapsed = time.perf_counter() - t0
        print(f"[{done}/{len(indices)} cases, {elapsed:.0f}s] " + ", ".join(
            f"{o}={counts[o]}" for o in OUTCOMES if counts[o]), file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - t0
    print(f"fuzz campaign: seed={args.seed} cases={sum(counts.values())} "
          f"({args.start}..{args.start + args.n - 1}) in {elapsed:.0f}s "
          f"({elapsed / max(len(indices), 1) * 1000:.1f} ms/case)")
    for outcome in OUTCOMES:
        print(f"  {outcome:14s} {counts[outcome]}")
    for outcome in (*BAD_OUTCOMES, "unverified", "read-error"):
        for r in examples.get(outcome, [])[: args.show]:
            print(f"{outcome}: {r.get('case', '')} -> {r.get('detail', '')}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({k: v for k, v in examples.items()}, fh, indent=1)
    bad = sum(counts[o] for o in BAD_OUTCOMES)
    print(f"bad outcomes (mismatch, untyped-error, crash, hang, oom): {bad}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
