"""Entry point for ``python -m defusion.train`` (e.g. under torchrun for DDP)."""

from defusion.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main(["train", *__import__("sys").argv[1:]]))
