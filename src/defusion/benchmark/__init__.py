"""``defusion bench``: fusion methods run over a benchmark's pairs and scored with one metric code.

- :mod:`defusion.benchmark.runner`: runs the methods (DeFusion, baselines, published results) and scores them.
- :mod:`defusion.benchmark.compare`: paired comparisons, image by image (Wilcoxon signed-rank test).
- :mod:`defusion.benchmark.report`: the Markdown table, the chart and side-by-side grids.
"""
