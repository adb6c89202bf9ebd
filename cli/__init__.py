"""The ``goalpath`` command line."""
