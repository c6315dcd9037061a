"""``python -m mediajobs.worker``: the same as ``mediajobs worker``."""

from mediajobs.worker.main import main

raise SystemExit(main())
