"""Everything that touches R lives here; nothing else in pylme4 imports rpy2."""


def _skip_ld_library_path_probe() -> None:
    """Spare rpy2's import an ``Rscript`` run that pylme4 undoes anyway.

    When its library module is first imported, rpy2 runs ``Rscript -e
    'cat(Sys.getenv("LD_LIBRARY_PATH"))'`` (0.15-0.3 s, a sixth of R's whole
    start) only to prepend the answer to ``LD_LIBRARY_PATH`` once R runs.
    That cannot affect this process (the dynamic loader read the variable
    when the process began; libR is found by its full path), only children,
    and ``session._start`` removes it again so that children load their own
    libraries.  So the probe answers "nothing to add".  Done here, before any
    module of this package imports rpy2's library module; if the user
    imported it before, this changes nothing.  ``rpy2.situation`` loads
    neither R nor rpy2's C library.
    """
    import sys

    if "rpy2.rinterface_lib.openrlib" in sys.modules:
        return
    try:
        import rpy2.situation
    except ImportError:  # no rpy2: session says how to install it
        return
    if hasattr(rpy2.situation, "r_ld_library_path_from_subprocess"):
        rpy2.situation.r_ld_library_path_from_subprocess = lambda r_home: ""


_skip_ld_library_path_probe()
