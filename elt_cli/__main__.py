from elt_cli.cli import main

main()
