"""``defusion train --threads N``: PyTorch's CPU threads for the training steps, as ``defusion fuse
--threads``. A newcomer's audit: on a busy 2-core machine the default threads beside the data workers
trained 10x slower than one thread, and the command had no way to say so."""

from __future__ import annotations

import torch

from defusion.cli.main import main

CLI_TINY = ["--model", "defusion-tiny", "--batch-size", "2", "--crop", "32", "--workers", "0", "--no-progress",
            "--max-steps", "1", "--device", "cpu"]


def test_the_steps_run_on_the_threads_given_and_the_process_keeps_its_own(images, tmp_path, monkeypatch):
    from defusion.training import trainer

    seen = []
    real = trainer.train

    def counting(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer, "train", counting)
    before = torch.get_num_threads()
    wanted = 1 if before != 1 else 2
    assert main(["train", "--data", str(images), "--out", str(tmp_path / "run"), "--threads", str(wanted),
                 *CLI_TINY]) == 0
    assert seen == [wanted] and torch.get_num_threads() == before
    assert main(["train", "--data", str(images), "--out", str(tmp_path / "run2"), *CLI_TINY]) == 0
    assert seen[-1] == before  # not given: PyTorch's own


def test_no_threads_is_refused_in_one_line(images, tmp_path, capsys):
    try:
        main(["train", "--data", str(images), "--out", str(tmp_path / "run"), "--threads", "0", *CLI_TINY])
    except SystemExit as exc:
        assert exc.code == 2
    assert "--threads: must be" in capsys.readouterr().err
