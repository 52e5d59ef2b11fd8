from astro_tui.cli import main

raise SystemExit(main())
