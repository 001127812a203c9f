"""summary.tex: the benchmark's table in LaTeX for a paper (booktabs), methods by mean rank, best in
bold and second underlined, each column to its own decimals, with the notes under it."""

from __future__ import annotations

from defusion.benchmark.compare import higher_is_better
from defusion.benchmark.report.captions import (FEWER_PAIRS_CAUSES, FEWER_PAIRS_MARK, NO_RANK, RANK_RULE,
                                                coverage_notes, fewer_pairs_rule, pairs_phrase, rescaled_note)
from defusion.benchmark.report.means import fewer_pairs, mean_table, std_table
from defusion.benchmark.report.number_format import column_decimals, latex_number, latex_shown, latex_std
from defusion.benchmark.report.ranks import ranked_order, table_ranks, unranked
from defusion.benchmark.results_csv import Row

#: What the caption says the cells hold, by ``std``, before the number of pairs.
_LATEX_CELLS = {False: "mean over", True: r"mean $\pm$ standard deviation over"}

#: LaTeX's special characters in running text and what prints them.
_LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                   "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                   "|": r"\textbar{}", FEWER_PAIRS_MARK: r"$^\dagger$", NO_RANK: "---"}


def _latex_escape(text: str) -> str:
    r"""``text`` as LaTeX prints it, every special character escaped in one pass.

    Example:
        >>> print(_latex_escape(r"a_b & 100% {x} \ ~^|"))
        a\_b \& 100\% \{x\} \textbackslash{} \textasciitilde{}\textasciicircum{}\textbar{}
    """
    return "".join(_LATEX_SPECIALS.get(char, char) for char in text)


def summary_latex(rows: list[Row], title: str = "Benchmark", sources: tuple[str, str] | None = None,
                  std: bool = False) -> str:
    """The summary as a LaTeX table (booktabs, and graphicx for its \\resizebox): methods by mean
    rank, in a column as in summary.md (:data:`NO_RANK` for a method with results missing, :func:`unranked`),
    best **bold**, second underlined (both by the value as printed, :func:`latex_shown`), each column to
    four significant digits (a column of values under 0.001 in scientific notation, :func:`column_decimals`,
    and a value that would show fewer than
    :data:`~defusion.benchmark.report.number_format.LATEX_MIN_DIGITS` at its column's decimals,
    :func:`latex_number`);
    the caption gives the number of pairs and, where given, ``sources`` (the first and second sources'
    folders); ``std``: each mean followed by ``$\\pm$`` its standard deviation over pairs
    (:func:`std_table`), to the column's decimals; paste it into a paper."""
    methods, metrics, means = mean_table(rows)
    stds = std_table(rows) if std else {}
    ranks = table_ranks(rows, methods, metrics, means)
    fewer = fewer_pairs(rows)
    order = ranked_order(methods, ranks)
    images = {r.image for r in rows}
    header = " & ".join(f"{_latex_escape(m)}$\\{'uparrow' if higher_is_better(m) else 'downarrow'}$"
                        for m in metrics)
    rules = _latex_escape(f"{RANK_RULE}{rescaled_note(metrics)})."
                          f"{fewer_pairs_rule(fewer, 'best or second', unranked(rows))}")
    lines = ["% written by defusion bench; needs \\usepackage{booktabs} and \\usepackage{graphicx} (\\resizebox)",
             "\\begin{table}[t]", "\\centering",
             f"\\caption{{{_latex_escape(title)}: {_LATEX_CELLS[std]} "
             f"{_latex_escape(pairs_phrase(len(images), sources, title))}; "
             f"best in bold, second underlined; {rules}}}",
             "\\resizebox{\\linewidth}{!}{%",
             f"\\begin{{tabular}}{{lr{'r' * len(metrics)}}}", "\\toprule", f"Method & Rank & {header} \\\\",
             "\\midrule"]
    cells: dict[str, list[str]] = {m: [] for m in order}
    for metric in metrics:
        column = {m: means[(m, metric)] for m in order if (m, metric) in means}
        places = column_decimals(list(column.values()))
        eligible = [latex_shown(v, places) for m, v in column.items() if (m, metric) not in fewer]
        ranked = sorted(set(eligible), reverse=higher_is_better(metric))
        for m in order:
            if m not in column:
                cells[m].append("--")
                continue
            text = latex_number(column[m], places)
            shown = latex_shown(column[m], places)
            if (m, metric) in fewer:
                text += _latex_escape(FEWER_PAIRS_MARK)
            elif len(eligible) > 1 and shown == ranked[0]:
                text = f"\\textbf{{{text}}}"
            elif len(eligible) > 2 and len(ranked) > 1 and shown == ranked[1]:  # second of three or more
                text = f"\\underline{{{text}}}"
            if (m, metric) in stds:
                text += f" $\\pm$ {latex_std(stds[(m, metric)], places, column[m])}"
            cells[m].append(text)
    for m in order:
        rank = f"{ranks[m]:.2f}" if m in ranks else _latex_escape(NO_RANK)
        lines.append(f"{_latex_escape(m)} & {rank} & " + " & ".join(cells[m]) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}}"]
    notes = coverage_notes(rows)
    if notes:
        lines.append(f"\\par\\footnotesize Means over fewer pairs ({FEWER_PAIRS_CAUSES}): "
                     + _latex_escape("; ".join(notes)) + ".")
    if "SSIM" in metrics:
        lines.append("\\par\\footnotesize SSIM: SSIM(A,F)+SSIM(B,F), VIFB's convention (at most 2).")
    if "PSNR" in metrics or "RMSE" in metrics:
        lines.append("\\par\\footnotesize PSNR, RMSE: VIFB's definitions, from $\\sqrt{\\mathrm{SSE}}/(HW)$ "
                     "in place of the mean squared error (so PSNR about 53--62 dB); PSNR-standard and "
                     "RMSE-standard are the textbook ones.")
    lines.append("\\end{table}")
    return "\n".join(lines) + "\n"

