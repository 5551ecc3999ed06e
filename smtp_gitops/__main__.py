from smtp_gitops.commands.cli import main

raise SystemExit(main())
