"""Progress that reads well in a log (``defusion.io.progress``): tqdm's bar on a terminal only; anywhere
else (a file, a pipe, a scheduler's log) whole lines, no more than one each LINE_SECONDS and each
LINE_FRACTION of the work, and the last; disabled, nothing at all."""

from __future__ import annotations

import io
import itertools

from tqdm import tqdm

from defusion.io.progress import LINE_FRACTION, LINE_SECONDS, LogProgress, is_terminal, progress_bar


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _clock(step: float):
    """A clock that moves ``step`` seconds at each reading."""
    ticks = itertools.count()
    return lambda: next(ticks) * step


def test_a_terminal_gets_tqdm_and_anything_else_plain_lines():
    terminal, log = FakeTerminal(), io.StringIO()
    bar = progress_bar(total=3, desc="fusing", unit="pair", file=terminal)
    assert isinstance(bar, tqdm)
    bar.close()
    assert "\r" in terminal.getvalue()  # tqdm's redraws, which a terminal shows as one line
    plain = progress_bar(total=3, desc="fusing", unit="pair", file=log)
    assert isinstance(plain, LogProgress)
    plain.update(3)
    plain.close()
    assert log.getvalue().startswith("fusing: 3/3 pairs (100%), ") and "\r" not in log.getvalue()


def test_disabled_says_nothing_wherever_it_goes():
    for stream in (FakeTerminal(), io.StringIO()):
        for _ in progress_bar(range(5), desc="fusing", disable=True, file=stream):
            pass
        assert stream.getvalue() == ""


def test_a_long_job_in_a_log_has_a_bounded_number_of_whole_lines():
    log = io.StringIO()
    bar = LogProgress(range(1000), desc="fusing", unit="pair", file=log, clock=_clock(1.0))  # 1000 s in all
    for _ in bar:
        pass
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert len(lines) <= round(1 / LINE_FRACTION) + 1, lines
    assert lines[-1].startswith("fusing: 1000/1000 pairs (100%), ") and "left" not in lines[-1]
    assert lines[0] == "fusing: 100/1000 pairs (10%), 100 s elapsed, about 15 min left"


def test_a_fast_job_says_its_last_count_only():
    """A line no more often than LINE_SECONDS: 40 pairs in 20 s say one line, at the end."""
    log = io.StringIO()
    with LogProgress(total=40, desc="fusing", unit="pair", file=log, clock=_clock(0.5)) as bar:
        for _ in range(40):
            bar.update()
    assert log.getvalue().splitlines() == ["fusing: 40/40 pairs (100%), 20 s elapsed"]


def test_without_a_total_lines_come_by_time():
    log = io.StringIO()
    bar = LogProgress(iter(range(10)), desc="benchmark", unit="pair", file=log, clock=_clock(LINE_SECONDS / 2))
    list(bar)
    lines = log.getvalue().splitlines()
    assert lines[0] == "benchmark: 2 pairs, 30 s elapsed" and lines[-1].startswith("benchmark: 10 pairs, ")
    assert len(lines) == 5  # at 2, 4, 6, 8 and 10 of them: the last said, closing says nothing more


def test_a_closed_bar_says_where_it_stopped_once_and_a_nested_one_nothing():
    """An interrupt closes the bar: the count it reached is the log's last line; a bar under another's
    (leave=False, a fusion's tiles in a folder run) is cleared as tqdm clears it."""
    log = io.StringIO()
    bar = LogProgress(total=40, desc="fusing", unit="pair", file=log, clock=_clock(0.1))
    bar.update(12)
    bar.close()
    bar.close()
    assert log.getvalue().splitlines() == ["fusing: 12/40 pairs (30%), 0 s elapsed"]
    nested = LogProgress(total=8, desc="tiles", unit="tile", file=log, leave=False, clock=_clock(0.1))
    nested.update(3)
    nested.close()
    assert log.getvalue().count("\n") == 1


def test_the_postfix_goes_at_the_end_of_the_line():
    """A training run's loss, set with tqdm's set_postfix, is in its log's lines."""
    log = io.StringIO()
    bar = LogProgress(total=4, desc="training", unit="step", file=log, initial=2, clock=_clock(1.0))
    bar.set_postfix(loss="0.1234", img_s="5.0", skipped=0)
    bar.update(2)
    assert log.getvalue() == "training: 4/4 steps (100%), 1 s elapsed, loss=0.1234, img_s=5.0, skipped=0\n"


def test_a_closed_or_odd_stream_is_no_terminal():
    closed = io.StringIO()
    closed.close()
    assert not is_terminal(closed) and not is_terminal(object()) and is_terminal(FakeTerminal())


def test_a_long_job_says_a_line_every_few_minutes_even_under_a_tenth_of_its_work():
    """10,000 steps of 1 s: a tenth is 17 minutes; a log still moves every QUIET_SECONDS."""
    import io as text_io

    from defusion.io.progress import QUIET_SECONDS, LogProgress

    now = iter(range(0, 100_000))
    log = text_io.StringIO()
    with LogProgress(total=10_000, desc="training", unit="step", file=log, clock=lambda: next(now)) as bar:
        for _ in range(int(3 * QUIET_SECONDS)):
            bar.update()
    lines = log.getvalue().splitlines()
    assert len(lines) == 3, lines  # every QUIET_SECONDS (the last count among them: none more at close)
    assert lines[0].startswith("training: 300/10000 steps (3%)")
