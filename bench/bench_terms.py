"""Benchmark: the blocked-term check in its worst case (issue #15).

    .venv/bin/python -m bench.bench_terms [--terms 200] [--length 2000] [--repeat 3]

A server holds a whole list of terms (200 by default) built to be slow to check: patterns
filling the server's size budget (`bot.terms.syntax.MAX_PATTERNS_COST`) from the shapes that
cost RE2 the most (the backtracking examples of the issue, DFA-state explosions like
`[ab]*a[ab]{k}`, counted wildcards, negated classes), and the rest words and phrases that share
long prefixes (the automaton's worst: long runs of one word, CJK characters, marks). Each term
list is checked against prompts of `--length` characters built against it: one letter
repeated, two letters at random, letters between spaces or marks, CJK and astral characters,
compatibility characters that grow when folded, and upper case (which makes the pattern pass
run twice: on the normalized prompt and as typed).

Every check runs on freshly compiled terms (cold RE2 caches, the slowest case), as
`CompiledTerms.match` does on the request path. The figure for a (term list, prompt) pair is
the best of `--repeat` runs in the thread's CPU time, so that other processes on the machine
do not count; the wall time of that run is printed beside it. The last line is the summary:

    blocked-term check, 200 terms, 2000-char adversarial prompt: worst X ms CPU (...)
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Sequence

from bot.storage.guild_config import BlockedTerm
from bot.terms import MAX_PATTERNS_COST, TermRejected, compile_terms
from bot.terms.matcher import CompiledTerms
from bot.terms.syntax import compile_pattern

# Pattern shapes, each a function of an index so that a family fills the budget with
# distinct patterns. Every one ends in a character the prompts lack, so no pattern matches
# early and each prompt is read to its end.
PATTERN_FAMILIES: dict[str, Callable[[int], str]] = {
    "backtracking": lambda i: (
        [r"(a|aa)+$", r"(a|a)*b", r"(a?){28}a{28}", r"\w*\w*\w*\w*\w*x"][i % 4]
        + ("" if i < 4 else f"q{i}")
    ),
    "dfa-states": lambda i: f"[ab]*{'ab'[i % 2]}[ab]{{{10 + i % 40}}}z{i}",
    "wildcards": lambda i: f".*a.{{{5 + i % 25}}}z{i}",
    "counted": lambda i: f"(.{{0,{2 + i % 6}}}a){{{2 + i % 4}}}z{i}",
    "negated": lambda i: f"[^x]*a[^x]{{{5 + i % 20}}}z{i}",
    "han": lambda i: f"\\p{{Han}}*猫\\p{{Han}}{{{1 + i % 2}}}z{i}",
    "small": lambda i: f"(a|b|c)*[abc]{{{3 + i % 5}}}q{i}",
}


def fill_patterns(shape: Callable[[int], str]) -> list[BlockedTerm]:
    """As many distinct patterns of one shape as the server's budget admits."""
    chosen: list[BlockedTerm] = []
    total = 0
    misses = 0  # in a row: the budget is as full as this shape can make it
    for i in range(1000):
        body = shape(i)
        try:
            cost = compile_pattern(body)[1]
        except TermRejected:
            cost = MAX_PATTERNS_COST + 1
        if total + cost > MAX_PATTERNS_COST:
            misses += 1
            if misses == 50:
                break
            continue
        misses = 0
        total += cost
        chosen.append(BlockedTerm(f"/{body}/", is_pattern=True, id=len(chosen) + 1))
    return chosen


def slow_words(count: int, start_id: int = 1000) -> list[BlockedTerm]:
    """Words and phrases sharing long prefixes, in Latin, with marks, and CJK."""
    shapes = [  # each at most MAX_TERM_LENGTH (100) characters
        lambda i: "a " * 47 + f"b{i}",
        lambda i: "a * " * 23 + f"b{i}",
        lambda i: "猫" * 96 + f"{i}",
        lambda i: "a." * 47 + f"{i}",
    ]
    return [BlockedTerm(shapes[i % 4](i), id=start_id + i) for i in range(count)]


