"""`python -m fieldtally` is the `fieldtally` command."""

from fieldtally.cli import main

raise SystemExit(main())
