"""``python -m benchmarks.pipeline``: see the package's docstring."""

from benchmarks.pipeline.cli import main

raise SystemExit(main())
