"""Command line: ``fastkernels info | bench | warmup | coldstart`` (also ``python -m fastkernels``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _cmd_info(args) -> int:
    from ._info import info

    if args.json:
        print(json.dumps(info(as_dict=True), indent=2))
    else:
        info()
    return 0


def _cmd_bench(args) -> int:
    from ._backend import num_threads
    from ._info import info
    from .bench import cases, run, table, to_json, to_png

    if args.list:
        for c in cases(args.area, args.filter):
            sizes = ", ".join(c.label(**s) for s in c.sizes["full" if args.full else "quick"])
            print(f"{c.area:9s} {c.name:28s} {c.description}  [{sizes}]")
        return 0
    profile = "full" if args.full else "quick"
    threads = args.threads or None
    import contextlib

    ctx = num_threads(threads) if threads else contextlib.nullcontext()
    with ctx:
        results = run(areas=args.area, filter=args.filter, profile=profile, backend=args.backend)
        meta = info(as_dict=True)
    meta.update(profile=profile, backend=args.backend)
    if not results:
        print("no benchmark case matches", file=sys.stderr)
        return 1
    print()
    print(f"fastkernels bench ({profile} profile, backend={args.backend}, {meta['num_threads']} threads, "
          f"numba {meta['numba']}, numpy {meta['numpy']}); median time per call, speedup vs X = X's time / "
          "fastkernels' time")
    print(f"machine: {meta['cpu']} ({meta['vector_isa']}, LLVM target {meta['llvm_cpu']}); speedups of the SIMD-bound "
          "kernels are about half on AVX2-only CPUs of what they are on AVX-512 ones")
    print(table(results))
    os.makedirs(args.out, exist_ok=True)
    json_path = os.path.join(args.out, "fastkernels-bench.json")
    to_json(results, json_path, meta=meta)
    written = [json_path]
    if not args.no_png:
        png_path = os.path.join(args.out, "fastkernels-bench.png")
        to_png(results, png_path, title=f"fastkernels {profile} benchmark, {meta['num_threads']} threads, "
                                                 f"{args.backend}\n{meta['cpu']} ({meta['vector_isa']})")
        written.append(png_path)
    print("\nwrote " + ", ".join(written))
    failed = [r for r in results if r.status != "ok"]
    if failed:
        print(f"{len(failed)} case(s) FAILED validation", file=sys.stderr)
        return 2
    return 0


def _cmd_warmup(args) -> int:
    from ._warmup import warmup_jobs

    processes = args.processes or os.cpu_count() or 1
    t0 = time.perf_counter()
    warmup_jobs(args.area, args.backend, args.dtype or ("float32", "float64"), True, processes, load=False)
    print(f"warmup done in {time.perf_counter() - t0:.1f} s ({processes} processes); the kernels are in Numba's "
          "cache (fastkernels info shows where)")
    return 0


def _cmd_coldstart(args) -> int:
    from ._info import info
    from .bench import coldstart

    if args.list:
        for name, (area, _setup, call) in coldstart.CASES.items():
            print(f"{area:9s} {name:22s} {call.splitlines()[-1]}")
        return 0
    names = coldstart.check_names(args.case)  # before anything runs
    result = coldstart.run(names, warmup=not args.no_warmup, cached=not args.no_cached)
    print()
    meta = info(as_dict=True)
    print(f"fastkernels coldstart (numba {meta['numba']}, numpy {meta['numpy']}, {os.cpu_count()} cores)")
    print(f"machine: {meta['cpu']} ({meta['vector_isa']}, LLVM target {meta['llvm_cpu']})")
    print(coldstart.table(result))
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "fastkernels-coldstart.json")
    coldstart.to_json(result, path, meta=meta)
    print(f"\nwrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fastkernels", description="Numba kernels for neural computation.")
    sub = p.add_subparsers(dest="command", required=True)

    pi = sub.add_parser("info", help="versions, threads, SVML, CUDA and cache directory")
    pi.add_argument("--json", action="store_true", help="print JSON")
    pi.set_defaults(func=_cmd_info)

    pb = sub.add_parser("bench", help="benchmark kernels against their NumPy baselines (and peers)")
    pb.add_argument("--full", action="store_true", help="large sizes (slow); default is the quick profile")
    pb.add_argument("--filter", help="only cases whose name (or area) contains this text")
    pb.add_argument("--area", action="append", help="only this area (repeatable): nn, neurons, networks, word2vec")
    pb.add_argument("--backend", default="parallel", choices=("cpu", "parallel", "cuda"))
    pb.add_argument("--threads", type=int, default=0, help="thread count (default: numba's)")
    pb.add_argument("--out", default=".", help="directory for fastkernels-bench.json and .png")
    pb.add_argument("--no-png", action="store_true", help="skip the chart")
    pb.add_argument("--list", action="store_true", help="list the cases and exit")
    pb.set_defaults(func=_cmd_bench)

    pw = sub.add_parser("warmup", help="compile (or load from cache) every kernel ahead of time")
    pw.add_argument("--area", action="append", help="only this area (repeatable)")
    pw.add_argument("--backend", action="append", choices=("cpu", "parallel", "cuda"), default=None)
    pw.add_argument("--dtype", action="append", choices=("float32", "float64"), default=None,
                    help="only this precision (repeatable; default both)")
    pw.add_argument("--processes", type=int, default=0,
                    help="compile in this many processes (default: one per core)")
    pw.set_defaults(func=_cmd_warmup)

    pc = sub.add_parser("coldstart", help="time each area's first calls from an empty Numba cache, and a full warmup")
    pc.add_argument("--case", action="append", help="only this first call (repeatable; see --list)")
    pc.add_argument("--no-warmup", action="store_true", help="skip the full warmup (a minute or two)")
    pc.add_argument("--no-cached", action="store_true", help="skip the second run of each case on the filled cache")
    pc.add_argument("--out", default=".", help="directory for fastkernels-coldstart.json")
    pc.add_argument("--list", action="store_true", help="list the cases and exit")
    pc.set_defaults(func=_cmd_coldstart)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "backend", None) is None and args.command == "warmup":
        args.backend = ("cpu", "parallel")
    try:
        return args.func(args)
    except (ValueError, TypeError, RuntimeError) as exc:
        print(f"fastkernels {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
