"""`python -m tinygrad_mnist ...` runs the `tinygrad-mnist` command."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
