from orchestration.sample_data.cli import main

raise SystemExit(main())
