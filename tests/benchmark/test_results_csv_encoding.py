"""results.csv is UTF-8 on every OS: pairs named in any script read back as written, and a copy a
spreadsheet saved as "CSV UTF-8" (a byte-order mark first) still reads."""

from __future__ import annotations

from defusion.benchmark.results_csv import Row, read_results_csv, write_results_csv


def test_non_ascii_pair_names_read_back_and_a_byte_order_mark_is_skipped(tmp_path):
    rows = [Row("defusion", "東京", "Qabf", 0.5), Row("laplacian", "café", "EN", 6.75)]
    path = tmp_path / "results.csv"
    write_results_csv(rows, path)
    assert path.read_bytes().decode("utf-8").count("東京") == 1
    assert read_results_csv(path) == rows
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # as a spreadsheet saves it
    assert read_results_csv(path) == rows


def test_rows_an_earlier_run_wrote_with_a_decomposed_name_read_as_this_run_names_the_pair(tmp_path):
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "café")
    path = tmp_path / "results.csv"
    write_results_csv([Row("average", decomposed, "EN", 6.5)], path)
    assert read_results_csv(path) == [Row("average", unicodedata.normalize("NFC", "café"), "EN", 6.5)]
