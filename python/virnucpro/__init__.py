"""python -m virnucpro: runs the virnucpro binary with the same arguments (see __main__)."""
__version__ = "0.1.0"
