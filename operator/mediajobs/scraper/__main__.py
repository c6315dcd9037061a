from mediajobs.scraper.main import main

raise SystemExit(main())
