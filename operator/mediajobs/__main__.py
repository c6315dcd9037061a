"""`python -m mediajobs` is the `mediajobs` command."""

from mediajobs.cli import main

raise SystemExit(main())
