"""python -m infragate"""

from infragate.cli import main

main()
