"""ProgressLog: rate-limited progress lines with done/total, percent, rate and ETA."""

from __future__ import annotations

import re

from lexi_pipelines.documents.progress import ProgressLog

LINE = re.compile(
    r"^(?P<what>\w+): (?P<done>\d+)/(?P<total>\d+) \((?P<percent>[\d.]+)%\), "
    r"(?P<rate>[\d.]+) docs/s, ETA (?P<eta>\d+s|unknown)$"
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(total: int, interval: float = 5.0) -> tuple[ProgressLog, FakeClock, list[str]]:
    clock = FakeClock()
    lines: list[str] = []
    return ProgressLog("extracted", total, lines.append, interval, clock), clock, lines


def test_emits_at_most_once_per_interval() -> None:
    log, clock, lines = make(total=1000)
    for _ in range(79):  # 79 documents in 4.9375 s: no line yet
        clock.now += 0.0625
        log.advance()
    assert lines == []
    clock.now += 0.0625  # exactly 5 s since the start
    log.advance()
    assert len(lines) == 1
    for _ in range(79):  # within the next interval: still one line
        clock.now += 0.0625
        log.advance()
    assert len(lines) == 1
    clock.now += 0.0625
    log.advance()
    assert len(lines) == 2
    assert lines[0].startswith("extracted: 80/1000 (8.0%), 16.0 docs/s, ETA ")
    assert lines[1].startswith("extracted: 160/1000 (16.0%), 16.0 docs/s, ETA ")


def test_line_content() -> None:
    log, clock, lines = make(total=200)
    clock.now += 10.0
    log.advance(50)
    assert lines == ["extracted: 50/200 (25.0%), 5.0 docs/s, ETA 30s"]
    match = LINE.match(lines[0])
    assert match is not None
    assert match["done"] == "50" and match["total"] == "200"


def test_line_on_demand() -> None:
    log, clock, _lines = make(total=3)
    assert log.line() == "extracted: 0/3 (0.0%), 0.0 docs/s, ETA unknown"
    clock.now += 2.0
    log.done = 1
    assert log.line() == "extracted: 1/3 (33.3%), 0.5 docs/s, ETA 4s"
    assert log.line(now=clock.now + 2.0) == "extracted: 1/3 (33.3%), 0.2 docs/s, ETA 8s"


def test_no_line_once_complete() -> None:
    log, clock, lines = make(total=10)
    for _ in range(9):
        clock.now += 1.0
        log.advance()
    count = len(lines)
    assert count >= 1
    clock.now += 100.0
    log.advance()  # the tenth: done
    assert len(lines) == count
    clock.now += 100.0
    log.advance()  # beyond the total (a retry counted twice): still silent
    assert len(lines) == count


def test_every_line_parses_and_progresses() -> None:
    log, clock, lines = make(total=500, interval=1.0)
    for _ in range(499):
        clock.now += 0.1
        log.advance()
    assert 40 <= len(lines) <= 50
    done = [int(m["done"]) for m in map(LINE.match, lines) if m is not None]
    assert len(done) == len(lines)
    assert done == sorted(done) and len(set(done)) == len(done)
    assert all(m is not None and m["rate"] == "10.0" for m in map(LINE.match, lines))


def test_zero_total() -> None:
    log, clock, lines = make(total=0)
    clock.now += 60.0
    log.advance(0)
    assert lines == []
    assert "0/0 (100.0%)" in log.line()


def test_interval_zero_emits_every_step_but_the_last() -> None:
    log, clock, lines = make(total=3, interval=0.0)
    for _ in range(3):
        clock.now += 1.0
        log.advance()
    assert [line.split(" (")[0] for line in lines] == ["extracted: 1/3", "extracted: 2/3"]
