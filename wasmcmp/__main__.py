from wasmcmp.cli import main

raise SystemExit(main())
