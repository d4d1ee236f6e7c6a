import sys

from xlir.cli.main import main

sys.exit(main())
