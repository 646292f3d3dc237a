"""Studies: multi-stage experiments built on the correlate pipeline (``bnbench study ...``)."""