def adversarial_terms(count: int = 200) -> dict[str, tuple[BlockedTerm, ...]]:
    """Term lists of `count` terms: each pattern family plus slow words to fill the list."""
    lists = {}
    for name, shape in PATTERN_FAMILIES.items():
        patterns = fill_patterns(shape)
        lists[name] = tuple(slow_words(max(0, count - len(patterns))) + patterns)
    lists["words only"] = tuple(slow_words(count))
    return lists


def adversarial_prompts(length: int = 2000, seed: int = 3) -> dict[str, str]:
    """Prompts of `length` characters built against the term lists above."""
    rng = random.Random(seed)

    def pick(chars: str) -> str:
        return "".join(rng.choice(chars) for _ in range(length))

    return {
        "a": "a" * length,
        "ab": pick("ab"),
        "AB": pick("AB"),
        "a a": "a " * (length // 2),
        "a*": "a*" * (length // 2),
        "a * ": "a * " * (length // 4),
        "a.": "a." * (length // 2),
        "mixed": pick("abcdefghijklmnopqrstuvwxyz 猫é"),
        "a猫": pick("a猫"),
        "A猫": pick("A猫"),
        "猫": "猫" * length,
        "astral": "\U00020000" * length,
        "aax": pick("aaaaaaaaax"),
        "folds long": "\u3307" * length,  # SQUARE ESUKUUDO: five kana when folded
        "folds 4": "\u2474" * length,  # PARENTHESIZED DIGIT ONE: "(1)"
    }


def measure(
    terms: tuple[BlockedTerm, ...], prompt: str, repeat: int
) -> tuple[float, float, CompiledTerms[BlockedTerm]]:
    """(CPU seconds, wall seconds) of the best of `repeat` checks, each on fresh terms."""
    best = (float("inf"), float("inf"))
    compiled: CompiledTerms[BlockedTerm] | None = None
    for _ in range(repeat):
        compiled = compile_terms.__wrapped__(terms)
        cpu, wall = time.thread_time(), time.perf_counter()
        compiled.match(prompt)
        best = min(best, (time.thread_time() - cpu, time.perf_counter() - wall))
    assert compiled is not None
    return best[0], best[1], compiled


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--terms", type=int, default=200, help="terms in the server (200)")
    parser.add_argument("--length", type=int, default=2000, help="prompt characters (2000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per pair; the best counts")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    prompts = adversarial_prompts(args.length)
    print(f"{'term list':<13} {'patterns':>8} {'worst prompt':<12} {'CPU ms':>7} {'wall ms':>8}")
    worst: tuple[float, float, str, str] = (0.0, 0.0, "", "")
    every: list[float] = []
    for name, terms in adversarial_terms(args.terms).items():
        start = time.perf_counter()
        compiled = compile_terms.__wrapped__(terms)
        compile_ms = (time.perf_counter() - start) * 1e3
        assert not compiled.skipped, "a benchmark term was skipped"
        row: tuple[float, float, str] = (0.0, 0.0, "")
        for label, prompt in prompts.items():
            cpu, wall, _ = measure(terms, prompt, args.repeat)
            every.append(cpu)
            row = max(row, (cpu, wall, label))
        patterns = sum(t.is_pattern for t in terms)
        print(
            f"{name:<13} {patterns:>8} {row[2]:<12} {row[0] * 1e3:>7.1f} {row[1] * 1e3:>8.1f}"
            f"   (compiled in {compile_ms:.0f} ms)"
        )
        worst = max(worst, (row[0], row[1], name, row[2]))
    print(
        f"blocked-term check, {args.terms} terms, {args.length}-char adversarial prompt: "
        f"worst {worst[0] * 1e3:.1f} ms CPU ({worst[1] * 1e3:.1f} ms wall; term list "
        f"{worst[2]!r}, prompt {worst[3]!r}); median over all pairs "
        f"{statistics.median(every) * 1e3:.2f} ms"
    )


if __name__ == "__main__":
    main()
