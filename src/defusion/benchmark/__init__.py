"""``defusion bench``: fusion methods run over a benchmark's pairs and scored with one metric code.

- :mod:`defusion.benchmark.runner`: runs the methods (DeFusion, baselines, published results) and scores them,
  from its parts: :mod:`~defusion.benchmark.scored_images` (reading files as the metrics score them),
  :mod:`~defusion.benchmark.methods` (the built-in methods), :mod:`~defusion.benchmark.pairing` (which
  pairs, what is left out), :mod:`~defusion.benchmark.evaluation` (one pair) and
  :mod:`~defusion.benchmark.workers` (pairs in worker processes), :mod:`~defusion.benchmark.findings`
  (notes said once per run), :mod:`~defusion.benchmark.results_csv` (the rows and their results.csv).
- :mod:`defusion.benchmark.compare`: paired comparisons, image by image (Wilcoxon signed-rank test).
- :mod:`defusion.benchmark.report`: the Markdown table, the chart and side-by-side grids.
"""
