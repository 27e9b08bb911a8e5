from gplopt.cli import main

main()
