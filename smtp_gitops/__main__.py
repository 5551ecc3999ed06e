from smtp_gitops.cli import main

raise SystemExit(main())
