"""summary.md: the benchmark's table in Markdown, methods by mean rank, best in bold, with the notes
that say what a mark means and which means are over fewer pairs."""

from __future__ import annotations

from defusion.benchmark.compare import higher_is_better
from defusion.benchmark.report.captions import (FEWER_PAIRS_CAUSES, FEWER_PAIRS_MARK, NO_RANK, RANK_RULE,
                                                coverage_notes, fewer_pairs_rule, pairs_phrase, rescaled_note)
from defusion.benchmark.report.means import fewer_pairs, mean_table, std_table
from defusion.benchmark.report.number_format import MARKDOWN_DIGITS, markdown_shown, markdown_std
from defusion.benchmark.report.ranks import ranked_order, table_ranks, unranked
from defusion.benchmark.results_csv import SECONDS, Row

#: What the table's cells hold, by ``std``.
_CELLS = {False: "mean over pairs", True: "mean ± standard deviation over pairs"}


def summary_markdown(rows: list[Row], title: str = "Benchmark", sources: tuple[str, str] | None = None,
                     std: bool = False, made_with: str | None = None) -> str:
    """Mean per method and metric, best in bold (by the value as printed: means that print alike are
    both bold, as in :func:`~defusion.benchmark.report.latex_table.summary_latex`), mean rank, seconds
    per pair; ``sources``: the folders of the first and second sources, named in the caption; ``std``:
    each mean followed by ``± `` its standard deviation over pairs (:func:`std_table`; the best still by
    the mean); ``made_with``: a last line saying what made the scores (``defusion bench``'s, from its
    run.json: the build, weights and machine), so that a table read alone says which build and machine
    its scores and s/pair are of.

    Example:
        >>> rows = [Row("a", "p1", "EN", 6.0), Row("a", "p2", "EN", 7.0)]
        >>> summary_markdown(rows, "t", std=True).splitlines()[-1]
        '| a | 1.00 | 6.5 ± 0.707 |  |'
        >>> summary_markdown(rows, "t", made_with="Made with defusion 0.1.0 (code e7460ec37b45).").splitlines()[-2:]
        ['', 'Made with defusion 0.1.0 (code e7460ec37b45).']
    """
    methods, metrics, means = mean_table(rows)
    stds = std_table(rows) if std else {}
    ranks = table_ranks(rows, methods, metrics, means)
    fewer = fewer_pairs(rows)
    images = {r.image for r in rows}
    order = ranked_order(methods, ranks)
    arrows = [f"{m} {'↑' if higher_is_better(m) else '↓'}" for m in metrics]
    lines = [f"### {title}", "", f"{pairs_phrase(len(images), sources, title)}; {_CELLS[std]}; best in **bold**; "
             f"{RANK_RULE}{rescaled_note(metrics)})."
             f"{fewer_pairs_rule(fewer, 'best', unranked(rows))}", "",
             "| method | rank | " + " | ".join(arrows) + " | s/pair |",
             "|---|---|" + "---|" * len(metrics) + "---|"]
    best = {}
    for metric in metrics:
        scored = [markdown_shown(means[(m, metric)]) for m in methods
                  if (m, metric) in means and (m, metric) not in fewer]
        if len(scored) > 1:  # "best" of one method says nothing
            best[metric] = max(scored) if higher_is_better(metric) else min(scored)
    for method in order:
        cells = []
        for metric in metrics:
            v = means.get((method, metric))
            text = "" if v is None else f"{v:.{MARKDOWN_DIGITS}g}"
            if (method, metric) in fewer:
                text += FEWER_PAIRS_MARK
            elif v is not None and markdown_shown(v) == best.get(metric):
                text = f"**{text}**"
            if (method, metric) in stds:
                text += f" ± {markdown_std(stds[(method, metric)], v)}"
            cells.append(text)
        seconds = means.get((method, SECONDS))
        rank = f"{ranks[method]:.2f}" if method in ranks else NO_RANK
        lines.append(f"| {method.replace('|', chr(92) + '|')} | {rank} | "
                     + " | ".join(cells)
                     + f" | {'' if seconds is None else f'{seconds:.3g}'} |")
    notes = coverage_notes(rows)
    if notes:
        lines += ["", f"Means over fewer pairs ({FEWER_PAIRS_CAUSES}): " + "; ".join(notes)
                  + ". Compare such methods image by image (versus.md)."]
    if made_with:
        lines += ["", made_with]
    return "\n".join(lines) + "\n"
