"""``python -m mediajobs.worker``: the same as ``mediajobs worker``."""

from mediajobs.worker.start import main

raise SystemExit(main())
