"""Everything that touches R lives here; nothing else in pylme4 imports rpy2."""
