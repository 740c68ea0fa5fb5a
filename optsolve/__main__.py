"""``python -m optsolve ...`` is the same as the ``optsolve`` console script."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
